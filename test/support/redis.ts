import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';

/** URL of the test Redis chosen by `test/support/global-setup.ts` (via vitest `inject`). */
export function redisUrl(): string {
  const url = inject('redisUrl');
  if (typeof url !== 'string' || url === '') {
    throw new Error('redisUrl was not provided: run the tests through vitest.config.ts (its globalSetup finds Redis)');
  }
  return url;
}

/** `REDIS_CLUSTER_NODES` of the suite's local Redis Cluster (see `test/support/global-setup.ts`). */
export function redisClusterNodes(): string {
  const nodes = inject('redisClusterNodes');
  if (typeof nodes !== 'string' || nodes === '') throw new Error('redisClusterNodes was not provided: run the tests through vitest.config.ts');
  return nodes;
}

/** Where a test's processes find Redis: one server, or the suite's Cluster. */
export interface Backend {
  readonly name: 'one Redis' | 'Redis Cluster';
  /** Environment for `loadConfig` and for genrelay processes. */
  readonly env: Readonly<Record<string, string>>;
}

/** Both backends, for tests that must hold on one Redis and on a Cluster alike. */
export function backends(): Backend[] {
  return [
    { name: 'one Redis', env: { REDIS_URL: redisUrl() } },
    { name: 'Redis Cluster', env: { REDIS_CLUSTER_NODES: redisClusterNodes() } },
  ];
}

/** The backend names, for `describe.each` (which runs before `inject` could be called). */
export const backendNames = ['one Redis', 'Redis Cluster'] as const;

/** The backend called `name`. */
export function backend(name: (typeof backendNames)[number]): Backend {
  const found = backends().find((b) => b.name === name);
  if (found === undefined) throw new Error(`no backend ${name}`);
  return found;
}

/**
 * A key prefix / queue name unique to one test: `t_${name}_${12 hex}`. Only letters, digits and
 * `_ . : -` (no braces), so it is valid as `KEY_PREFIX` and inside a `{hash tag}`.
 */
export function uniquePrefix(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_.:-]/g, '_');
  return `t_${safe}_${randomBytes(6).toString('hex')}`;
}

/** Opens an ioredis client on the test Redis, runs `fn`, and always closes the client. */
export async function withRedis<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(redisUrl(), { lazyConnect: true });
  try {
    await client.connect();
    return await fn(client);
  } finally {
    // quit() fails when the connection is already gone; disconnect() always ends it.
    await client.quit().catch(() => client.disconnect());
  }
}
