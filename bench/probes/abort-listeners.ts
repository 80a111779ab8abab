/**
 * Probe: what waiting on one long-lived AbortSignal costs per wait, with N other waits pending on it,
 * as the worker's Redis writes wait on its shutdown signal (`untilAborted` in `store-retry.ts`).
 *   - `listener`: an `abort` listener per wait, as `untilAborted` was. Node's EventTarget walks its
 *     listener list on each `addEventListener` to drop duplicates, so the cost grows with N.
 *   - `shared`: `untilAborted` now: one listener per signal, waits in a Set.
 * Each figure is the time of one wait that resolves (add, resolve, remove), over 20,000 waits, median
 * of 5 rounds. Run: `npx tsx bench/probes/abort-listeners.ts`.
 *
 * Found (2026-12-06, 2-core machine): with 1,000 pending waits a listener per wait cost 6.5 µs per add
 * and remove against 1.1-1.6 µs with few; in the worker at 1,000 generations, `addEventListener`
 * under `untilAborted` was 6.4% of busy time (profile of `--only=workers --workers=1000`).
 */
import { setMaxListeners } from 'node:events';
import { untilAborted } from '../../src/shared/until-aborted.js';

function perListener<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

type Wait = <T>(promise: Promise<T>, signal: AbortSignal) => Promise<T>;

async function round(wait: Wait, pending: number, waits: number): Promise<number> {
  const controller = new AbortController();
  const { signal } = controller;
  // The other jobs' writes, in flight on the same signal for the whole round.
  const held = Array.from({ length: pending }, () => wait(new Promise<void>(() => {}), signal).catch(() => {}));
  const started = process.hrtime.bigint();
  for (let i = 0; i < waits; i++) await wait(Promise.resolve(i), signal);
  const us = Number(process.hrtime.bigint() - started) / 1000 / waits;
  controller.abort();
  await Promise.all(held);
  return us;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

// No MaxListenersExceededWarning for the `listener` rounds' thousands of listeners.
setMaxListeners(0);
for (const pending of [0, 100, 1000, 2000]) {
  const row: string[] = [];
  for (const [name, wait] of [['listener', perListener], ['shared', untilAborted]] as const) {
    const runs: number[] = [];
    for (let r = 0; r < 5; r++) runs.push(await round(wait, pending, 20_000));
    row.push(`${name} ${median(runs).toFixed(2)} µs (${Math.min(...runs).toFixed(2)}–${Math.max(...runs).toFixed(2)})`);
  }
  console.log(`${String(pending).padStart(5)} pending: ${row.join(', ')}`);
}
