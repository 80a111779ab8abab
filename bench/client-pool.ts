import type { ClientCommand, ClientReport, OpenResult } from './client-protocol.js';
import { ipcClient, type IpcClient } from './ipc.js';
import { startNode, type Proc } from './processes.js';

/** The client processes, driven as one: viewers and SDK streams are dealt out round-robin. */
export interface ClientPool {
  readonly procs: readonly Proc[];
  /** Opens viewers of `host:port`, spread over the processes; resolves when each got headers or failed. */
  open(host: string, port: number, viewers: readonly { path: string; sampled: boolean }[], concurrencyPerProcess?: number): Promise<OpenResult>;
  /** Starts `count` direct SDK streams of `body`, spread over the processes. */
  sdk(baseURL: string, body: Readonly<Record<string, unknown>>, count: number): Promise<void>;
  /** Counters and in-window samples of every process, merged. */
  report(from: number, to: number): Promise<ClientReport>;
  /** Hangs up everything and forgets the samples. */
  close(): Promise<void>;
  /**
   * The worst p99 event-loop delay (ms) of the processes since the previous mark; each starts
   * measuring afresh. Call at a window's start and at its end.
   */
  mark(): Promise<number>;
}

/** Forks `count` client processes (`client-process.ts`). */
export function startClientPool(count: number): ClientPool {
  const procs = Array.from({ length: count }, (_, i) => startNode(`client-${i}`, 'bench/client-process.ts', {}, { ipc: true }));
  const ipcs: IpcClient[] = procs.map((p) => ipcClient(p.child, p.name));
  const all = <T>(cmd: (i: number) => ClientCommand | undefined, timeoutMs?: number): Promise<T[]> =>
    Promise.all(ipcs.flatMap((ipc, i) => {
      const c = cmd(i);
      return c === undefined ? [] : [ipc.request<T>(c, timeoutMs)];
    }));
  const deal = <T>(items: readonly T[], i: number): T[] => items.filter((_, j) => j % count === i);

  return {
    procs,
    async open(host, port, viewers, concurrencyPerProcess = 100) {
      const results = await all<OpenResult>((i) => ({ type: 'open', host, port, viewers: deal(viewers, i), concurrency: concurrencyPerProcess }), 600_000);
      const outcomes: Record<string, number> = {};
      for (const r of results) for (const [k, n] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
      return {
        opened: results.reduce((s, r) => s + r.opened, 0),
        sampledOpened: results.reduce((s, r) => s + r.sampledOpened, 0),
        failed: results.reduce((s, r) => s + r.failed, 0),
        outcomes,
        ms: Math.max(0, ...results.map((r) => r.ms)),
      };
    },
    async sdk(baseURL, body, n) {
      await all((i) => {
        const share = Math.floor(n / count) + (i < n % count ? 1 : 0);
        return share === 0 ? undefined : { type: 'sdk', baseURL, body, count: share };
      });
    },
    async report(from, to) {
      const reports = await all<ClientReport>(() => ({ type: 'report', from, to }));
      return mergeReports(reports);
    },
    async close() {
      await all(() => ({ type: 'close' }));
    },
    async mark() {
      const marks = await all<{ p99Ms: number }>(() => ({ type: 'mark' }));
      return Math.max(0, ...marks.map((m) => m.p99Ms));
    },
  };
}

function mergeReports(reports: readonly ClientReport[]): ClientReport {
  const closed: Record<string, number> = {};
  for (const r of reports) for (const [k, n] of Object.entries(r.viewers.closed)) closed[k] = (closed[k] ?? 0) + n;
  const withViewers = reports.filter((r) => r.viewers.total > 0);
  const sum = (f: (r: ClientReport) => number): number => reports.reduce((s, r) => s + f(r), 0);
  return {
    viewers: {
      total: sum((r) => r.viewers.total),
      open: sum((r) => r.viewers.open),
      closed,
      bytes: sum((r) => r.viewers.bytes),
      frames: sum((r) => r.viewers.frames),
      framesMin: withViewers.length === 0 ? 0 : Math.min(...withViewers.map((r) => r.viewers.framesMin)),
      framesMax: Math.max(0, ...reports.map((r) => r.viewers.framesMax)),
    },
    viewerLatencies: reports.flatMap((r) => r.viewerLatencies),
    sdk: {
      started: sum((r) => r.sdk.started),
      running: sum((r) => r.sdk.running),
      failed: sum((r) => r.sdk.failed),
      errors: reports.flatMap((r) => r.sdk.errors),
    },
    sdkLatencies: reports.flatMap((r) => r.sdkLatencies),
    loopDelayP99Ms: Math.max(0, ...reports.map((r) => r.loopDelayP99Ms)),
  };
}
