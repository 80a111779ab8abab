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
  /** Every prompt text in order: the system prompt, then each message's string content or text blocks. */
  readonly texts: readonly string[];
}

/** A request the real API would refuse: status, error type and message. */
export interface RequestProblem {
  readonly status: number;
  readonly type: ApiErrorType;
  readonly message: string;
}

/** Validates a parsed body the way the Messages API does, in the same order of checks. */
export function parseMessagesRequest(body: unknown): MessagesRequest | RequestProblem {
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
  if (!b['model'].startsWith('claude')) return { status: 404, type: 'not_found_error', message: `model: ${b['model']}` };

  return {
    model: b['model'],
    maxTokens,
    stream: b['stream'] === true,
    stopSequences: stops.filter((s) => s !== ''),
    thinking: thinkingOn,
    texts: [...contentTexts(b['system']), ...messages.flatMap((m: unknown) => contentTexts(field(m, 'content')))],
  };
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
    const text = field(block, 'text');
    if (field(block, 'type') === 'text' && typeof text === 'string') out.push(text);
  }
  return out;
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}
