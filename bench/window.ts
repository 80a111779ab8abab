/** A measurement window: CPU of named processes and of the machine, and the clients' own lag. */
import type { ClientPool } from './client-pool.js';
import { startCpus } from './proc-stats.js';
import type { WindowCheck } from './result.js';
import { round } from './stats.js';
import { wallClockMs } from './timing.js';

/** What a window measured. */
export interface WindowResult {
  /** % of one core per named process, plus `machine`: % of all cores. */
  readonly cpuPercent: Record<string, number>;
  /** CPU µs per process over the window (for figures per delivered delta). */
  readonly cpuUs: Record<string, number>;
  readonly seconds: number;
  readonly check: WindowCheck;
}

/**
 * Opens a window now: starts CPU meters and restarts the clients' event-loop delay measurement. Its
 * `close()` ends both; `boundMs` is the client lag (p99) past which the window's latencies are invalid.
 */
export async function openWindow(
  clients: ClientPool,
  pids: Readonly<Record<string, number | readonly number[]>>,
  boundMs: number,
): Promise<{ close(): Promise<WindowResult> }> {
  await clients.mark();
  const cpu = startCpus({ ...pids, clients: clients.procs.map((p) => p.pid) });
  const t0 = wallClockMs();
  return {
    async close() {
      const cpuPercent = cpu.stop();
      const seconds = (wallClockMs() - t0) / 1000;
      const lag = await clients.mark();
      const cpuUs = Object.fromEntries(Object.entries(cpuPercent).filter(([k]) => k !== 'machine').map(([k, v]) => [k, (v / 100) * seconds * 1e6]));
      return {
        cpuPercent,
        cpuUs,
        seconds,
        check: { machineBusyPct: round(cpuPercent['machine'] ?? Number.NaN, 1), clientLoopDelayP99Ms: round(lag), boundMs },
      };
    },
  };
}
