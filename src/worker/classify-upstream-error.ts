import { APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { JobError } from '../shared/events.js';

/** How one upstream failure is handled. */
export interface UpstreamFailure {
  readonly error: JobError;
  /** Worth another attempt (API.md §3). */
  readonly retryable: boolean;
  /** The upstream's `retry-after`, when it sent one. */
  readonly retryAfterMs: number | undefined;
  /**
   * A 429 or 529 that said when to come back: the organisation's limit, which every worker shares, so
   * the whole fleet waits (BullMQ's manual rate limit) and the attempt does not count.
   */
  readonly fleetWide?: boolean;
}

/**
 * HTTP statuses that fail at once: the request itself is wrong, another attempt gets the same answer.
 * Everything else from the upstream (429, 5xx, 529, connection trouble) is retried.
 * See https://docs.anthropic.com/en/api/errors.
 */
const permanentStatuses: ReadonlySet<number> = new Set([400, 401, 403, 404, 413, 422]);

/** Mid-stream `error` event types (status undefined) that are the upstream's trouble, not ours. */
const retryableEventTypes: ReadonlySet<string> = new Set(['overloaded_error', 'api_error', 'rate_limit_error']);

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const raw = headers?.get('retry-after-ms') ?? undefined;
  if (raw !== undefined && Number.isFinite(Number(raw))) return Number(raw);
  const s = headers?.get('retry-after');
  if (s === null || s === undefined) return undefined;
  if (Number.isFinite(Number(s))) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * Classifies a failure of the upstream call. Classifies by status and by the upstream's error `type`,
 * never by class alone: a mid-stream `error` event is a plain `APIError` with `status` undefined.
 */
export function classifyUpstreamError(err: unknown): UpstreamFailure {
  if (err instanceof APIError && !(err instanceof APIUserAbortError)) {
    const message = err.apiMessage ?? err.message;
    if (err.status === undefined) {
      // No type: APIConnectionError (no response). A type: a mid-stream `error` event.
      if (err.type === null) return { error: { type: 'connection_error', message }, retryable: true, retryAfterMs: undefined };
      return { error: { type: err.type, message }, retryable: retryableEventTypes.has(err.type), retryAfterMs: undefined };
    }
    const type = err.type ?? (err.status >= 500 ? 'api_error' : 'invalid_request_error');
    const after = retryAfterMs(err.headers);
    const fleetWide = (err.status === 429 || err.status === 529) && after !== undefined;
    return { error: { type, message }, retryable: !permanentStatuses.has(err.status), retryAfterMs: after, ...(fleetWide ? { fleetWide } : {}) };
  }
  // A socket destroyed mid-body surfaces as TypeError('terminated') or AnthropicError('terminated');
  // a body that ended without message_stop is reported by the worker as `stream_incomplete`.
  const message = err instanceof Error ? err.message : String(err);
  return { error: { type: 'connection_error', message }, retryable: true, retryAfterMs: undefined };
}
