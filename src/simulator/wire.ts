import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** `error.type` values the simulator sends (the real API's, plus 413's `request_too_large`). */
export type ApiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

/** Why a message stopped: every `StopReason` of the API. */
export type SimStopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

/** One output content block of a plain answer: text, or thinking with its signature. */
export type SimContentBlock =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string };

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random id in the real API's style: `prefix` then 24 base62 characters. */
export function makeId(prefix: 'req_011' | 'msg_01' | 'toolu_01' | 'srvtoolu_01'): string {
  const bytes = randomBytes(24);
  let out = prefix;
  for (const b of bytes) out += ALPHABET[b % ALPHABET.length];
  return out;
}

/** One SSE frame: `event: NAME\ndata: JSON\n\n`, with `data.type === NAME` by construction. */
export function frame(data: { readonly type: string; readonly [field: string]: unknown }): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * A text or thinking delta frame, built by concatenation: it is the only per-token allocation of a
 * stream, so it skips building an object for JSON.stringify.
 */
export function deltaFrame(index: number, kind: 'text_delta' | 'thinking_delta', chunk: string): string {
  const field = kind === 'text_delta' ? 'text' : 'thinking';
  return (
    `event: content_block_delta\ndata: {"type":"content_block_delta","index":${index},` +
    `"delta":{"type":"${kind}","${field}":${JSON.stringify(chunk)}}}\n\n`
  );
}

/** The Message object: empty and unfinished for message_start, complete for a non-streaming answer. */
export function messageObject(args: {
  id: string;
  model: string;
  content: SimContentBlock[];
  stopReason: SimStopReason | null;
  stopSequence: string | null;
  inputTokens: number;
  outputTokens: number;
}): Record<string, unknown> {
  return {
    id: args.id,
    type: 'message',
    role: 'assistant',
    content: args.content,
    model: args.model,
    stop_reason: args.stopReason,
    stop_sequence: args.stopSequence,
    usage: { input_tokens: args.inputTokens, output_tokens: args.outputTokens },
  };
}

/**
 * The Message object with every usage counter (answers with `blocks` or cache breakpoints): empty and
 * unfinished for message_start, complete for a non-streaming answer. `usage` comes from `usage.ts`.
 */
export function fullMessageObject(args: {
  id: string;
  model: string;
  content: readonly unknown[];
  stopReason: SimStopReason | null;
  stopSequence: string | null;
  stopDetails: unknown;
  usage: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    id: args.id,
    type: 'message',
    role: 'assistant',
    content: args.content,
    model: args.model,
    stop_reason: args.stopReason,
    stop_sequence: args.stopSequence,
    stop_details: args.stopDetails,
    usage: args.usage,
  };
}

/** The real error body: `{"type":"error","error":{"type","message"},"request_id"}`. */
export function errorBody(type: string, message: string, requestId: string): string {
  return JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId });
}

/** Sends an HTTP error response with the real body and a `request-id` header. */
export function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
): void {
  const body = errorBody(type, message, requestId);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'request-id': requestId,
  });
  res.end(body);
}

/** Sends a JSON 200 (non-streaming Message, or the simulator's own endpoints). */
export function sendJson(res: ServerResponse, value: unknown, requestId?: string): void {
  const body = JSON.stringify(value);
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    ...(requestId === undefined ? {} : { 'request-id': requestId }),
  });
  res.end(body);
}
