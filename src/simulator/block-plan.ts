import { createHash } from 'node:crypto';
import type {
  SimBlock, SimCitation, SimRedactedThinkingBlock, SimStopDetails, SimTextBlock, SimThinkingBlock, SimToolUseBlock,
  SimWholeBlock,
} from './block-directive.js';
import type { SimBehaviour } from './directive.js';
import { asciiJson, splitJson } from './json-split.js';
import type { MessagesRequest } from './request.js';
import type { SignatureBook } from './signatures.js';
import { chunkEnds } from './text.js';
import type { ServerToolCounts } from './usage.js';
import { frame, makeId, type SimStopReason } from './wire.js';

/**
 * One paced content delta of a `blocks` answer. Text and thinking deltas are rendered when written
 * (`deltaFrame`, so `stamp` works); the others are ready frames. `after` holds the unpaced frames
 * that follow it (signature_delta, content_block_stop, the next blocks' starts).
 */
export interface BlockStep {
  readonly index: number;
  readonly kind: 'text_delta' | 'thinking_delta' | 'frame';
  /** The delta's text, or the whole frame for `frame`. */
  readonly value: string;
  readonly after: string[];
}

/** What a `blocks` answer sends, decided before the first byte. */
export interface BlockPlan {
  /** Frames before the first delta; the first is the first content_block_start (the ping follows it). */
  readonly lead: readonly string[];
  readonly steps: readonly BlockStep[];
  /** Frames after the last delta (its block's stop, trailing whole blocks). */
  readonly tail: readonly string[];
  /** The blocks as the client ends up with them (tool inputs as objects), for the non-streaming answer. */
  readonly content: readonly Record<string, unknown>[];
  readonly stopReason: SimStopReason;
  readonly stopSequence: string | null;
  readonly stopDetails: SimStopDetails | null;
  /** Output tokens each delta counts for. */
  readonly tokensPerDelta: number;
  /** Completed server_tool_use blocks by name; null when the answer has none. */
  readonly serverTools: ServerToolCounts | null;
}

type Event = { frame: string } | { step: Omit<BlockStep, 'after'> };

/**
 * Plans a `blocks` answer. Every content delta (text, thinking, input_json, citations) costs
 * `tokens_per_delta`; once the next one no longer fits in `max_tokens` the block being streamed is
 * closed where it stands (a thinking block then gets no signature, a tool input stays truncated), no
 * further block starts, and the stop reason is `max_tokens`.
 */
