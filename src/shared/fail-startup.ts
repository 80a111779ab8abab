import { AppError } from './errors.js';

/**
 * For a `main.ts` whose start-up failed: a start-up problem the user can fix (configuration, no Redis)
 * is one plain line; anything else keeps its stack. Exits 1.
 */
export function failStartup(err: unknown): never {
  if (err instanceof AppError) process.stderr.write(`genrelay: ${err.message}\n`);
  else process.stderr.write(`genrelay: start-up failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
