import { existsSync } from 'node:fs';
import { startSimulator } from './create-simulator.js';
import { demoBehaviour, type SimBehaviour } from './directive.js';

/**
 * Standalone simulator: `npm run simulator`. Reads `.env` when present (the environment wins), then
 * `SIM_PORT` (default 4010), `SIM_HOST` (default 127.0.0.1), `SIM_DEMO=1` (answer like `npm start`'s:
 * Markdown at a human pace), `SIM_TTFT_MS` and `SIM_TOKENS_PER_S` (default: the built-in 20 ms and
 * 200/s, for tests and benchmarks). Imports nothing from the rest of genrelay.
 */
if (existsSync('.env')) process.loadEnvFile('.env');
const env = process.env;
const problems: string[] = [];
const number = (name: string, min: number, integer: boolean): number | undefined => {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    problems.push(`${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${raw}"`);
  }
  return n;
};

const port = number('SIM_PORT', 0, true) ?? 4010;
const host = env['SIM_HOST']?.trim() || '127.0.0.1';
const ttft = number('SIM_TTFT_MS', 0, false);
const tps = number('SIM_TOKENS_PER_S', Number.MIN_VALUE, false);
if (problems.length > 0) {
  console.error(`simulator: invalid configuration: ${problems.join('; ')}`);
  process.exit(1);
}
const defaults: Partial<SimBehaviour> = {
  ...(env['SIM_DEMO'] === '1' ? demoBehaviour : {}),
  ...(ttft === undefined ? {} : { ttft_ms: ttft }),
  ...(tps === undefined ? {} : { tps }),
};

const sim = await startSimulator({ port, host, defaults });
console.log(`simulated Anthropic Messages API listening on ${sim.url} (ANTHROPIC_BASE_URL=${sim.url})`);

let signals = 0;
const shutdown = (signal: string): void => {
  if (++signals > 1) process.exit(1); // A second signal forces the exit.
  console.log(`simulator: ${signal}, closing`);
  sim.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('simulator: close failed', error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));