export function planBlocks(
  request: MessagesRequest, behaviour: SimBehaviour, blocks: readonly SimBlock[], seed: number, book: SignatureBook,
): BlockPlan {
  const perDelta = behaviour.tokens_per_delta;
  let left = request.maxTokens;
  let cut = false;
  const events: Event[] = [];
  const content: Record<string, unknown>[] = [];
  const server = { web_search_requests: 0, web_fetch_requests: 0 };
  /** Queues a paced delta if the budget allows it; false (and the output is cut) when it does not. */
  const delta = (index: number, kind: BlockStep['kind'], value: string): boolean => {
    if (left < perDelta) {
      cut = true;
      return false;
    }
    left -= perDelta;
    events.push({ step: { index, kind, value } });
    return true;
  };
  const raw = (index: number, d: Record<string, unknown>) => frame({ type: 'content_block_delta', index, delta: d });
  const start = (index: number, block: Record<string, unknown>) =>
    events.push({ frame: frame({ type: 'content_block_start', index, content_block: block }) });
  const stop = (index: number) => events.push({ frame: frame({ type: 'content_block_stop', index }) });

  for (const [index, block] of blocks.entries()) {
    if (left < perDelta) {
      cut = true;
      break;
    }
    switch (block.type) {
      case 'text': {
        const { text, citations } = block as SimTextBlock;
        const ends = chunkEnds(text, behaviour.chunk);
        const placed = placeCitations(text, ends, citations ?? []);
        start(index, citations === undefined ? { type: 'text', text: '' } : { type: 'text', text: '', citations: [] });
        let sent = 0;
        const sentCitations: SimCitation[] = [];
        /** Sends the citations placed after delta `after`; false when the budget ran out. */
        const cite = (after: number): boolean => {
          for (const [at, citation] of placed) {
            if (at !== after) continue;
            if (!delta(index, 'frame', raw(index, { type: 'citations_delta', citation }))) return false;
            sentCitations.push(citation);
          }
          return true;
        };
        if (cite(-1)) {
          for (const [i, end] of ends.entries()) {
            if (!delta(index, 'text_delta', text.slice(sent, end))) break;
            sent = end;
            if (!cite(i)) break;
          }
        }
        stop(index);
        content.push({ type: 'text', text: text.slice(0, sent), ...(citations === undefined ? {} : { citations: sentCitations }) });
        break;
      }
      case 'thinking': {
        const { thinking, signature } = block as SimThinkingBlock;
        start(index, { type: 'thinking', thinking: '', signature: '' });
        let sent = 0;
        for (const end of chunkEnds(thinking, behaviour.chunk)) {
          if (!delta(index, 'thinking_delta', thinking.slice(sent, end))) break;
          sent = end;
        }
        const complete = sent === thinking.length && !cut;
        const issued = complete ? book.signThinking(thinking, signature) : '';
        if (complete) events.push({ frame: raw(index, { type: 'signature_delta', signature: issued }) });
        stop(index);
        content.push({ type: 'thinking', thinking: thinking.slice(0, sent), signature: issued });
        break;
      }
      case 'redacted_thinking': {
        const given = (block as SimRedactedThinkingBlock).data;
        const whole = { type: 'redacted_thinking', data: book.redactedData(`${seed}:${index}`, given) };
        start(index, whole);
        stop(index);
        content.push(whole);
        break;
      }
      case 'tool_use':
      case 'server_tool_use': {
        const tool = block as SimToolUseBlock;
        const id = tool.id ?? makeId(tool.type === 'tool_use' ? 'toolu_01' : 'srvtoolu_01');
        const caller = tool.caller ?? { type: 'direct' };
        start(index, { type: tool.type, id, name: tool.name, input: {}, caller });
        let json = '';
        const full = asciiJson(tool.input);
        // Seeded by the input itself, so streaming and non-streaming answers cut (and count) alike.
        const splitSeed = createHash('sha256').update(`${index}:${full}`).digest().readUInt32BE(0);
        for (const piece of splitJson(full, splitSeed, tool.split)) {
          if (!delta(index, 'frame', raw(index, { type: 'input_json_delta', partial_json: piece }))) break;
          json += piece;
        }
        stop(index);
        const complete = !cut;
        if (complete && tool.type === 'server_tool_use' && tool.name === 'web_search') server.web_search_requests++;
        if (complete && tool.type === 'server_tool_use' && tool.name === 'web_fetch') server.web_fetch_requests++;
        content.push({ type: tool.type, id, name: tool.name, input: complete ? tool.input : lenientParse(json), caller });
        break;
      }
      default: {
        const whole = block as SimWholeBlock;
        start(index, whole);
        stop(index);
        content.push(whole);
      }
    }
    if (cut) break;
  }

  const stopReason: SimStopReason = cut
    ? 'max_tokens'
    : (behaviour.stop_reason ?? (blocks.at(-1)?.type === 'tool_use' ? 'tool_use' : 'end_turn'));
  return {
    ...arrange(events),
    content,
    stopReason,
    stopSequence: stopReason === 'stop_sequence' ? (request.stopSequences[0] ?? null) : null,
    stopDetails: cut ? null : behaviour.stop_details,
    tokensPerDelta: perDelta,
    serverTools: blocks.some((b) => b.type === 'server_tool_use') ? server : null,
  };
}

/** Splits the event list into the frames before the first delta, the deltas with what follows each, and the tail. */
function arrange(events: readonly Event[]): Pick<BlockPlan, 'lead' | 'steps' | 'tail'> {
  const lead: string[] = [];
  const steps: BlockStep[] = [];
  let pending = lead;
  for (const e of events) {
    if ('frame' in e) {
      pending.push(e.frame);
      continue;
    }
    const step: BlockStep = { ...e.step, after: [] };
    steps.push(step);
    pending = step.after;
  }
  const last = steps.at(-1);
  if (last === undefined) return { lead, steps, tail: [] };
  const tail = last.after.splice(0);
  return { lead, steps, tail };
}

/**
 * Where each citation goes: `[after delta i, citation]` in order, i = -1 before the first delta. A
 * citation whose `cited_text` occurs in the text (after the previous one) follows the delta that ends
 * it, as the API interleaves them; the others are spread over the deltas, the last after the last delta.
 */
function placeCitations(text: string, ends: readonly number[], citations: readonly SimCitation[]): [number, SimCitation][] {
  let from = 0;
  let floor = -1;
  return citations.map((citation, k): [number, SimCitation] => {
    const cited = typeof citation['cited_text'] === 'string' ? citation['cited_text'] : '';
    const at = cited === '' ? -1 : text.indexOf(cited, from);
    let after = ends.length === 0 ? -1 : Math.ceil(((k + 1) * ends.length) / citations.length) - 1;
    if (at !== -1) {
      from = at + cited.length;
      after = ends.findIndex((end) => end >= from);
    }
    floor = Math.max(floor, after);
    return [floor, citation];
  });
}

/** A truncated tool input as the API's non-streaming answer would hold it: parsed if it parses, else `{}`. */
function lenientParse(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return {};
  }
}
