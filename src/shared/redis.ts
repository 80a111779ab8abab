import { Redis, type RedisOptions } from 'ioredis';
import { AppError } from './errors.js';
import type { Logger } from './logger.js';

/** Roles of the connections a process opens; in logs and in the client name `genrelay:<KEY_PREFIX>:<role>`. */
export type RedisRole = 'commands' | 'subscriber' | 'queue' | 'control' | 'webhooks';

/**
 * Opens a Redis connection. `maxRetriesPerRequest: null` (BullMQ needs it; for us, commands wait
 * through a Redis restart instead of failing), reconnect backoff capped at 2 s, RESP2 so replies keep
 * the shapes ioredis documents. The `commands` connection auto-pipelines: commands issued in one turn
 * of the event loop (a worker's appends for the many jobs whose chunks arrived together) go out in
 * one socket write and come back in one read.
 */
export function createRedis(
  config: { readonly redisUrl: string; readonly keyPrefix: string },
  role: RedisRole,
  logger: Logger,
  extra: Pick<RedisOptions, 'lazyConnect'> = {},
): Redis {
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    // CLIENT LIST then tells operators (and tests) which deployment and role each connection is.
    connectionName: `genrelay:${config.keyPrefix}:${role}`,
    protocol: 2,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    lazyConnect: extra.lazyConnect ?? false,
    enableAutoPipelining: role === 'commands',
  });
  redis.on('error', logConnectionErrors(logger, 'redis connection error', { role }));
  return redis;
}

/**
 * An `error` listener for a Redis connection (ioredis's, or BullMQ's over one): ioredis emits an
 * error per failed reconnect, and one JSON log line every 5 s is enough to see an outage.
 */
export function logConnectionErrors(logger: Logger, msg: string, fields: Record<string, unknown> = {}): (err: Error) => void {
  let lastLogged = 0;
  return (err) => {
    const now = Date.now();
    if (now - lastLogged > 5000) {
      lastLogged = now;
      logger.warn({ err: err.message, ...fields }, msg);
    }
  };
}

/**
 * Fails fast, with a message a new user can act on, when Redis does not answer at start-up.
 */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
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
