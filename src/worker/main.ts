import type { Registry } from 'prom-client';
import { loadConfig } from '../shared/config.js';
import { loadDotEnv } from '../shared/dot-env.js';
import { AppError } from '../shared/errors.js';
import { failStartup } from '../shared/fail-startup.js';
import { createLogger, routeConsoleToLogger } from '../shared/logger.js';
import { assertRedisReachable } from '../shared/redis.js';
import { installShutdown } from '../shared/shutdown.js';
import { createTracing } from '../shared/tracing.js';
import { createWorker } from './create-worker.js';
import { startMetricsServer } from './metrics-server.js';
import { createUpstreamClient } from './upstream-client.js';

async function main(): Promise<void> {
  const envFile = loadDotEnv();
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, 'worker');
  routeConsoleToLogger(logger);
  if (envFile !== undefined) logger.info({ file: envFile }, 'read .env (variables set in the environment win)');
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
  const closers: (() => Promise<void>)[] = [];
  const shutdown = installShutdown(logger, () => closers);
  await assertRedisReachable(config);
  // Off unless an OTLP endpoint is set (docs/tracing.md); closed last, so the last spans are sent.
  const tracing = await createTracing(process.env, { serviceName: 'genrelay-worker', logger });
  closers.push(() => tracing.close());
  try {
    // The metrics port first: a taken one fails here, before the worker has taken any job.
    let registry: Registry | undefined;
    if (config.workerMetricsPort !== undefined) {
      const metrics = await startMetricsServer(() => registry, config.workerMetricsPort, config.host);
      logger.info({ url: `${metrics.url}/metrics` }, 'worker metrics listening');
      closers.push(() => metrics.close());
    }
    const worker = await createWorker({
      config,
      logger,
      client: createUpstreamClient({ apiKey, baseUrl: config.anthropicBaseUrl, logger, tracerProvider: tracing.tracerProvider }),
      tracer: tracing.tracer,
    });
    registry = worker.metrics.registry;
    closers.unshift(() => worker.close());
    shutdown.started();
  } catch (err) {
    for (const close of closers) await close().catch(() => {});
    throw err;
  }
}

main().catch(failStartup);
