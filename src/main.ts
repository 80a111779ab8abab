import type { Registry } from 'prom-client';
import { startApi } from './api/create-api.js';
import { loadConfig } from './shared/config.js';
import { loadDotEnv } from './shared/dot-env.js';
import { AppError } from './shared/errors.js';
import { failStartup } from './shared/fail-startup.js';
import { createLogger, routeConsoleToLogger } from './shared/logger.js';
import { assertRedisReachable } from './shared/redis.js';
import { installShutdown } from './shared/shutdown.js';
import { createTracing } from './shared/tracing.js';
import { startLocalRedisIfMissing } from './local-redis.js';
import { demoBehaviour, startSimulator } from './simulator/index.js';
import { createWorker } from './worker/create-worker.js';
import { createUpstreamClient } from './worker/upstream-client.js';

async function main(): Promise<void> {
  // `npm start`: API and worker in one process; without a key, the simulated upstream too.
  const envFile = loadDotEnv();
  let config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, 'genrelay');
  routeConsoleToLogger(logger);
  if (envFile !== undefined) logger.info({ file: envFile }, 'read .env (variables set in the environment win)');
  if (config.anthropicApiKey === undefined && config.anthropicBaseUrl === undefined && config.production) {
    throw new AppError('config_invalid', 'ANTHROPIC_API_KEY is not set (required with NODE_ENV=production).');
  }
  // Everything started so far, stopped in reverse if a later step fails: nothing is left half-way.
  // API first (viewers reconnect elsewhere), then the worker drains, then what they depended on.
  const started: (() => Promise<void>)[] = [];
  const shutdown = installShutdown(logger, () => [...started].reverse());
  // Off unless an OTLP endpoint is set (docs/tracing.md); stopped last, so the last spans are sent.
  const tracing = await createTracing(process.env, { serviceName: 'genrelay', logger });
  started.push(() => tracing.close());
  try {
    const localRedis = await startLocalRedisIfMissing(config.redisUrl, process.env['REDIS_URL'] === undefined, logger);
    if (localRedis !== undefined) started.push(localRedis.stop);
    await assertRedisReachable(config);

    let apiKey = config.anthropicApiKey;
    let simulated = false;
    if (apiKey === undefined && config.anthropicBaseUrl === undefined) {
      // Writes like a model: Markdown at a human pace, so the first run shows streaming.
      const simulator = await startSimulator({ defaults: demoBehaviour });
      started.push(() => simulator.close());
      config = Object.freeze({ ...config, anthropicBaseUrl: simulator.url });
      apiKey = 'simulator';
      simulated = true;
    } else if (apiKey === undefined) {
      apiKey = 'placeholder-key';
    }
    if (config.apiKeys.length === 0) logger.warn('API_KEYS is not set: the API accepts requests without a key');

    // The API first: a taken port fails here, before the worker has taken any job.
    const workerMetrics: Registry[] = [];
    const api = await startApi(config, logger, { extraMetrics: () => workerMetrics, tracer: tracing.tracer });
    started.push(() => api.close());
    const worker = await createWorker({
      config,
      logger,
      client: createUpstreamClient({ apiKey, baseUrl: config.anthropicBaseUrl, logger, tracerProvider: tracing.tracerProvider }),
      tracer: tracing.tracer,
    });
    started.push(() => worker.close());
    // One process, one /metrics: the API's and the worker's.
    workerMetrics.push(worker.metrics.registry);

    const line = '='.repeat(78);
    if (simulated) {
      process.stderr.write(
        `\n${line}\n  NO ANTHROPIC_API_KEY: using the built-in SIMULATED upstream at ${config.anthropicBaseUrl ?? ''}\n` +
          `  Output is generated text, not Claude. Set ANTHROPIC_API_KEY to use the real API.\n${line}\n`,
      );
    }
    process.stderr.write(
      `\ngenrelay is up.\n  console:  ${api.url}/   (submit a prompt and watch it stream)\n` +
        `  API:      ${api.url}/v1/jobs   health: ${api.url}/healthz   metrics: ${api.url}/metrics\n\n`,
    );
    shutdown.started();
  } catch (err) {
    for (const stop of started.reverse()) await stop().catch(() => {});
    throw err;
  }
}

main().catch(failStartup);
