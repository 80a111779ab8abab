import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * For `main.ts` files: reads `.env` from the working directory into `process.env` when there is one
 * (Node's own parser, `process.loadEnvFile`). Variables already set in the environment win. Returns
 * the file read, or undefined.
 */
export function loadDotEnv(file = resolve('.env')): string | undefined {
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
