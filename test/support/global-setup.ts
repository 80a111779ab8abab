import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { startRedisCluster } from './redis-cluster.js';
import { findRedisServerBinary, startRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the real Redis every test file uses (namespaced with `uniquePrefix`, never flushed). */
    redisUrl: string;
    /** `REDIS_CLUSTER_NODES` of a real local 3-master Redis Cluster the suite shares the same way. */
    redisClusterNodes: string;
  }
}

const PROBE_TIMEOUT_MS = 5_000;

interface FoundRedis {
  readonly url: string;
  readonly source: string;
  readonly stop: () => Promise<void>;
}

/**
 * Vitest global setup: finds a real Redis and provides its URL as `redisUrl`. In order: `REDIS_URL`
 * (must answer PING), a testcontainers `redis:7-alpine` when a container runtime answers, a private
 * `redis-server` on a free port. Otherwise it throws: tests never skip for want of Redis.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const startedAt = Date.now();
  const found = await findRedis();
  project.provide('redisUrl', found.url);
  console.log(`[global-setup] Redis from ${found.source}: ${redact(found.url)} (ready in ${Date.now() - startedAt} ms)`);
  const clusterStartedAt = Date.now();
  const cluster = await startRedisCluster({ masters: 3 });
  project.provide('redisClusterNodes', cluster.seeds);
  console.log(`[global-setup] Redis Cluster of 3 masters from redis-server processes: ${cluster.seeds} (ready in ${Date.now() - clusterStartedAt} ms)`);
  return async () => {
    await cluster.stop();
    await found.stop();
  };
}

async function findRedis(): Promise<FoundRedis> {
  const fromEnv = process.env['REDIS_URL'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    try {
      await pingUrl(fromEnv);
    } catch (err) {
      throw new Error(
        `REDIS_URL is set to ${redact(fromEnv)} but that Redis does not answer PING: ${errorMessage(err)}\n` +
          'Start it, fix REDIS_URL, or unset REDIS_URL to let the tests start their own Redis.',
        { cause: err },
      );
    }
    return { url: fromEnv, source: 'REDIS_URL', stop: async () => {} };
  }

  const notes: string[] = [];
  const container = await tryTestcontainers(notes);
  if (container !== undefined) return container;

  if (findRedisServerBinary() !== undefined) {
    const server = await startRedisServer();
    const why = notes.join('; ');
    return { url: server.url, source: `a private redis-server, pid ${server.pid} [${why}]`, stop: () => server.stop() };
  }
  notes.push('redis-server: not found on PATH, /usr/bin, /usr/sbin or /usr/local/bin');

  throw new Error(
    [
      '',
      '==================== NO REDIS FOR THE TESTS ====================',
      'The tests need a real Redis and will not skip without one. Any of these works:',
      '  1. set REDIS_URL=redis://HOST:PORT to a running Redis (keys are namespaced, nothing is flushed);',
      '  2. run a container runtime (Docker, Podman) so testcontainers can start redis:7-alpine;',
      '  3. install redis-server (apt-get install -y redis-server) so the tests start a private one.',
      'What was tried:',
      ...notes.map((n) => `  - ${n}`),
      '================================================================',
    ].join('\n'),
  );
}

/** A testcontainers Redis, or undefined (with the reason in `notes`) when no container runtime answers. */
async function tryTestcontainers(notes: string[]): Promise<FoundRedis | undefined> {
  // Loaded only here: with REDIS_URL set the tests never pay for importing dockerode.
  const { getContainerRuntimeClient } = await import('testcontainers');
  try {
    // Without a runtime this rejects in milliseconds; the timeout is for a DOCKER_HOST that never answers.
    await withTimeout(getContainerRuntimeClient(), PROBE_TIMEOUT_MS, 'container runtime probe');
  } catch (err) {
    notes.push(`testcontainers: ${errorMessage(err)}`);
    return undefined;
  }
  const { RedisContainer } = await import('@testcontainers/redis');
  try {
    const started = await new RedisContainer('redis:7-alpine').start();
    return {
      url: started.getConnectionUrl(),
      source: 'testcontainers (redis:7-alpine)',
      stop: async () => {
        await started.stop();
      },
    };
  } catch (err) {
    // A runtime that answers but cannot run the image (offline pull, say): say so, then fall through.
    const note = `testcontainers: a container runtime answered but redis:7-alpine did not start: ${errorMessage(err)}`;
    console.warn(`[global-setup] ${note}`);
    notes.push(note);
    return undefined;
  }
}

async function pingUrl(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PROBE_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // With retries off, connect() rejects with a bare "Connection is closed"; the cause (ECONNREFUSED,
  // NOAUTH...) arrives as an 'error' event.
  let lastError: Error | undefined;
  client.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await withTimeout(client.connect(), PROBE_TIMEOUT_MS, 'connect');
    const reply = await withTimeout(client.ping(), PROBE_TIMEOUT_MS, 'PING');
    if (reply !== 'PONG') throw new Error(`PING answered ${JSON.stringify(reply)}`);
  } catch (err) {
    throw lastError !== undefined ? new Error(`${errorMessage(err)} (${lastError.message})`, { cause: err }) : err;
  } finally {
    client.disconnect();
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
