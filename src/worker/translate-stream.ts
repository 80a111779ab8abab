import type Anthropic from '@anthropic-ai/sdk';
import type { JobEventType } from '../shared/events.js';

/** Where the translator puts what it makes of the upstream's stream (the event writer). */
export interface TranslationSink {
  /** Text of the text block at `index`. */
  text(index: number, piece: string): void;
  /** Thinking text of the thinking block at `index`. */
  thinking(index: number, piece: string): void;
  /** A piece of the input JSON of the tool block at `index`. */
  toolInput(index: number, piece: string): void;
  /** A whole event (`block_start`, `citation`, `block_stop`, `block_delta`) with its JSON data. */
  event(type: JobEventType, data: string): void;
  /** Record fields (usage, stop reason…) to set with the next write. */
  fields(values: Readonly<Record<string, string | number>>): void;
}

/** Turns one attempt's raw stream events into genrelay's events. */
export interface StreamTranslator {
  translate(event: Anthropic.RawMessageStreamEvent): void;
  /** The upstream's stop reason, once `message_delta` said it. */
  readonly stopReason: string | null;
  /** `message_stop` arrived: the stream ended as the upstream meant it to. */
  readonly sawStop: boolean;
}

/** Options of {@link createStreamTranslator}. */
export interface TranslatorOptions {
  /** Called once, at the first content delta of any block. */
  readonly onFirstContent?: () => void;
}

/** Block types whose input streams as `input_json_delta` (and opens as `input: {}`). */
const toolTypes: ReadonlySet<string> = new Set(['tool_use', 'server_tool_use', 'mcp_tool_use']);

interface OpenBlock {
  readonly type: string;
  json: string;
  signature: string | undefined;
}

/**
 * The one translation from the SDK's raw stream events to genrelay's (API.md §4.1), pure: it keeps
 * each open block's state and calls the sink. Nothing the upstream sends is dropped: text, thinking
 * and its signature, tool input pieces (parsed with a strict `JSON.parse` at the block's stop, never
 * leniently), citations, blocks and deltas of types this version does not know, and every usage
 * counter. While the stream runs, each content delta counts one output token until the upstream's own
 * count (it reports output only at the start and the end) is higher, so the record's count moves.
 */
export function createStreamTranslator(sink: TranslationSink, options: TranslatorOptions = {}): StreamTranslator {
  const blocks = new Map<number, OpenBlock>();
  // Every counter the upstream reported, the latest value of each (they are cumulative, not summed).
  const usage: Record<string, unknown> = {};
  let reportedOutput = 0;
  let deltas = 0;
  let stopReason: string | null = null;
  let sawStop = false;

  const mergeUsage = (reported: object | null | undefined) => {
    for (const [key, value] of Object.entries(reported ?? {})) if (value !== null && value !== undefined) usage[key] = value;
    const { input_tokens: _input, output_tokens: _output, ...more } = usage;
    return Object.keys(more).length === 0 ? {} : { usage_more: JSON.stringify(more) };
  };
  const counted = () => {
    deltas += 1;
    if (deltas === 1) options.onFirstContent?.();
    // Fields first: the piece that follows starts a write at once when none is in flight, and the
    // count must ride in that same round trip.
    if (deltas > reportedOutput) sink.fields({ output_tokens: deltas });
  };

  const start = (index: number, block: Record<string, unknown> & { type: string }) => {
    blocks.set(index, { type: block.type, json: '', signature: undefined });
    const opened = toolTypes.has(block.type) ? withoutInput(block) : block;
    sink.event('block_start', `{"index":${index},"block":${JSON.stringify(opened)}}`);
  };
  const delta = (index: number, d: Record<string, unknown> & { type: string }) => {
    const open = blocks.get(index);
    switch (d.type) {
      case 'text_delta':
        counted();
        sink.text(index, String(d['text']));
        return;
      case 'thinking_delta':
        counted();
        sink.thinking(index, String(d['thinking']));
        return;
      case 'input_json_delta':
        counted();
        if (open !== undefined) open.json += String(d['partial_json']);
        sink.toolInput(index, String(d['partial_json']));
        return;
      case 'signature_delta':
        // The SDK replaces the signature, never appends: the last one is the block's.
        if (open !== undefined) open.signature = String(d['signature']);
        return;
      case 'citations_delta':
        sink.event('citation', `{"index":${index},"citation":${JSON.stringify(d['citation'])}}`);
        return;
      default:
        sink.event('block_delta', `{"index":${index},"delta":${JSON.stringify(d)}}`);
    }
  };
  const stop = (index: number) => {
    const open = blocks.get(index);
    blocks.delete(index);
    const type = open?.type ?? 'unknown';
    const finished: Record<string, unknown> = { type };
    if (open?.signature !== undefined) finished['signature'] = open.signature;
    if (open !== undefined && toolTypes.has(type)) {
      try {
        finished['input'] = open.json === '' ? {} : (JSON.parse(open.json) as unknown);
      } catch (err) {
        finished['input_error'] = `the tool input is not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    sink.event('block_stop', `{"index":${index},"block":${JSON.stringify(finished)}}`);
  };

  return {
    translate(event) {
      switch (event.type) {
        case 'message_start': {
          reportedOutput = event.message.usage.output_tokens;
          const more = mergeUsage(event.message.usage);
          sink.fields({ input_tokens: event.message.usage.input_tokens, output_tokens: reportedOutput, ...more });
          return;
        }
        case 'content_block_start':
          start(event.index, event.content_block as unknown as Record<string, unknown> & { type: string });
          return;
        case 'content_block_delta':
          delta(event.index, event.delta as unknown as Record<string, unknown> & { type: string });
          return;
        case 'content_block_stop':
          stop(event.index);
          return;
        case 'message_delta': {
          const d = event.delta as typeof event.delta & { stop_details?: unknown; container?: unknown };
          stopReason = d.stop_reason;
          const more = mergeUsage(event.usage);
          sink.fields({
            output_tokens: event.usage.output_tokens,
            ...(event.usage.input_tokens ? { input_tokens: event.usage.input_tokens } : {}),
            ...more,
            ...(stopReason === null ? {} : { stop_reason: stopReason, truncated: stopReason === 'max_tokens' ? 1 : 0 }),
            ...(d.stop_sequence ? { stop_sequence: d.stop_sequence } : {}),
            ...(d.stop_details ? { stop_details: JSON.stringify(d.stop_details) } : {}),
            ...(d.container ? { container: JSON.stringify(d.container) } : {}),
          });
          return;
        }
        case 'message_stop':
          sawStop = true;
          return;
        default:
          return;
      }
    },
    get stopReason() {
      return stopReason;
    },
    get sawStop() {
      return sawStop;
    },
  };
}

/** A tool block as it opens, without the `input: {}` placeholder (its input comes as pieces). */
function withoutInput(block: Record<string, unknown>): Record<string, unknown> {
  const { input: _input, ...rest } = block;
  return rest;
}
