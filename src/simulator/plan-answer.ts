import { planBlocks } from './block-plan.js';
import { createBlockScript } from './block-script.js';
import type { SimBehaviour } from './directive.js';
import { outputTokens, planContent, planOutput } from './plan.js';
import type { MessagesRequest } from './request.js';
import type { SignatureBook } from './signatures.js';
import type { StreamScript } from './stream-response.js';
import { createTextScript, type MessageHead } from './text-script.js';
import { messageUsage } from './usage.js';
import { fullMessageObject, messageObject } from './wire.js';

/** One answer, decided before the first byte: its stream script, or the complete Message. */
export interface Answer {
  /** The script to stream it. */
  script(): StreamScript;
  /** The complete Message of a non-streaming answer. */
  message(): Record<string, unknown>;
  /** Deltas the complete answer has (as `deltasSent` counts them). */
  readonly deltas: number;
  /** Text of its text blocks (as `textSent` collects it, without stamps). */
  readonly text: string;
}

/**
 * Plans the answer: the directive's `blocks` when given (`block-plan.ts`), else the plain text with a
 * thinking block for thinking requests (`plan.ts`), whose signature is then entered in `book` so it
 * is accepted when sent back.
 */
export function planAnswer(
  request: MessagesRequest, behaviour: SimBehaviour, seed: number, head: MessageHead, book: SignatureBook,
): Answer {
  const common = { id: head.id, model: head.model };
  if (behaviour.blocks !== null) {
    const plan = planBlocks(request, behaviour, behaviour.blocks, seed, book);
    return {
      script: () => createBlockScript(plan, behaviour, head),
      message: () => fullMessageObject({
        ...common, content: plan.content, stopReason: plan.stopReason, stopSequence: plan.stopSequence,
        stopDetails: plan.stopDetails,
        usage: messageUsage(head.input, plan.steps.length * plan.tokensPerDelta, plan.serverTools),
      }),
      deltas: plan.steps.length,
      text: plan.steps.filter((s) => s.kind === 'text_delta').map((s) => s.value).join(''),
    };
  }
  const plan = planOutput(request, behaviour, seed);
  if (plan.signature !== '') book.signThinking(plan.thinking.join(''), plan.signature);
  const done = () => ({ ...common, content: planContent(plan), stopReason: plan.stopReason, stopSequence: plan.stopSequence });
  return {
    script: () => createTextScript(plan, behaviour, head),
    message: () => head.full
      ? fullMessageObject({ ...done(), stopDetails: null, usage: messageUsage(head.input, outputTokens(plan), null) })
      : messageObject({ ...done(), inputTokens: head.input.input, outputTokens: outputTokens(plan) }),
    deltas: plan.ends.length,
    text: plan.text,
  };
}
