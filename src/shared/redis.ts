import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisClusterAuth } from './config.js';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';
import { logRepeatedErrors } from './repeated-errors.js';

/** A connection to one Redis or to a Redis Cluster: every module takes either. */
export type RedisClient = Redis | Cluster;

/** Roles of the connections a process opens; in logs and in the client name `genrelay:<KEY_PREFIX>:<role>`. */
export type RedisRole = 'commands' | 'subscriber' | 'queue' | 'control' | 'webhooks';

/** Where Redis is: `REDIS_URL`, or with `REDIS_CLUSTER_NODES` the seed nodes of a Cluster. */
export interface RedisTarget {
  readonly redisUrl: string;
  readonly redisClusterNodes: readonly { readonly host: string; readonly port: number }[] | undefined;
  readonly redisClusterAuth?: RedisClusterAuth;
  readonly keyPrefix: string;
}

/**
 * Options every connection to a Cluster's nodes takes: the user and password, and TLS. With TLS the
 * nodes are reached by the names they announce, unresolved (`dnsLookup`), so their certificates
 * match; a private CA is trusted through Node's `NODE_EXTRA_CA_CERTS`.
 */
function clusterAuthOptions(auth: RedisClusterAuth | undefined): {
  redisOptions: { username?: string; password?: string; tls?: Record<string, never> };
  dnsLookup?: ClusterOptions['dnsLookup'];
} {
  if (auth === undefined) return { redisOptions: {} };
  const redisOptions = {
    ...(auth.username === undefined ? {} : { username: auth.username }),
    ...(auth.password === undefined ? {} : { password: auth.password }),
    ...(auth.tls ? { tls: {} } : {}),
  };
  return auth.tls ? { redisOptions, dnsLookup: (address, callback) => callback(null, address) } : { redisOptions };
}

/**
 * Opens a connection to one Redis (`REDIS_URL`) or, with `REDIS_CLUSTER_NODES`, to a Redis Cluster.
 * `maxRetriesPerRequest: null` (BullMQ needs it; for us, commands wait through a Redis restart or a
 * failover instead of failing), reconnect backoff capped at 2 s, RESP2 so replies keep the shapes
 * ioredis documents. The `commands` connection auto-pipelines: commands issued in one turn of the
 * event loop (a worker's appends for the many jobs whose chunks arrived together) go out in one socket
 * write per node. On a Cluster the `subscriber` keeps one sharded subscriber per master
 * (`shardedSubscribers`), so SSUBSCRIBE reaches the shard that owns each job's channel.
 */
export function createRedis(target: RedisTarget, role: RedisRole, logger: Logger, extra: Pick<RedisOptions, 'lazyConnect'> = {}): RedisClient {
  const options = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // CLIENT LIST then tells operators (and tests) which deployment and role each connection is.
    connectionName: `genrelay:${target.keyPrefix}:${role}`,
    protocol: 2 as const,
  };
  const clusterAuth = clusterAuthOptions(target.redisClusterAuth);
  const redis: RedisClient =
    target.redisClusterNodes === undefined
      ? new Redis(target.redisUrl, {
          ...options,
          retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2000),
          lazyConnect: extra.lazyConnect ?? false,
          enableAutoPipelining: role === 'commands',
        })
      : new Cluster([...target.redisClusterNodes], {
          ...clusterAuth,
          redisOptions: { ...clusterAuth.redisOptions, ...options },
          lazyConnect: extra.lazyConnect ?? false,
          enableAutoPipelining: role === 'commands',
          shardedSubscribers: role === 'subscriber',
          clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
          // A failover takes a few seconds (cluster-node-timeout, then the election): keep
          // redirecting and retrying through it rather than failing commands after 16 tries.
          maxRedirections: 100,
          retryDelayOnFailover: 200,
          retryDelayOnClusterDown: 200,
          retryDelayOnTryAgain: 200,
        });
  redis.on('error', logConnectionErrors(logger, 'redis connection error', { role }));
  return redis;
}

