import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { wallClockMs } from '../src/simulator/stamp.js';

/** Sleeps until the wall clock reaches `at` (ms, `wallClockMs()` scale). */
export async function sleepUntil(at: number): Promise<void> {
  const ms = at - wallClockMs();
  if (ms > 0) await sleep(ms);
}

/** Polls `check` every `everyMs` until true or `timeoutMs` passed; whether it became true. */
export async function pollUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = wallClockMs() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (wallClockMs() > deadline) return false;
    await sleep(everyMs);
  }
}

/** How late this process's event loop runs: p99 lag since the last reset, in ms. */
export interface LoopLag {
  p99Ms(): number;
  reset(): void;
  disable(): void;
}

/**
 * Measures this process's event-loop lag. Node records each sample as the whole timer interval
 * (resolution included: an idle loop shows about 10 ms at resolution 10), so the lag is the
 * percentile less the resolution.
 */
export function loopLag(resolutionMs = 10): LoopLag {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  return {
    p99Ms: () => Math.max(0, histogram.percentile(99) / 1e6 - resolutionMs),
    reset: () => histogram.reset(),
    disable: () => histogram.disable(),
  };
}

export { sleep, wallClockMs };
