import { conversationProblem } from './conversation-rules.js';
import { cacheUnits, type CacheUnit } from './prompt-cache.js';
import type { SignatureBook } from './signatures.js';
import type { ApiErrorType } from './wire.js';

/** The parts of a Messages request body the simulator acts on. */
export interface MessagesRequest {
  /** `model`, echoed in the response. */
  readonly model: string;
  /** `max_tokens`: a positive integer. */
  readonly maxTokens: number;
  /** `stream === true`. */
  readonly stream: boolean;
  /** `stop_sequences`, empty when absent. */
  readonly stopSequences: readonly string[];
  /** `thinking: {type: "enabled"}` (or the newer `"adaptive"`) was requested. */
  readonly thinking: boolean;
  /**
   * Every prompt text in order: the system prompt, then each message's string content, text blocks
   * and `tool_result` text (string or text blocks), whatever the role.
   */
  readonly texts: readonly string[];
  /** The prompt's cacheable units (tools, system, messages) for the prompt cache. */
  readonly cacheUnits: readonly CacheUnit[];
}

/** What validation needs besides the body. */
export interface RequestContext {
  /** The `anthropic-version` header; `2026-10-21` and later apply that version's rules. */
  readonly version: string | undefined;
  /** Signatures and redacted data this simulator issued, to check thinking blocks sent back. */
  readonly book: SignatureBook;
}

/** The first API version without sampling parameters and with the stricter content rules. */
const VERSION_2026_10_21 = '2026-10-21';
/** Most blocks with `cache_control` one request may carry. */
const MAX_BREAKPOINTS = 4;

/** A request the real API would refuse: status, error type and message. */
export interface RequestProblem {
  readonly status: number;
  readonly type: ApiErrorType;
  readonly message: string;
}

/**
 * Validates a parsed body the way the Messages API does, in the same order of checks: the fields,
 * the sampling parameters version 2026-10-21 removed, the model, the conversation
 * (`conversation-rules.ts`), then at most four cache breakpoints.
 */
export function parseMessagesRequest(body: unknown, ctx: RequestContext): MessagesRequest | RequestProblem {
  const invalid = (message: string): RequestProblem => ({ status: 400, type: 'invalid_request_error', message });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return invalid('body: Input should be an object');
  const b = body as Record<string, unknown>;
  if (b['model'] === undefined) return invalid('model: Field required');
  if (typeof b['model'] !== 'string') return invalid('model: Input should be a valid string');
  if (b['max_tokens'] === undefined) return invalid('max_tokens: Field required');
  const maxTokens = b['max_tokens'];
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens)) return invalid('max_tokens: Input should be a valid integer');
  if (maxTokens < 1) return invalid('max_tokens: Input should be greater than or equal to 1');
  const messages = b['messages'];
  if (messages === undefined) return invalid('messages: Field required');
  if (!Array.isArray(messages)) return invalid('messages: Input should be a valid list');
  if (messages.length === 0) return invalid('messages: at least one message is required');
  if (b['stream'] !== undefined && typeof b['stream'] !== 'boolean') return invalid('stream: Input should be a valid boolean');
  const stops = b['stop_sequences'] ?? [];
  if (!Array.isArray(stops) || !stops.every((s): s is string => typeof s === 'string')) {
    return invalid('stop_sequences: Input should be a valid list of strings');
  }
  const thinking = b['thinking'] as { type?: unknown; budget_tokens?: unknown } | undefined;
  const thinkingOn =
    typeof thinking === 'object' && thinking !== null && (thinking.type === 'enabled' || thinking.type === 'adaptive');
  if (thinkingOn && thinking.type === 'enabled') {
    const budget = thinking.budget_tokens;
    if (typeof budget !== 'number' || !Number.isInteger(budget)) return invalid('thinking.enabled.budget_tokens: Field required');
    if (budget >= maxTokens) return invalid('`max_tokens` must be greater than `thinking.budget_tokens`');
  }
  const strict = ctx.version !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(ctx.version) && ctx.version >= VERSION_2026_10_21;
  const sampling = strict ? Object.keys(b).find((k) => k === 'temperature' || k === 'top_p' || k === 'top_k') : undefined;
  if (sampling !== undefined) return invalid(`${sampling}: Extra inputs are not permitted`);
  if (!b['model'].startsWith('claude')) return { status: 404, type: 'not_found_error', message: `model: ${b['model']}` };
  const conversation = conversationProblem(messages, { strict, book: ctx.book });
  if (conversation !== null) return invalid(conversation);
  const units = cacheUnits(b);
  const breakpoints = units.filter((u) => u.ttlMs !== null).length;
  if (breakpoints > MAX_BREAKPOINTS) {
    return invalid(`A maximum of ${MAX_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`);
  }

  return {
    model: b['model'],
    maxTokens,
    stream: b['stream'] === true,
    stopSequences: stops.filter((s) => s !== ''),
    thinking: thinkingOn,
    texts: promptTexts(b),
    cacheUnits: units,
  };
}

/**
 * The texts a directive is looked for in, in prompt order (see `MessagesRequest.texts`). Works on any
 * body, valid or not, so a refused request can still be recorded with its directive's tag.
 */
export function promptTexts(body: unknown): string[] {
  const messages = field(body, 'messages');
  const list = Array.isArray(messages) ? messages : [];
  return [...contentTexts(field(body, 'system')), ...list.flatMap((m: unknown) => contentTexts(field(m, 'content')))];
}

/** True when `parseMessagesRequest` refused the body. */
export function isProblem(value: MessagesRequest | RequestProblem): value is RequestProblem {
  return 'status' in value;
}

/** `input_tokens` the way the simulator counts them: a quarter of the prompt's characters, at least 1. */
export function countInputTokens(texts: readonly string[]): number {
  let chars = 0;
  for (const t of texts) chars += t.length;
  return Math.max(1, Math.ceil(chars / 4));
}

function contentTexts(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  const out: string[] = [];
  for (const block of content) {
    const type = field(block, 'type');
    const text = field(block, 'text');
    if (type === 'text' && typeof text === 'string') out.push(text);
    else if (type === 'tool_result') out.push(...contentTexts(field(block, 'content')));
  }
  return out;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}
