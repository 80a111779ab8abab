import type { SimBehaviour } from './directive.js';
import type { MessagesRequest } from './request.js';
import { chunkEnds, generateMarkdown, generateText, thinkingChunks } from './text.js';
import type { SimContentBlock, SimStopReason } from './wire.js';

/** Deltas thinking requests get before the text block. */
const THINKING_DELTAS = 3;

/** What one response will contain, decided before the first byte: output, deltas, stop reason. */
export interface OutputPlan {
  /** The text the client ends up with (already cut at max_tokens or a stop sequence). */
  readonly text: string;
  /** End offset of each text delta in `text`; delta i is `text.slice(ends[i-1] ?? 0, ends[i])`. */
  readonly ends: readonly number[];
  /** Thinking deltas (empty unless thinking was requested). */
  readonly thinking: readonly string[];
  /** Signature of the thinking block (empty string without thinking). */
  readonly signature: string;
  /** end_turn, max_tokens (budget reached first) or stop_sequence. */
  readonly stopReason: SimStopReason;
  /** The request's stop sequence that matched, else null. */
  readonly stopSequence: string | null;
  /** Output tokens each text delta counts for (`tokens_per_delta`). */
  readonly tokensPerDelta: number;
}

/** Output tokens of a plan: one per thinking delta, `tokensPerDelta` per text delta. */
export function outputTokens(plan: OutputPlan, textDeltas = plan.ends.length): number {
  return plan.thinking.length + textDeltas * plan.tokensPerDelta;
}

/** The complete content blocks of a plan, for the non-streaming answer. */
export function planContent(plan: OutputPlan): SimContentBlock[] {
  const text: SimContentBlock = { type: 'text', text: plan.text };
  if (plan.thinking.length === 0 && plan.signature === '') return [text];
  return [{ type: 'thinking', thinking: plan.thinking.join(''), signature: plan.signature }, text];
}

/**
 * Builds the plan. A stop sequence wins when it is complete within the token budget (the output is
 * cut before it); otherwise the output stops when `max_tokens` is spent, thinking deltas costing one
 * token and text deltas `tokens_per_delta` each.
 */
export function planOutput(request: MessagesRequest, behaviour: SimBehaviour, seed: number): OutputPlan {
  const thinking = request.thinking ? thinkingChunks(seed, Math.min(THINKING_DELTAS, request.maxTokens - 1)) : [];
  const signature = request.thinking ? Buffer.from(`sim-signature-${seed >>> 0}`).toString('base64') : '';
  const full =
    behaviour.text ??
    (behaviour.style === 'markdown' ? generateMarkdown(seed, behaviour.tokens) : generateText(seed, behaviour.tokens, behaviour.chunk));
  const ends = chunkEnds(full, behaviour.chunk);
  const tokensPerDelta = behaviour.tokens_per_delta;
  const budget = Math.floor((request.maxTokens - thinking.length) / tokensPerDelta);
  const budgetChars = ends.length > budget ? (ends[budget - 1] ?? 0) : full.length;

  let stopAt = -1;
  let stopSequence: string | null = null;
  for (const s of request.stopSequences) {
    const at = full.indexOf(s);
    if (at !== -1 && at + s.length <= budgetChars && (stopAt === -1 || at < stopAt)) {
      stopAt = at;
      stopSequence = s;
    }
  }
  if (stopSequence !== null) {
    const cut = ends.filter((end) => end < stopAt);
    if (stopAt > (cut.at(-1) ?? 0)) cut.push(stopAt);
    const text = full.slice(0, stopAt);
    return { text, ends: cut, thinking, signature, stopReason: 'stop_sequence', stopSequence, tokensPerDelta };
  }
  if (ends.length > budget) {
    const cut = ends.slice(0, budget);
    const text = full.slice(0, budgetChars);
    return { text, ends: cut, thinking, signature, stopReason: 'max_tokens', stopSequence: null, tokensPerDelta };
  }
  return { text: full, ends, thinking, signature, stopReason: 'end_turn', stopSequence: null, tokensPerDelta };
}
