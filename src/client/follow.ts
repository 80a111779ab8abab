import { createParser } from 'eventsource-parser';
import { knownEventTypes } from '../shared/events.js';
import type { JobEvent } from '../shared/wire.js';
import { createBackoff, sleep, type BackoffOptions } from './backoff.js';
import { ConnectionError, ProblemError } from './errors.js';
import { problemOf, retryAfterS, send, type HttpContext } from './http.js';

/** An event of a job's stream with its sequence number (1, 2, 3, … without holes). */
export type StreamEvent = JobEvent & { readonly id: number };

/** What `follow` reports about its connection, for status lines. */
export type FollowState =
  | { readonly kind: 'connected' }
  | { readonly kind: 'reconnecting'; readonly inMs: number; readonly reason: string };

/** Options of `jobs.follow`. */
export interface FollowOptions {
  /** Start after this event id (what a previous follow saw last). Default 0: from the start. */
  readonly after?: number;
  /** Stops the follow: the iterator rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Told when the stream connects and before each reconnect. */
  readonly onState?: (state: FollowState) => void;
  /** Reconnect delays (about 100 ms to 5 s, with jitter, by default). */
  readonly backoff?: BackoffOptions;
}

/**
 * A job's events as an async iterable that resumes by itself: when the connection drops, the server
 * closes before `done` or the API node restarts, it reconnects with `Last-Event-ID` (backoff about
 * 100 ms to 5 s with jitter; `Retry-After` honoured on 429 and 503) and yields nothing twice. It ends
 * after `done` (or at once when the cursor is already past it: 204). Any other 4xx rejects with a
 * `ProblemError`; 5xx and connection trouble are retried.
 */
export async function* follow(ctx: HttpContext, jobId: string, options: FollowOptions = {}): AsyncGenerator<StreamEvent, void, undefined> {
  const after = options.after ?? 0;
  yield* resumable<StreamEvent>(ctx, `v1/jobs/${encodeURIComponent(jobId)}/events`, options, {
    after: after > 0 ? String(after) : undefined,
    event(id, type, data) {
      const n = Number(id);
      return Number.isSafeInteger(n) ? ({ id: n, type, data } as StreamEvent) : undefined;
    },
    order: (event) => [event.id, 0],
    known: (event) => knownEventTypes.has(event.type),
    ends: (event) => event.type === 'done',
  });
}

/** How {@link resumable} reads one kind of stream. */
export interface StreamShape<E extends { readonly type: string }> {
  /** The cursor to start after (`Last-Event-ID`), or undefined for the start. */
  readonly after: string | undefined;
  /** The event of an SSE message, or undefined for one that is not an event of this stream. */
  event(id: string, type: string, data: unknown): E | undefined;
  /** Where an event stands: ids after the cursor only, in order ([turn, seq] or [seq, 0]). */
  order(event: E): readonly [number, number];
  /** Events of types this client knows are yielded; others only move the cursor. */
  known(event: E): boolean;
  /** The stream ends after this event. */
  ends(event: E): boolean;
}

/** The resuming loop of every stream follow (see {@link follow}); `idOf` turns an event back into its cursor. */
export async function* resumable<E extends { readonly type: string }>(
  ctx: HttpContext,
  path: string,
  options: Omit<FollowOptions, 'after'>,
  shape: StreamShape<E>,
): AsyncGenerator<E, void, undefined> {
  const { signal } = options;
  const backoff = createBackoff(options.backoff);
  let cursor = shape.after;
  let last: readonly [number, number] = [-1, -1];
  const newer = (o: readonly [number, number]) => o[0] > last[0] || (o[0] === last[0] && o[1] > last[1]);
  for (;;) {
    let reason: string;
    let atLeastMs = 0;
    try {
      const res = await send(ctx, 'GET', path, {
        read: true,
        signal,
        headers: { accept: 'text/event-stream', ...(cursor === undefined ? {} : { 'last-event-id': cursor }) },
      });
      if (res.status === 204) return;
      if (res.status === 200 && res.body !== null) {
        options.onState?.({ kind: 'connected' });
        for await (const { id, event } of parse(res.body, signal, shape)) {
          // Defensive: the server never repeats an id after Last-Event-ID.
          const order = shape.order(event);
          if (!newer(order)) continue;
          last = order;
          cursor = id;
          backoff.reset();
          // A type newer than this client (a newer server): passed over, its id still counted.
          if (!shape.known(event)) continue;
          yield event;
          if (shape.ends(event)) return;
        }
        reason = 'the stream ended before done';
      } else {
        const problem = await problemOf(res);
        if (res.status >= 400 && res.status < 500 && res.status !== 429) throw problem;
        reason = `HTTP ${res.status}`;
        if (res.status === 429 || res.status === 503) atLeastMs = (retryAfterS(res) ?? 0) * 1000;
      }
    } catch (err) {
      if (signal?.aborted === true) throw signal.reason;
      if (err instanceof ProblemError) throw err;
      reason = err instanceof ConnectionError || err instanceof Error ? err.message : String(err);
    }
    if (signal?.aborted === true) throw signal.reason;
    const inMs = backoff.next(atLeastMs);
    options.onState?.({ kind: 'reconnecting', inMs, reason });
    await sleep(inMs, signal);
  }
}

/** The SSE events of a response body, parsed by `eventsource-parser` as they arrive. */
async function* parse<E extends { readonly type: string }>(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal | undefined,
  shape: StreamShape<E>,
): AsyncGenerator<{ id: string; event: E }> {
  const ready: { id: string; event: E }[] = [];
  const parser = createParser({
    onEvent(message) {
      if (message.event === undefined || message.id === undefined) return;
      const event = shape.event(message.id, message.event, JSON.parse(message.data));
      if (event !== undefined) ready.push({ id: message.id, event });
    },
  });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  const onAbort = () => void reader.cancel().catch(() => {});
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const chunk = await reader.read().catch((cause: unknown) => {
        throw new ConnectionError(`the stream broke: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      });
      if (chunk.done) return;
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      while (ready.length > 0) yield ready.shift() as { id: string; event: E };
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await reader.cancel().catch(() => {});
  }
}

/** The text a viewer shows: the deltas after the last `reset`, concatenated. */
export function collectText(events: Iterable<StreamEvent | JobEvent>): string {
  let text = '';
  for (const e of events) {
    if (e.type === 'reset') text = '';
    else if (e.type === 'delta') text += e.data.text;
  }
  return text;
}
