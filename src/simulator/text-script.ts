import type { SimBehaviour } from './directive.js';
import type { FrameWriter } from './frame-writer.js';
import { outputTokens, type OutputPlan } from './plan.js';
import { formatStamp } from './stamp.js';
import type { StreamScript } from './stream-response.js';
import { deltaUsage, startUsage, type InputUsage } from './usage.js';
import { deltaFrame, frame, fullMessageObject, messageObject } from './wire.js';

/** The Message a stream announces in message_start. */
export interface MessageHead {
  /** `msg_…` */
  readonly id: string;
  /** The request's model, echoed. */
  readonly model: string;
  /** The prompt's tokens, split by the prompt cache. */
  readonly input: InputUsage;
  /**
   * Report every usage counter (and `stop_details`). False keeps the plain answer's original shape,
   * `{input_tokens, output_tokens}` then `{output_tokens}`: answers without `blocks` or cache breakpoints.
   */
  readonly full: boolean;
}

/**
 * The script of a plain answer: an optional thinking block at index 0 (thinking deltas, then its
 * signature), then the text block. `fault_after` counts text deltas only, and `deltasSent` too.
 * This is the hot path of the benchmark: one `deltaFrame` and one slice per text delta.
 */
export function createTextScript(plan: OutputPlan, behaviour: SimBehaviour, head: MessageHead): StreamScript {
  const thinkingCount = plan.thinking.length;
  const textCount = plan.ends.length;
  const textIndex = plan.signature !== '' ? 1 : 0;
  const closeThinking = (out: FrameWriter): void => {
    out.write(frame({
      type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: plan.signature },
    }));
    out.write(frame({ type: 'content_block_stop', index: 0 }));
    out.write(blockStart(1, 'text'));
  };
  return {
    steps: thinkingCount + textCount,
    faultStep: (faultAfter) => thinkingCount + Math.min(faultAfter ?? Math.floor(textCount / 2), textCount),
    open(out, ping) {
      const message = head.full
        ? fullMessageObject({
          id: head.id, model: head.model, content: [], stopReason: null, stopSequence: null, stopDetails: null,
          usage: startUsage(head.input),
        })
        : messageObject({
          id: head.id, model: head.model, content: [], stopReason: null, stopSequence: null,
          inputTokens: head.input.input, outputTokens: 1,
        });
      out.write(frame({ type: 'message_start', message }));
      out.write(blockStart(0, textIndex === 1 ? 'thinking' : 'text'));
      out.write(ping);
      // A thinking block left without deltas (max_tokens 1) still closes before the text block.
      if (textIndex === 1 && thinkingCount === 0) closeThinking(out);
    },
    step(i, out, record) {
      if (i < thinkingCount) {
        out.write(deltaFrame(0, 'thinking_delta', plan.thinking[i] ?? ''));
        if (i + 1 === thinkingCount) closeThinking(out);
        return;
      }
      const sent = i - thinkingCount;
      const piece = plan.text.slice(plan.ends[sent - 1] ?? 0, plan.ends[sent]);
      // Stamped when written, not when due: a late timer shows up as latency, as it should.
      const written = behaviour.stamp ? piece + formatStamp() : piece;
      out.write(deltaFrame(textIndex, 'text_delta', written));
      record.deltasSent = sent + 1;
      record.textSent += written;
    },
    finish(out, record) {
      const tokens = outputTokens(plan, record.deltasSent);
      out.write(frame({ type: 'content_block_stop', index: textIndex }));
      out.write(frame(head.full
        ? {
          type: 'message_delta',
          delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence, stop_details: null },
          usage: deltaUsage(head.input, tokens, null),
        }
        : {
          type: 'message_delta',
          delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence },
          usage: { output_tokens: tokens },
        }));
      out.write(frame({ type: 'message_stop' }));
    },
  };
}

function blockStart(index: number, kind: 'text' | 'thinking'): string {
  const block = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
  return frame({ type: 'content_block_start', index, content_block: block });
}
