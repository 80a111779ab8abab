import { startApi } from './api/create-api.js';
import { loadConfig } from './shared/config.js';
import { AppError } from './shared/errors.js';
import { createLogger } from './shared/logger.js';
import { assertRedisReachable } from './shared/redis.js';
import { installShutdown } from './shared/shutdown.js';
import { startLocalRedisIfMissing } from './local-redis.js';
import { startSimulator } from './simulator/index.js';
import { createWorker } from './worker/create-worker.js';
import { createUpstreamClient } from './worker/upstream-client.js';
import { failStartup } from './shared/fail-startup.js';

async function main(): Promise<void> {
  // `npm start`: API and worker in one process; without a key, the simulated upstream too.
  let config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, 'genrelay');
  const closers: (() => Promise<void>)[] = [];

  const localRedis = await startLocalRedisIfMissing(config.redisUrl, process.env['REDIS_URL'] === undefined, logger);
  if (localRedis !== undefined) closers.push(localRedis.stop);
  await assertRedisReachable(config.redisUrl);

  let apiKey = config.anthropicApiKey;
  if (apiKey === undefined && config.anthropicBaseUrl === undefined) {
    if (config.production) {
      throw new AppError('config_invalid', 'ANTHROPIC_API_KEY is not set (required with NODE_ENV=production).');
    }
    const simulator = await startSimulator();
    closers.push(() => simulator.close());
    config = Object.freeze({ ...config, anthropicBaseUrl: simulator.url });
    apiKey = 'simulator';
    const line = '='.repeat(78);
    process.stderr.write(
      `\n${line}\n  NO ANTHROPIC_API_KEY: using the built-in SIMULATED upstream at ${simulator.url}\n` +
        `  Output is generated text, not Claude. Set ANTHROPIC_API_KEY to use the real API.\n${line}\n\n`,
    );
  } else if (apiKey === undefined) {
    apiKey = 'placeholder-key';
  }
  if (config.apiKeys.length === 0) logger.warn('API_KEYS is not set: the API accepts requests without a key');

  const worker = await createWorker({
    config,
    logger,
    client: createUpstreamClient({ apiKey, baseUrl: config.anthropicBaseUrl }),
  });
  // One process, one /metrics: the API's and the worker's.
  const api = await startApi(config, logger, [worker.metrics.registry]);
  process.stderr.write(`genrelay is up: ${api.url}  (try: curl -N ${api.url}/healthz)\n`);
  // API first (viewers reconnect elsewhere), then the worker drains, then what they depended on.
  installShutdown(logger, [() => api.close(), () => worker.close(), ...closers.reverse()]);
}

main().catch(failStartup);
