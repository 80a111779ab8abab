import { pino, type Logger } from 'pino';

export type { Logger };

/** A JSON logger (pino) for one process role; `level` from `LOG_LEVEL`. */
export function createLogger(level: string, role: string): Logger {
  return pino({ level, base: { role, pid: process.pid } });
}
