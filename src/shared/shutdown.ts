import type { Logger } from './logger.js';

/**
 * Two-phase shutdown for a `main.ts`: the first SIGTERM/SIGINT runs `closers` in order (each drains
 * gracefully, bounded by its own timeout) and exits 0 when they are done; a second signal exits at once.
 */
export function installShutdown(logger: Logger, closers: readonly (() => Promise<void>)[]): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void (async () => {
      let code = 0;
      for (const close of closers) {
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
}
