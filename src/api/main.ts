import { loadConfig } from '../shared/config.js';
import { loadDotEnv } from '../shared/dot-env.js';
import { failStartup } from '../shared/fail-startup.js';
import { installGcSignal } from '../shared/gc-signal.js';
import { createLogger, routeConsoleToLogger } from '../shared/logger.js';
import { assertRedisReachable } from '../shared/redis.js';
import { installShutdown } from '../shared/shutdown.js';
import { createTracing } from '../shared/tracing.js';
import { startApi } from './create-api.js';

async function main(): Promise<void> {
  const envFile = loadDotEnv();
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, 'api');
  routeConsoleToLogger(logger);
  installGcSignal();
  if (envFile !== undefined) logger.info({ file: envFile }, 'read .env (variables set in the environment win)');
  if (config.apiKeys.length === 0) logger.warn('API_KEYS is not set: the API accepts requests without a key');
  const closers: (() => Promise<void>)[] = [];
  const shutdown = installShutdown(logger, () => closers);
  await assertRedisReachable(config);
  // Off unless an OTLP endpoint is set (docs/tracing.md); closed last, so the last spans are sent.
  const tracing = await createTracing(process.env, { serviceName: 'genrelay-api', logger });
  closers.push(() => tracing.close());
  const api = await startApi(config, logger, { tracer: tracing.tracer });
  closers.unshift(() => api.close());
  shutdown.started();
}

main().catch(failStartup);
