import type { BlockPlan } from './block-plan.js';
import type { SimBehaviour } from './directive.js';
import { formatStamp } from './stamp.js';
import type { StreamScript } from './stream-response.js';
import type { MessageHead } from './text-script.js';
import { deltaUsage, startUsage } from './usage.js';
import { deltaFrame, frame, fullMessageObject } from './wire.js';

/**
 * The script of a `blocks` answer. Every content delta is a paced step: `fault_after` (default half
 * of them) and `deltasSent` count text, thinking, input_json and citations deltas alike, so a fault
 * can land inside a tool input or a thinking block. `textSent` collects the text deltas.
 */
export function createBlockScript(plan: BlockPlan, behaviour: SimBehaviour, head: MessageHead): StreamScript {
  const steps = plan.steps;
  return {
    steps: steps.length,
    faultStep: (faultAfter) => Math.min(faultAfter ?? Math.floor(steps.length / 2), steps.length),
    open(out, ping) {
      const message = fullMessageObject({
        id: head.id, model: head.model, content: [], stopReason: null, stopSequence: null, stopDetails: null,
        usage: startUsage(head.input),
      });
      out.write(frame({ type: 'message_start', message }));
      const [first, ...rest] = plan.lead;
      if (first !== undefined) out.write(first);
      out.write(ping);
      for (const f of rest) out.write(f);
    },
    step(i, out, record) {
      const step = steps[i];
      if (step === undefined) return;
      if (step.kind === 'text_delta') {
        const written = behaviour.stamp ? step.value + formatStamp() : step.value;
        out.write(deltaFrame(step.index, 'text_delta', written));
        record.textSent += written;
      } else if (step.kind === 'thinking_delta') {
        out.write(deltaFrame(step.index, 'thinking_delta', step.value));
      } else {
        out.write(step.value);
      }
      for (const f of step.after) out.write(f);
      record.deltasSent = i + 1;
    },
    finish(out, record) {
      for (const f of plan.tail) out.write(f);
      out.write(frame({
        type: 'message_delta',
        delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence, stop_details: plan.stopDetails },
        usage: deltaUsage(head.input, record.deltasSent * plan.tokensPerDelta, plan.serverTools),
      }));
      out.write(frame({ type: 'message_stop' }));
    },
  };
}
