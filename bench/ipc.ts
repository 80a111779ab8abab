import type { ChildProcess } from 'node:child_process';

/** Request/response over a forked child's IPC channel: `{ seq, body }` out, `{ seq, result | error }` back. */
interface Envelope {
  readonly seq: number;
  readonly body?: unknown;
  readonly result?: unknown;
  readonly error?: string;
}

/** The parent's side: `request` sends a command and resolves with the child's answer. */
export interface IpcClient {
  request<T>(body: unknown, timeoutMs?: number): Promise<T>;
}

/** Wraps a child started with an IPC channel (`fork`, or `stdio: [..., 'ipc']`). */
export function ipcClient(child: ChildProcess, name: string): IpcClient {
  let next = 0;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (raw) => {
    const msg = raw as Envelope;
    const w = waiting.get(msg.seq);
    if (w === undefined) return;
    waiting.delete(msg.seq);
    if (msg.error !== undefined) w.reject(new Error(`${name}: ${msg.error}`));
    else w.resolve(msg.result);
  });
  child.once('exit', (code, signal) => {
    for (const w of waiting.values()) w.reject(new Error(`${name} exited (code ${code}, signal ${signal})`));
    waiting.clear();
  });
  return {
    request<T>(body: unknown, timeoutMs = 120_000) {
      const seq = ++next;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(seq);
          reject(new Error(`${name}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.set(seq, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ seq, body } satisfies Envelope);
      });
    },
  };
}

/**
 * The child's side: answers each command with `handle`'s result. The child exits when the parent
 * goes away (the IPC channel closes), so a crashed driver leaves nothing running.
 */
export function serveIpc(handle: (body: unknown) => Promise<unknown>): void {
  process.on('message', (raw) => {
    const msg = raw as Envelope;
    handle(msg.body).then(
      (result) => process.send?.({ seq: msg.seq, result } satisfies Envelope),
      (err: unknown) => process.send?.({ seq: msg.seq, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
