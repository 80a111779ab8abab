/** One server-sent event as a client sees it. */
export interface SseEvent {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

/** What a raw SSE read saw. */
export interface SseRead {
  readonly status: number;
  readonly contentType: string | null;
  readonly events: SseEvent[];
  readonly comments: string[];
  readonly retry: number | undefined;
  /** The `Retry-After` of an answer that was not a stream, in seconds. */
  readonly retryAfterS?: number;
  /** The server closed the stream (as opposed to the reader stopping early). */
  readonly endedByServer: boolean;
}

/**
 * Reads an SSE response with `fetch`, parsing frames byte-exactly (a streaming TextDecoder, so a
 * multi-byte character split across network chunks is reassembled). Stops after `stopAfter` events
 * or the first event `until` accepts (closing the connection, like a viewer that goes away) or when
 * the server ends the stream.
 */
export async function readSse(
  url: string,
  options: { headers?: Record<string, string>; stopAfter?: number; onEvent?: (e: SseEvent) => void; until?: (e: SseEvent) => boolean } = {},
): Promise<SseRead> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: options.headers ?? {}, signal: controller.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  if (res.body === null || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    await res.body?.cancel();
    const retryAfterS = Number(res.headers.get('retry-after') ?? Number.NaN);
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      events,
      comments,
      retry,
      endedByServer: true,
      ...(Number.isFinite(retryAfterS) ? { retryAfterS } : {}),
    };
  }
  const decoder = new TextDecoder();
  let buffer = '';
  let id = '';
  let event = '';
  let data: string[] = [];
  const reader = res.body.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length > 0 || event !== '') {
          const e = { id, event: event || 'message', data: data.join('\n') };
          events.push(e);
          options.onEvent?.(e);
          if ((options.stopAfter !== undefined && events.length >= options.stopAfter) || options.until?.(e) === true) {
            controller.abort();
            await reader.cancel().catch(() => {});
            return { status: res.status, contentType: res.headers.get('content-type'), events, comments, retry, endedByServer: false };
          }
        }
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('retry:')) retry = Number(line.slice(6).trim());
    }
  }
  return { status: res.status, contentType: res.headers.get('content-type'), events, comments, retry, endedByServer: true };
}

/**
 * `readSse` as a client that honours the contract reads: a 503 (Redis failing over or restarting) is
 * retried after its `Retry-After`, until `withinMs` has passed; any other answer is returned.
 */
export async function readSseRetrying(url: string, withinMs: number, headers: Record<string, string> = {}): Promise<SseRead> {
  const until = Date.now() + withinMs;
  for (;;) {
    const read = await readSse(url, { headers });
    if (read.status !== 503 || Date.now() > until) return read;
    await new Promise((resolve) => setTimeout(resolve, (read.retryAfterS ?? 1) * 1000));
  }
}

/**
 * `readSseRetrying` that also resumes, as the client library and EventSource do: a stream the server
 * ends before `done` is read again from `Last-Event-ID`, until `done` or `withinMs`. The server may end
 * a stream on purpose: an API node shutting down, or giving up on a Redis read while a shard fails
 * over. Returns the events of every read in order, and the last read's status.
 */
export async function readSseResuming(url: string, withinMs: number): Promise<SseRead & { readonly resumes: number }> {
  const until = Date.now() + withinMs;
  const events: SseEvent[] = [];
  const comments: string[] = [];
  for (let resumes = 0; ; resumes++) {
    const lastId = events.at(-1)?.id;
    const read = await readSseRetrying(url, Math.max(0, until - Date.now()), lastId === undefined ? {} : { 'last-event-id': lastId });
    events.push(...read.events);
    comments.push(...read.comments);
    const done = read.events.some((e) => e.event === 'done');
    if (done || read.status !== 200 || !read.endedByServer || Date.now() > until) return { ...read, events, comments, resumes };
    await new Promise((resolve) => setTimeout(resolve, read.retry ?? 250));
  }
}

/** The text a viewer shows: the deltas after the last `reset`, concatenated. */
export function viewerText(events: readonly SseEvent[]): string {
  let text = '';
  for (const e of events) {
    if (e.event === 'reset') text = '';
    if (e.event === 'delta') text += (JSON.parse(e.data) as { text: string }).text;
  }
  return text;
}

/** Asserts-by-throwing that ids run from `from` upwards by one with no hole. */
export function checkContiguous(events: readonly SseEvent[], from = 1): void {
  events.forEach((e, i) => {
    if (Number(e.id) !== from + i) throw new Error(`event ${i} has id ${e.id}, expected ${from + i}`);
  });
}
