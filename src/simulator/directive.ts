import { z } from 'zod';
import { blockSchema, stopDetailsSchema, type SimBlock, type SimStopDetails } from './block-directive.js';
import type { SimStopReason } from './wire.js';

/** HTTP faults: the request is refused before any stream starts, with the real error body. */
export type SimHttpFault =
  | 'http_400'
  | 'http_401'
  | 'http_403'
  | 'http_404'
  | 'http_413'
  | 'http_429'
  | 'http_500'
  | 'http_529';

/** Every fault the simulator can inject. */
export type SimFault = SimHttpFault | 'error_event' | 'drop' | 'stall';

/**
 * How the simulator answers one request: built-in defaults, overridden by `SimulatorOptions.defaults`,
 * overridden by the last `<<sim {JSON}>>` directive in the request's text (same field names).
 */
export interface SimBehaviour {
  /** Exact output text. Default null: deterministic text (see `style`) seeded from the request body. */
  text: string | null;
  /**
   * The generated text when `text` is null: "words" (default), `tokens` plain words; "markdown", a
   * model-like answer of about `tokens` words with headings, a list, a code block and a table.
   */
  style: 'words' | 'markdown';
  /** Deltas to generate when `text` is null. Default 40. */
  tokens: number;
  /**
   * "word" (default): one word with its leading space per delta; a number: that many code points.
   * Cuts text and, with `blocks`, thinking too.
   */
  chunk: 'word' | number;
  /** Delay from the request to the first content_block_delta (non-streaming: to the response). Default 20. */
  ttft_ms: number;
  /** Deltas per second after the first. Default 200. */
  tps: number;
  /** Interval of `event: ping` while streaming (one is sent after content_block_start). Default 10000. */
  ping_ms: number;
  /** Fault to inject. Default null (none). */
  fault: SimFault | null;
  /**
   * Text deltas sent before error_event / drop / stall (with `blocks`: content deltas of every kind).
   * Default null: half the deltas, rounded down.
   */
  fault_after: number | null;
  /** `error.type` of the error_event fault. Default "overloaded_error". */
  error_type: string;
  /** Seconds for `retry-after` (always on 429, default 1 there; on 500/529 only when set). Default null. */
  retry_after: number | null;
  /** The fault hits only the first N requests with the same `key`. Default null: every request. */
  fault_times: number | null;
  /** Groups requests for `fault_times`. Default null: a hash of the raw request body. */
  key: string | null;
  /** Write every frame as two writes cut inside a multi-byte UTF-8 character. Default false. */
  split_utf8: boolean;
  /** Free label stored on the request record. Default null. */
  tag: string | null;
  /**
   * Append the wall-clock time of its write to each streamed text delta, as ` ⟨<ms>.<µs>⟩` (see
   * `stamp.ts`), so a reader in another process can measure delivery latency. Default false.
   */
  stamp: boolean;
  /**
   * Output tokens each text delta counts for in `usage` (and against `max_tokens`), so a benchmark
   * can offer many tokens/s without as many frames. Default 1.
   */
  tokens_per_delta: number;
  /**
   * Output blocks streamed in order instead of the generated text (and of the thinking block a
   * `thinking` request gets): text, thinking, redacted_thinking, tool_use, server_tool_use, and any
   * other type whole (see `block-directive.ts`). Default null. With blocks, `fault_after` and
   * `tokens_per_delta` count content deltas of every kind, and usage carries every counter.
   */
  blocks: readonly SimBlock[] | null;
  /**
   * `stop_reason` of a `blocks` answer. Default null: `tool_use` when the last block is a tool_use,
   * else `end_turn`; `max_tokens` wins whenever the budget cut the output.
   */
  stop_reason: SimStopReason | null;
  /** `stop_details` (`category`, `explanation`) sent in message_delta with a `blocks` answer. Default null. */
  stop_details: SimStopDetails | null;
}

