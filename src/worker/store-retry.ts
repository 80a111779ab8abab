import { setTimeout as sleep } from 'node:timers/promises';
import type { WriteId } from '../shared/job-store.js';

/** A write Redis kept refusing for longer than the worker may wait. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly lastError: unknown,
    readonly waitedMs: number,
  ) {
    const reason = lastError instanceof Error ? lastError.message : String(lastError);
    super(`Redis refused a write for ${waitedMs} ms: ${reason}`);
  }
}

/**
 * Runs `write` until Redis takes it: an error reply (OOM under `noeviction`, READONLY while a replica
 * is promoted, LOADING, a connection closed under the command) means the script did not run, so the
 * same write, with the same {@link WriteId}, is sent again after a backoff from 25 ms doubling to
 * 1 s. The budget counts from the first refusal: time a command spent merely waiting inside ioredis
 * (Redis down, a reconnect, CLIENT PAUSE) before it was refused does not use it up. After `budgetMs`
 * of refusals it throws {@link StoreUnavailableError}.
 */
export async function retryRefused<T>(write: () => Promise<T>, budgetMs: number): Promise<T> {
  let firstRefusal: number | undefined;
  for (let delayMs = 25; ; delayMs = Math.min(delayMs * 2, 1000)) {
    try {
      return await write();
    } catch (err) {
      firstRefusal ??= Date.now();
      const refusedFor = Date.now() - firstRefusal;
      if (refusedFor >= budgetMs) throw new StoreUnavailableError(err, refusedFor);
      await sleep(Math.min(delayMs, budgetMs - refusedFor));
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
