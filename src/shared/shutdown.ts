import type { Logger } from './logger.js';

/** The same signal again within this long is a duplicate delivery, not a second request. */
const duplicateWindowMs = 300;

/** The handle of {@link installShutdown}. */
export interface Shutdown {
  /** Start-up is over: what `closers` names is running. A signal that came earlier is acted on now. */
  started(): void;
}

/**
 * Two-phase shutdown for a `main.ts`, installed before start-up begins: the first SIGTERM/SIGINT runs
 * `closers()` in order (each drains gracefully, bounded by its own timeout) and exits 0 when they are
 * done; a second signal exits at once (the same signal within 300 ms counts as the first one
 * delivered twice, as Ctrl+C under `npm start` is). A signal during start-up waits until `started()`:
 * then everything has started and is stopped in order, rather than half of it killed. (A start-up
 * that fails exits by itself.)
 */
export function installShutdown(logger: Logger, closers: () => readonly (() => Promise<void>)[]): Shutdown {
  let first: { signal: NodeJS.Signals; at: number } | undefined;
  let markStarted: () => void = () => {};
  const startedUp = new Promise<void>((resolve) => (markStarted = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    if (first !== undefined) {
      // Ctrl+C under `npm start` arrives twice at once: from the terminal to the whole process group,
      // and forwarded by npm. That is one request to stop, not the second that forces the exit.
      if (signal === first.signal && Date.now() - first.at < duplicateWindowMs) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    first = { signal, at: Date.now() };
    logger.info({ signal }, 'shutting down');
    void (async () => {
      await startedUp;
      let code = 0;
      for (const close of closers()) {
        try {
          await close();
        } catch (err) {
          code = 1;
          logger.error({ err }, 'error while shutting down');
        }
      }
      logger.info('stopped');
      logger.flush?.();
      process.exit(code);
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { started: () => markStarted() };
}
