import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { wallClockMs } from '../src/simulator/stamp.js';

/** Clock ticks per second of /proc/<pid>/stat times (almost always 100). */
const ticksPerS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after it are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerS;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of a process in bytes (VmRSS), NaN once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? Number.NaN : Number(match[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** A CPU meter over a window: `stop()` gives the % of one core used since `startCpu`. */
export interface CpuMeter {
  stop(): number;
}

/** Starts measuring the CPU of `pid`. */
export function startCpu(pid: number): CpuMeter {
  const cpu0 = cpuSeconds(pid);
  const t0 = wallClockMs();
  return {
    stop() {
      const seconds = (wallClockMs() - t0) / 1000;
      return ((cpuSeconds(pid) - cpu0) / seconds) * 100;
    },
  };
}

/** Busy and total jiffies of the whole machine (all cores), from the first line of /proc/stat. */
function machineJiffies(): { busy: number; total: number } {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

/**
 * CPU meters for several named processes at once; a name may stand for several pids (summed). The
 * result also has `machine`: the busy share of all cores in %, which shows when the box itself was
 * saturated (a process waiting for a core shows as latency, not as its own CPU).
 */
export function startCpus(pids: Readonly<Record<string, number | readonly number[]>>): { stop(): Record<string, number> } {
  const meters = Object.entries(pids).map(([name, p]) => [name, (typeof p === 'number' ? [p] : p).map(startCpu)] as const);
  const m0 = machineJiffies();
  return {
    stop: () => {
      const m1 = machineJiffies();
      const out: Record<string, number> = Object.fromEntries(meters.map(([name, ms]) => [name, ms.reduce((s, m) => s + m.stop(), 0)]));
      out['machine'] = ((m1.busy - m0.busy) / (m1.total - m0.total)) * 100;
      return out;
    },
  };
}
