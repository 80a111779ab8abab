import type { Logger } from './logger.js';

/** Options of {@link logRepeatedErrors}. */
export interface RepeatedErrorOptions {
  /** Log level of the records. Default `error`. */
  readonly level?: 'warn' | 'error';
  /** How long the same error is only counted after it was logged. Default 10 s. */
  readonly windowMs?: number;
  /** Fields added to every record (`role`, …). */
  readonly fields?: Record<string, unknown>;
  /** Log the error with its stack (true) or its message only. Default true. */
  readonly stack?: boolean;
}

/** The first line of an error's message. */
const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n', 1)[0] ?? '';

/**
 * What makes two errors "the same" for the log: the first line of the message with the ids in it
 * (job ids, script SHAs, numbers) taken out, so "Missing lock for job job_a… moveToFinished" from 400
 * jobs is one error, not 400.
 */
export const errorKey = (err: unknown): string =>
  firstLine(err).replace(/[\w.-]*\d[\w.-]*/g, (token) => (token.length >= 12 ? '<id>' : /^\d+$/.test(token) ? '<n>' : token));

/**
 * An `error` listener that logs each distinct error once per window and counts the rest: a loop that
 * hits the same refusal thousands of times a second (BullMQ's fetch under OOM, ioredis's reconnects)
 * writes one record with its stack, then one record per window saying how often it repeated, instead
 * of a record per failure. Errors with different messages are logged on their own. The summary timer
 * is unref'd, so it never keeps a process alive.
 */
export function logRepeatedErrors(logger: Logger, msg: string, options: RepeatedErrorOptions = {}): (err: unknown) => void {
  const level = options.level ?? 'error';
  const windowMs = options.windowMs ?? 10_000;
  const fields = options.fields ?? {};
  // Per message: how often it came since it was last logged, while its window is open.
  const open = new Map<string, { repeated: number }>();

  const closeWindow = (key: string) => {
    const entry = open.get(key);
    open.delete(key);
    if (entry !== undefined && entry.repeated > 0) {
      logger[level]({ ...fields, err: key, repeated: entry.repeated, window_ms: windowMs }, `${msg} (repeated)`);
    }
  };

  return (err) => {
    const key = errorKey(err);
    const entry = open.get(key);
    if (entry !== undefined) {
      entry.repeated += 1;
      return;
    }
    // A bounded map: past 100 distinct messages in one window, each further one is logged as it comes.
    if (open.size < 100) {
      open.set(key, { repeated: 0 });
      setTimeout(() => closeWindow(key), windowMs).unref();
    }
    logger[level]({ ...fields, err: options.stack === false ? firstLine(err) : err }, msg);
  };
}
