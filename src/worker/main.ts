import { loadConfig } from '../shared/config.js';
import { AppError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { assertRedisReachable } from '../shared/redis.js';
import { installShutdown } from '../shared/shutdown.js';
import { createWorker } from './create-worker.js';
import { startMetricsServer } from './metrics-server.js';
import { createUpstreamClient } from './upstream-client.js';
import { failStartup } from '../shared/fail-startup.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, 'worker');
  let apiKey = config.anthropicApiKey;
  if (apiKey === undefined) {
    if (config.production || config.anthropicBaseUrl === undefined) {
      throw new AppError(
        'config_invalid',
        'ANTHROPIC_API_KEY is not set. A worker needs it (or ANTHROPIC_BASE_URL pointing at a simulated upstream, ' +
          'e.g. `npm run simulator`); `npm start` runs one in-process without a key.',
      );
    }
    logger.warn({ baseUrl: config.anthropicBaseUrl }, 'ANTHROPIC_API_KEY is not set: sending a placeholder key');
    apiKey = 'placeholder-key';
  }
  await assertRedisReachable(config.redisUrl);
  const worker = await createWorker({
    config,
    logger,
    client: createUpstreamClient({ apiKey, baseUrl: config.anthropicBaseUrl }),
  });
  const closers = [() => worker.close()];
  if (config.workerMetricsPort !== undefined) {
    const metrics = await startMetricsServer(worker.metrics.registry, config.workerMetricsPort, config.host);
    logger.info({ url: `${metrics.url}/metrics` }, 'worker metrics listening');
    closers.push(() => metrics.close());
  }
  installShutdown(logger, closers);
}

main().catch(failStartup);
