import { format } from 'node:util';
import { pino, type Logger } from 'pino';

export type { Logger };

/** A JSON logger (pino) for one process role; `level` from `LOG_LEVEL`. */
export function createLogger(level: string, role: string): Logger {
  return pino({ level, base: { role, pid: process.pid } });
}

/**
 * Sends what libraries print with `console.*` (the Anthropic SDK's model-deprecation notices, for one)
 * through `logger`, as JSON lines with `source: "console"`, so stdout stays one JSON object per line.
 * For `main.ts` files only: it replaces the process's console methods.
 */
export function routeConsoleToLogger(logger: Logger): void {
  const child = logger.child({ source: 'console' });
  const to = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => child[level](format(...args));
  console.log = to('info');
  console.info = to('info');
  console.debug = to('debug');
  console.warn = to('warn');
  console.error = to('error');
}
