/** Options of {@link createBackoff}. */
export interface BackoffOptions {
  /** First delay, before jitter. Default 100. */
  readonly initialMs?: number;
  /** Largest delay. Default 5000. */
  readonly maxMs?: number;
  /** Random in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

/** Reconnect delays: exponential from about 100 ms to 5 s, with jitter; `reset()` after progress. */
export interface Backoff {
  /** The next delay in ms; `atLeastMs` (a server's Retry-After) wins when it is longer. */
  next(atLeastMs?: number): number;
  reset(): void;
}

/**
 * Delays that double from `initialMs` up to `maxMs`, each drawn from the upper half of its step
 * (so a fleet of clients that lost the same server does not come back in step).
 */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initial = options.initialMs ?? 100;
  const max = options.maxMs ?? 5000;
  const random = options.random ?? Math.random;
  let step = initial;
  return {
    next(atLeastMs = 0) {
      const delay = step / 2 + (random() * step) / 2;
      step = Math.min(max, step * 2);
      return Math.max(Math.round(delay), atLeastMs);
    },
    reset() {
      step = initial;
    },
  };
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
