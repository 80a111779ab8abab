/**
 * The coalescing window's clock, one per worker. With `COALESCE_WINDOW_MS` > 0 an idle stream's first
 * piece waits for company; on its own timer, each job's window ends at its own moment and its write
 * leaves alone. On the shared clock, a window opens when the first job waits and every job that
 * starts waiting before it closes leaves with it: their script calls are made in the same turn. The
 * first goes out at once (no script is in flight: `scripts.ts`), ioredis pipelines the rest into one
 * socket write, and their replies come back together. That shares the two process wake-ups a write
 * costs (the floor measured in docs/performance.md) across jobs.
 * A piece waits at most the window, less when it joins one already open.
 */
export interface WriteClock {
  /** Resolves when the open window closes, opening one of `windowMs` if none is. */
  after(windowMs: number): Promise<void>;
}

/** A {@link WriteClock}. */
export function createWriteClock(): WriteClock {
  let open: Promise<void> | undefined;
  return {
    after(windowMs) {
      open ??= new Promise<void>((resolve) => {
        setTimeout(() => {
          open = undefined;
          resolve();
        }, windowMs);
      });
      return open;
    },
  };
}
