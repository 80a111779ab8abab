import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { assertRedisReachable } from '../shared/redis.js';
import { installShutdown } from '../shared/shutdown.js';
import { startApi } from './create-api.js';
import { failStartup } from '../shared/fail-startup.js';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, 'api');
  if (config.apiKeys.length === 0) logger.warn('API_KEYS is not set: the API accepts requests without a key');
  await assertRedisReachable(config.redisUrl);
  const api = await startApi(config, logger);
  installShutdown(logger, [() => api.close()]);
}

main().catch(failStartup);
