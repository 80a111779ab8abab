import { createHash } from 'node:crypto';
import type { RedisClient } from '../shared/redis.js';
import type { Logger } from '../shared/logger.js';

/** What every API node of one deployment must agree on, as digests (never the secrets themselves). */
export interface NodeSettings {
  /** `API_KEYS`, sorted, hashed; `off` when unset. */
  readonly apiKeys: string;
  /** `VIEWER_TOKEN_SECRET` hashed; `shared` when unset (the one in Redis). */
  readonly tokenSecret: string;
  /** `IDEMPOTENCY_SECRET` hashed; `shared` when unset. */
  readonly idempotencySecret: string;
}

/** The settings of a node from its configuration. */
export function nodeSettings(config: {
  apiKeys: readonly string[];
  viewerTokenSecret: string | undefined;
  idempotencySecret: string | undefined;
}): NodeSettings {
  const digest = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 16);
  return {
    apiKeys: config.apiKeys.length === 0 ? 'off' : digest([...config.apiKeys].sort().join('\n')),
    tokenSecret: config.viewerTokenSecret === undefined ? 'shared' : digest(config.viewerTokenSecret),
    idempotencySecret: config.idempotencySecret === undefined ? 'shared' : digest(config.idempotencySecret),
  };
}

const variables: Record<keyof NodeSettings, string> = {
  apiKeys: 'API_KEYS',
  tokenSecret: 'VIEWER_TOKEN_SECRET',
  idempotencySecret: 'IDEMPOTENCY_SECRET',
};

/** Options of {@link startDeploymentCheck}. */
export interface DeploymentCheckOptions {
  readonly redis: RedisClient;
  readonly keyPrefix: string;
  readonly nodeId: string;
  readonly settings: NodeSettings;
  readonly logger: Logger;
  /** How long a node's entry lives without a refresh (it refreshes at a third of this). Default 60000. */
  readonly ttlMs?: number;
}

/**
 * API nodes that share a Redis and `KEY_PREFIX` share jobs, so they must share `API_KEYS` and
 * `VIEWER_TOKEN_SECRET` too (a node with auth off would serve jobs the others guard). Each node
 * announces digests of its settings under the prefix (an entry that expires unless refreshed) and
 * warns, once per other node, about every setting that differs. Returns a stop function that removes
 * this node's entry.
 */
export async function startDeploymentCheck(options: DeploymentCheckOptions): Promise<() => Promise<void>> {
  const { redis, nodeId, settings, logger } = options;
  const ttlMs = options.ttlMs ?? 60_000;
  // One hash tag: the index and the entries stay in one Cluster slot.
  const base = `{${options.keyPrefix}:nodes}:api`;
  const own = `${base}:${nodeId}`;
  const warned = new Set<string>();

  const check = async () => {
    const ids = (await redis.smembers(base)).filter((id) => id !== nodeId);
    const values = ids.length === 0 ? [] : await redis.mget(...ids.map((id) => `${base}:${id}`));
    for (const [i, id] of ids.entries()) {
      const raw = values[i];
      if (raw === null || raw === undefined) {
        await redis.srem(base, id);
        continue;
      }
      if (warned.has(id)) continue;
      const theirs = JSON.parse(raw) as Partial<NodeSettings>;
      const differ = (Object.keys(variables) as (keyof NodeSettings)[]).filter((k) => theirs[k] !== settings[k]);
      if (differ.length === 0) continue;
      warned.add(id);
      logger.warn(
        { otherNode: id, differ: differ.map((k) => variables[k]) },
        `${differ.map((k) => variables[k]).join(' and ')} differ from those of API node ${id}, which shares ` +
          `KEY_PREFIX=${options.keyPrefix}: every node of one deployment needs the same API_KEYS, VIEWER_TOKEN_SECRET and KEY_PREFIX`,
      );
    }
  };
  const announce = async () => {
    await redis.set(own, JSON.stringify(settings), 'PX', ttlMs);
    await redis.sadd(base, nodeId);
  };
  await check();
  await announce();
  const timer = setInterval(() => {
    announce()
      .then(check)
      .catch((err: unknown) => logger.debug({ err }, 'deployment check failed'));
  }, Math.floor(ttlMs / 3));
  timer.unref();
  return async () => {
    clearInterval(timer);
    await redis.del(own).catch(() => {});
    await redis.srem(base, nodeId).catch(() => {});
  };
}
