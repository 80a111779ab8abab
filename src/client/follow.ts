import { createParser } from 'eventsource-parser';
import type { JobEvent, JobEventType } from '../shared/wire.js';
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

const eventTypes: ReadonlySet<string> = new Set<JobEventType>(['status', 'delta', 'thinking', 'reset', 'done']);

/**
 * A job's events as an async iterable that resumes by itself: when the connection drops, the server
 * closes before `done` or the API node restarts, it reconnects with `Last-Event-ID` (backoff about
 * 100 ms to 5 s with jitter; `Retry-After` honoured on 429 and 503) and yields nothing twice. It ends
 * after `done` (or at once when the cursor is already past it: 204). Any other 4xx rejects with a
 * `ProblemError`; 5xx and connection trouble are retried.
 */
export async function* follow(ctx: HttpContext, jobId: string, options: FollowOptions = {}): AsyncGenerator<StreamEvent, void, undefined> {
  const { signal } = options;
  const backoff = createBackoff(options.backoff);
  let last = options.after ?? 0;
  const path = `v1/jobs/${encodeURIComponent(jobId)}/events`;
  for (;;) {
    let reason: string;
    let atLeastMs = 0;
    try {
      const res = await send(ctx, 'GET', path, {
        read: true,
        signal,
        headers: { accept: 'text/event-stream', ...(last > 0 ? { 'last-event-id': String(last) } : {}) },
      });
      if (res.status === 204) return;
      if (res.status === 200 && res.body !== null) {
        options.onState?.({ kind: 'connected' });
        for await (const event of parse(res.body, signal)) {
          // Defensive: the server never repeats an id after Last-Event-ID.
          if (event.id <= last) continue;
          last = event.id;
          backoff.reset();
          yield event;
          if (event.type === 'done') return;
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
async function* parse(body: ReadableStream<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<StreamEvent> {
  const ready: StreamEvent[] = [];
  const parser = createParser({
    onEvent(message) {
      const id = Number(message.id);
      if (message.event === undefined || !eventTypes.has(message.event) || !Number.isSafeInteger(id)) return;
      ready.push({ id, type: message.event, data: JSON.parse(message.data) } as StreamEvent);
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
      while (ready.length > 0) yield ready.shift() as StreamEvent;
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
