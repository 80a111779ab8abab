import type { UpstreamFailure } from './classify-upstream-error.js';

/** Thrown from the processor so BullMQ schedules the next attempt; carries the upstream's wait. */
export class RetryableAttemptError extends Error {
  override readonly name = 'RetryableAttemptError';
  constructor(readonly failure: UpstreamFailure) {
    super(`${failure.error.type}: ${failure.error.message}`);
  }
}

/** Longest wait between attempts we accept, even when the upstream asks for more. */
const maxDelayMs = 60_000;

/**
 * The queue's backoff (the queue owns retries; the SDK's are off): the upstream's `retry-after` when
 * it sent one, else exponential from 500 ms, capped at 10 s, with jitter (half to all of it) so a burst of failures
 * does not come back as a burst.
 */
export function backoffDelayMs(attemptsMade: number, err: unknown, random: () => number = Math.random): number {
  if (err instanceof RetryableAttemptError && err.failure.retryAfterMs !== undefined) {
    return Math.min(maxDelayMs, Math.max(0, err.failure.retryAfterMs));
  }
  const ceiling = Math.min(10_000, 500 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
