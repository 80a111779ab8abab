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
 * 1 s. Commands that are merely waiting (Redis down, ioredis reconnecting) wait inside ioredis and do
 * not count. After `budgetMs` of refusals it throws {@link StoreUnavailableError}.
 */
export async function retryRefused<T>(write: () => Promise<T>, budgetMs: number): Promise<T> {
  const started = Date.now();
  for (let delayMs = 25; ; delayMs = Math.min(delayMs * 2, 1000)) {
    try {
      return await write();
    } catch (err) {
      const waited = Date.now() - started;
      if (waited >= budgetMs) throw new StoreUnavailableError(err, waited);
      await sleep(Math.min(delayMs, budgetMs - waited));
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
