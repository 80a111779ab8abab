import { randomBytes } from 'node:crypto';
import type { Directive } from '../genrelay-http.js';
import { answers, freePort, startNode, waitFor, type Proc } from '../processes.js';

/** The running socket-floor server (see `server.ts`). */
export interface Floor {
  readonly proc: Proc;
  readonly host: string;
  readonly port: number;
  /** Starts a stream paced by `directive` (`tps`, `ttft_ms`, `tokens`); the path viewers GET, and how to end it. */
  start(directive: Directive): Promise<{ path: string; stop: () => Promise<void> }>;
  close(): Promise<void>;
}

/** Starts a fresh floor server process. */
export async function startFloor(label: string, profile: boolean): Promise<Floor> {
  const port = await freePort();
  const proc = startNode(`floor-${label}`, 'bench/floor/server.ts', { FLOOR_PORT: String(port), GC_ON_SIGUSR2: '1' }, { profile, nodeFlags: ['--expose-gc'] });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('the floor server', () => answers(`${base}/healthz`), proc);
  const call = async (method: string, path: string) => {
    const res = await fetch(`${base}${path}`, { method });
    if (!res.ok) throw new Error(`floor ${method} ${path}: ${res.status}`);
  };
  return {
    proc,
    host: '127.0.0.1',
    port,
    async start(directive) {
      const path = `/streams/s-${randomBytes(6).toString('hex')}`;
      const query = new URLSearchParams({ tps: String(directive['tps'] ?? 50), ttft_ms: String(directive['ttft_ms'] ?? 0), tokens: String(directive['tokens'] ?? 1000) });
      await call('POST', `${path}?${query.toString()}`);
      return { path, stop: () => call('DELETE', path).catch(() => undefined) };
    },
    close: () => proc.stop(),
  };
}
