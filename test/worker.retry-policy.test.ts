import { describe, expect, it } from 'vitest';
import type { UpstreamFailure } from '../src/worker/classify-upstream-error.js';
import { backoffDelayMs, RetryableAttemptError } from '../src/worker/retry-policy.js';

const failure = (retryAfterMs: number | undefined): RetryableAttemptError =>
  new RetryableAttemptError({
    error: { type: 'rate_limit_error', message: 'slow down' },
    retryable: true,
    retryAfterMs,
  } satisfies UpstreamFailure);

/** A `random` that must not be consulted. */
const noRandom = (): number => {
  throw new Error('random() called although retry-after decides the delay');
};

describe('backoffDelayMs', () => {
  it('waits exactly what the upstream asked for in retry-after, whatever the attempt', () => {
    expect(backoffDelayMs(1, failure(1000), noRandom)).toBe(1000);
    expect(backoffDelayMs(5, failure(2500), noRandom)).toBe(2500);
    expect(backoffDelayMs(2, failure(0), noRandom)).toBe(0);
  });

  it('caps retry-after at 60 s and never waits a negative time', () => {
    expect(backoffDelayMs(1, failure(60_000), noRandom)).toBe(60_000);
    expect(backoffDelayMs(1, failure(3_600_000), noRandom)).toBe(60_000);
    expect(backoffDelayMs(1, failure(-5), noRandom)).toBe(0);
  });

  it('grows exponentially from 500 ms, jittered between half and all of it, capped at 10 s', () => {
    // BullMQ passes attemptsMade = 1 when computing the delay before the second attempt.
    const ceilings = [500, 1000, 2000, 4000, 8000, 10_000, 10_000];
    ceilings.forEach((ceiling, i) => {
      const attemptsMade = i + 1;
      const low = backoffDelayMs(attemptsMade, failure(undefined), () => 0);
      expect(low, `low, attemptsMade ${attemptsMade}`).toBe(ceiling / 2);
      expect(backoffDelayMs(attemptsMade, failure(undefined), () => 0.5), `mid, attemptsMade ${attemptsMade}`).toBe(
        (ceiling * 3) / 4,
      );
      const high = backoffDelayMs(attemptsMade, failure(undefined), () => 0.999_999);
      expect(high, `high, attemptsMade ${attemptsMade}`).toBeLessThanOrEqual(ceiling);
      expect(high).toBeGreaterThan(ceiling - 1);
    });
  });

  it('uses the exponential backoff for errors that carry no retry-after', () => {
    expect(backoffDelayMs(1, new Error('not ours'), () => 0)).toBe(250);
    expect(backoffDelayMs(3, undefined, () => 1)).toBe(2000);
    expect(backoffDelayMs(100, new Error('many'), () => 1)).toBe(10_000);
  });

  it('stays within its bounds with the real random source', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(2, failure(undefined));
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });
});