/** The private parts of an ioredis client that {@link dropRedis} ends it with. */
interface DroppableRedis {
  flushQueue(error: Error): void;
  setStatus(status: 'end'): void;
}

/**
 * Drops a connection at once, without waiting for Redis (`quit()` waits for its reply): what waits in
 * its queues fails with "Connection is closed.". ioredis (5) does that when the socket closes, which
 * is within 2 s (it destroys a socket that does not close by then); but a connection caught between
 * reconnects (Redis down) has no socket left to close, so ioredis would never fail its offline queue
 * nor emit `end`: it is ended here as ioredis's close handler would. Idempotent.
 */
export function dropRedis(client: RedisClient): void {
  if (client.status === 'end') return;
  client.disconnect();
  if (client instanceof Redis && client.status === 'reconnecting') {
    const internals = client as unknown as DroppableRedis;
    internals.flushQueue(new Error('Connection is closed.'));
    internals.setStatus('end');
  }
}

/**
 * An `error` listener for a Redis connection (ioredis's, or BullMQ's over one): ioredis emits an
 * error per failed reconnect; each distinct message is logged once per 5 s, with how often it repeated.
 */
export function logConnectionErrors(logger: Logger, msg: string, fields: Record<string, unknown> = {}): (err: Error) => void {
  return logRepeatedErrors(logger, msg, { level: 'warn', windowMs: 5000, fields, stack: false });
}

/**
 * Fails fast, with a message a new user can act on, when Redis does not answer at start-up.
 */
export async function assertRedisReachable(target: string | RedisTarget, timeoutMs = 3000): Promise<void> {
  const url = typeof target === 'string' ? target : target.redisUrl;
  const nodes = typeof target === 'string' ? undefined : target.redisClusterNodes;
  if (nodes !== undefined) {
    const clusterAuth = clusterAuthOptions(typeof target === 'string' ? undefined : target.redisClusterAuth);
    const probe = new Cluster([...nodes], {
      ...clusterAuth,
      lazyConnect: true,
      clusterRetryStrategy: () => null,
      enableOfflineQueue: false,
      redisOptions: { ...clusterAuth.redisOptions, connectTimeout: timeoutMs, maxRetriesPerRequest: 0 },
    });
    // "None of startup nodes is available" hides why; the error event says (a refused password, an
    // untrusted certificate) in the last node's error.
    let lastError: unknown;
    probe.on('error', (err: unknown) => (lastError = err));
    try {
      await probe.connect();
      const info = String(await probe.cluster('INFO'));
      if (!info.includes('cluster_state:ok')) throw new Error(info.split('\n')[0] ?? 'cluster not ok');
    } catch (cause) {
      const list = nodes.map((n) => `${n.host}:${n.port}`).join(',');
      const last = (lastError as { lastNodeError?: unknown } | undefined)?.lastNodeError ?? lastError;
      let why = last instanceof Error ? last.message : cause instanceof Error ? cause.message : String(cause);
      // A certificate Node does not trust ends as a closed connection, with no word of TLS.
      if (typeof target !== 'string' && target.redisClusterAuth?.tls === true && !/WRONGPASS|NOAUTH|NOPERM/.test(why)) {
        why = `${why.replace(/\.$/, '')}`;
        why += '; with rediss://, Node must trust the nodes\' certificate: NODE_EXTRA_CA_CERTS=<ca file> for a private CA';
      }
      throw new AppError(
        'redis_unavailable',
        `No working Redis Cluster answers at REDIS_CLUSTER_NODES=${list} (${why}).`,
        { cause },
      );
    } finally {
      probe.disconnect();
    }
    return;
  }
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (cause) {
    const safeUrl = url.replace(/\/\/[^@]*@/, '//***@');
    throw new AppError(
      'redis_unavailable',
      `No Redis answers at REDIS_URL=${safeUrl}. Start one (redis-server, or "docker run -p 6379:6379 redis:7") ` +
        'or point REDIS_URL at yours.',
      { cause },
    );
  } finally {
    probe.disconnect();
  }
}