/** The built-in behaviour. */
export const defaultBehaviour: Readonly<SimBehaviour> = Object.freeze({
  text: null,
  style: 'words',
  tokens: 40,
  chunk: 'word',
  ttft_ms: 20,
  tps: 200,
  ping_ms: 10_000,
  fault: null,
  fault_after: null,
  error_type: 'overloaded_error',
  retry_after: null,
  fault_times: null,
  key: null,
  split_utf8: false,
  tag: null,
  stamp: false,
  tokens_per_delta: 1,
  blocks: null,
  stop_reason: null,
  stop_details: null,
});

const count = z.number().int().min(0);
const faults = [
  'http_400', 'http_401', 'http_403', 'http_404', 'http_413', 'http_429', 'http_500', 'http_529',
  'error_event', 'drop', 'stall',
] as const satisfies readonly SimFault[];
const stopReasons = [
  'end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded',
] as const satisfies readonly SimStopReason[];
const directiveSchema = z.strictObject({
  text: z.string().nullable(),
  style: z.enum(['words', 'markdown']),
  tokens: count,
  chunk: z.union([z.literal('word'), z.number().int().min(1)]),
  ttft_ms: z.number().min(0),
  tps: z.number().positive(),
  ping_ms: z.number().positive(),
  fault: z.enum(faults).nullable(),
  fault_after: count.nullable(),
  error_type: z.string().min(1),
  retry_after: z.number().min(0).nullable(),
  fault_times: count.nullable(),
  key: z.string().nullable(),
  split_utf8: z.boolean(),
  tag: z.string().nullable(),
  stamp: z.boolean(),
  tokens_per_delta: z.number().int().min(1),
  blocks: z.array(blockSchema).nullable(),
  stop_reason: z.enum(stopReasons).nullable(),
  stop_details: stopDetailsSchema.nullable(),
}).partial();

/** Result of looking for a directive: the merged behaviour, or why the directive is unusable. */
export type DirectiveResult = { ok: true; behaviour: SimBehaviour } | { ok: false; message: string };

const OPEN = '<<sim';

/**
 * Finds the last `<<sim {JSON}>>` in `texts` (searched from the last text backwards) and merges it
 * over `defaults` and the built-in behaviour. A malformed or unknown-field directive is an error
 * rather than ignored, so a typo in a test fails loudly.
 */
export function resolveBehaviour(texts: readonly string[], defaults: Partial<SimBehaviour> = {}): DirectiveResult {
  const base: SimBehaviour = { ...defaultBehaviour, ...defaults };
  for (let i = texts.length - 1; i >= 0; i--) {
    const text = texts[i] ?? '';
    const at = text.lastIndexOf(OPEN);
    if (at === -1) continue;
    const json = extractJson(text, at + OPEN.length);
    if (json === undefined) return { ok: false, message: 'sim directive: expected <<sim {JSON}>>' };
    const parsed = directiveSchema.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues.map((x) => `${x.path.join('.') || '(root)'}: ${x.message}`).join('; ');
      return { ok: false, message: `sim directive: ${detail}` };
    }
    return { ok: true, behaviour: { ...base, ...(stripUndefined(parsed.data) as Partial<SimBehaviour>) } };
  }
  return { ok: true, behaviour: base };
}

/** Tries each `>>` after `from` as the end, so `>>` inside a JSON string does not cut it short. */
function extractJson(text: string, from: number): unknown {
  const start = text.indexOf('{', from);
  if (start === -1 || text.slice(from, start).trim() !== '') return undefined;
  for (let end = text.indexOf('>>', start); end !== -1; end = text.indexOf('>>', end + 1)) {
    try {
      return JSON.parse(text.slice(start, end)) as unknown;
    } catch {
      // Not the closing `>>` yet: keep looking.
    }
  }
  return undefined;
}

/** Zod's optional fields admit `undefined`; a directive must not erase a default with it. */
function stripUndefined(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

/**
 * What `npm start`'s built-in simulator answers without a directive: Markdown, like a model, at a pace
 * a person can watch (first token after about 450 ms, then 30 tokens a second, about 220 of them).
 */
export const demoBehaviour: Readonly<Partial<SimBehaviour>> = Object.freeze({
  style: 'markdown',
  tokens: 220,
  ttft_ms: 450,
  tps: 30,
});
