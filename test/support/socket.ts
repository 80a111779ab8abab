import { WebSocket } from 'ws';

/** A server frame as the test reads it. */
export type Frame = Record<string, unknown> & { readonly type: string };

/** A raw WebSocket to `/v1/ws` that records every frame, for protocol tests. */
export interface TestSocket {
  readonly ws: WebSocket;
  readonly frames: Frame[];
  /** Sends a frame (an object as JSON, a string as it is). */
  send(frame: unknown): void;
  /** Resolves with the first frame (from `from` on) that `match` accepts. */
  next(match: (f: Frame) => boolean, from?: number, timeoutMs?: number): Promise<Frame>;
  /** Resolves with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

/** Opens a socket to `baseUrl`'s `/v1/ws`; resolves once it is open (or closed before that). */
export async function openSocket(baseUrl: string, options: { headers?: Record<string, string>; autoPong?: boolean } = {}): Promise<TestSocket> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/v1/ws`, { headers: options.headers ?? {}, autoPong: options.autoPong ?? true });
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  ws.on('error', () => {});
  await new Promise<void>((resolve) => {
    ws.once('open', () => resolve());
    ws.once('close', () => resolve());
    ws.once('unexpected-response', () => resolve());
  });
  return {
    ws,
    frames,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    next(match, from = 0, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = frames.slice(from).find(match);
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching frame within ${timeoutMs} ms; frames: ${JSON.stringify(frames).slice(0, 2000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    closed,
    close: () => ws.close(),
  };
}

/** The events of one job subscription, in the order they came. */
export const eventsOf = (frames: readonly Frame[], job: string) => frames.filter((f) => f.type === 'event' && f['job'] === job && f['conversation'] === undefined);
