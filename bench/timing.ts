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

export { sleep, wallClockMs };
