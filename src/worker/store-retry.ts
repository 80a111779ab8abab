import { setTimeout as sleep } from 'node:timers/promises';
import type { WriteId } from '../shared/job-store.js';
import { untilAborted } from '../shared/until-aborted.js';

/** A write Redis kept refusing for longer than the worker may wait, or one the worker stopped waiting for. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly lastError: unknown,
    readonly waitedMs: number,
    /** True when the retry's signal aborted (the worker's shutdown gave up on Redis), not the budget. */
    readonly abandoned = false,
  ) {
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    super(abandoned ? `a write to Redis was abandoned after ${waitedMs} ms: ${reason}` : `Redis refused a write for ${waitedMs} ms: ${reason}`);
  }
}

/** How long {@link retryRefused} keeps trying, and what stops it early. */
export interface RetryLimits {
  /** `REDIS_RETRY_MS`: how long refusals are retried, from the first one. */
  readonly budgetMs: number;
  /**
   * Aborted when the worker stops waiting for Redis (its shutdown's hand-back limit): the write in
   * flight is no longer waited for, the backoff sleep wakes, and the retry throws at once.
   */
  readonly signal: AbortSignal;
}

/**
 * Runs `write` until Redis takes it: an error reply (OOM under `noeviction`, READONLY while a replica
 * is promoted, LOADING, a connection closed under the command) means the script did not run, so the
 * same write, with the same {@link WriteId}, is sent again after a backoff from 25 ms doubling to
 * 1 s. The budget counts from the first refusal: time a command spent merely waiting inside ioredis
 * (Redis down, a reconnect, CLIENT PAUSE) before it was refused does not use it up. After `budgetMs`
 * of refusals it throws {@link StoreUnavailableError}; when `signal` aborts it throws one at once
 * (`abandoned`), even while a command still waits inside ioredis: that command may still run later,
 * which the write id and the attempt's fence make harmless.
 */
export function retryRefused<T>(write: () => Promise<T>, limits: RetryLimits): Promise<T> {
  const { signal } = limits;
  const startedAt = Date.now();
  if (signal.aborted) return Promise.reject(abandonedSince(signal, startedAt));
  // The first try without an async frame around it: a write Redis takes (nearly all of them, one per
  // delta at low load) costs one promise here.
  let first: Promise<T>;
  try {
    first = write();
  } catch (err) {
    // A write that throws instead of rejecting is refused all the same (as when this was async).
    first = Promise.reject(err);
  }
  return untilAborted(first, signal).then(undefined, (err: unknown) => retryAfterRefusal(write, limits, err, startedAt));
}

/** What {@link retryRefused} throws when `signal` aborted. */
const abandonedSince = (signal: AbortSignal, startedAt: number) => new StoreUnavailableError(signal.reason, Date.now() - startedAt, true);

/** {@link retryRefused} after the first refusal (`err`): backoff from 25 ms doubling to 1 s, within the budget. */
async function retryAfterRefusal<T>(write: () => Promise<T>, limits: RetryLimits, err: unknown, startedAt: number): Promise<T> {
  const { budgetMs, signal } = limits;
  const firstRefusal = Date.now();
  for (let delayMs = 25; ; delayMs = Math.min(delayMs * 2, 1000)) {
    if (signal.aborted) throw abandonedSince(signal, startedAt);
    const refusedFor = Date.now() - firstRefusal;
    if (refusedFor >= budgetMs) throw new StoreUnavailableError(err, refusedFor);
    await sleep(Math.min(delayMs, budgetMs - refusedFor), undefined, { signal }).catch(() => {});
    if (signal.aborted) throw abandonedSince(signal, startedAt);
    try {
      return await untilAborted(write(), signal);
    } catch (next) {
      err = next;
    }
  }
}

/** Numbers the writes of one attempt (its {@link WriteId}s), in the order they are made. */
export interface AttemptWrites {
  readonly fence: number;
  next(): WriteId;
}

/** The write ids of the attempt with `fence`. */
export function attemptWrites(fence: number): AttemptWrites {
  let op = 0;
  return {
    fence,
    next: () => ({ fence, op: ++op }),
  };
}
