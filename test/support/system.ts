import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from '../../src/shared/redis.js';
import { startApi, type ApiOptions, type ApiServer } from '../../src/api/create-api.js';
import { loadConfig, type Config } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { startSimulator, type SimBehaviour, type Simulator } from '../../src/simulator/index.js';
import { createWorker, type GenrelayWorker } from '../../src/worker/create-worker.js';
import type { Tracing } from '../../src/shared/tracing.js';
import { createUpstreamClient } from '../../src/worker/upstream-client.js';
import { redisUrl, uniquePrefix } from './redis.js';

/** A whole genrelay (API + workers + simulated upstream) built in this process on a test prefix. */
export interface TestSystem {
  readonly url: string;
  readonly config: Config;
  readonly sim: Simulator;
  readonly api: ApiServer;
  readonly workers: GenrelayWorker[];
  /** A plain client on the test Redis (a Cluster client on a Cluster), for inspecting keys. */
  readonly redis: RedisClient;
  close(): Promise<void>;
}

/** Options of {@link startSystem}. */
export interface SystemOptions {
  readonly name: string;
  /** Extra environment for `loadConfig` (strings, as in production). */
  readonly env?: Record<string, string>;
  readonly workers?: number;
  readonly simDefaults?: Partial<SimBehaviour>;
  /** An already running simulator to use instead of a private one. */
  readonly sim?: Simulator;
  /** Options of the API (the socket's timers). */
  readonly apiOptions?: ApiOptions;
  /** Tracing for the API, the workers and their SDK client (`createTracing`). Default: off. */
  readonly tracing?: Pick<Tracing, 'tracer' | 'tracerProvider'>;
}

/** A plain client where `config` says Redis is: one server, or a Cluster. */
export function testRedisClient(config: Pick<Config, 'redisUrl' | 'redisClusterNodes'>): RedisClient {
  return config.redisClusterNodes === undefined ? new Redis(config.redisUrl) : new Cluster([...config.redisClusterNodes]);
}

/** Starts the real components on ephemeral ports and a unique key prefix. */
export async function startSystem(options: SystemOptions): Promise<TestSystem> {
  const sim = options.sim ?? (await startSimulator({ defaults: options.simDefaults ?? {} }));
  const config = loadConfig({
    REDIS_URL: redisUrl(),
    PORT: '0',
    KEY_PREFIX: uniquePrefix(options.name),
    ANTHROPIC_BASE_URL: sim.url,
    ANTHROPIC_API_KEY: 'test-key',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    LOCK_DURATION_MS: '3000',
    ...options.env,
  });
  const logger = createLogger(config.logLevel, 'test');
  const { tracer, tracerProvider } = options.tracing ?? {};
  const client = createUpstreamClient({ apiKey: 'test-key', baseUrl: sim.url, tracerProvider });
  const workers: GenrelayWorker[] = [];
  for (let i = 0; i < (options.workers ?? 1); i += 1) workers.push(await createWorker({ config, logger, client, tracer }));
  const api = await startApi(config, logger, { ...options.apiOptions, tracer });
  const redis = testRedisClient(config);
  // Tests that kill Redis see this client's reconnect errors too; they are expected.
  redis.on('error', () => {});
  let closing: Promise<void> | undefined;
  return {
    url: api.url,
    config,
    sim,
    api,
    workers,
    redis,
    close() {
      closing ??= (async () => {
        await api.close();
        await Promise.all(workers.map((w) => w.close(1000)));
        await redis.quit();
        if (options.sim === undefined) await sim.close();
      })();
      return closing;
    },
  };
}

/** A prompt whose upstream behaviour is `behaviour` (the simulator reads the `<<sim …>>` directive). */
export function simPrompt(behaviour: Partial<SimBehaviour> & { tag?: string }, words = 'Tell me something'): string {
  return `${words} <<sim ${JSON.stringify(behaviour)}>>`;
}

/** Submits a job; returns the parsed response and the raw one. */
export async function submitJob(
  baseUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${baseUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** Reads a job record. */
export async function getRecord(baseUrl: string, id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${baseUrl}/v1/jobs/${id}`);
  if (!res.ok) throw new Error(`GET record ${id}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Polls until `check` returns a value that is not undefined (bounded: throws after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Polls the record of job `id` until it is terminal and returns it. */
export function jobEnded(baseUrl: string, id: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  return eventually(async () => {
    const r = await getRecord(baseUrl, id);
    return r['status'] === 'queued' || r['status'] === 'running' ? undefined : r;
  }, timeoutMs, `job ${id} ended`);
}

/** `n` words `<tag>0 <tag>1 …`, one simulator delta each when given as its `text`. */
export function words(n: number, tag: string): string {
  return Array.from({ length: n }, (_, i) => `${i === 0 ? '' : ' '}${tag}${i}`).join('');
}
