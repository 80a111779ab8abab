import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../shared/redis.js';
import type { Logger } from '../shared/logger.js';

/** The viewer-token secret as this node knows it now. */
export interface TokenSecret {
  /** The secret to sign and verify with. */
  current(): string;
  /**
   * Reads the shared secret again (a no-op for a configured one); resolves true when it changed.
   * Calls within a second of the last read share it, so a flood of bad tokens costs Redis nothing.
   */
  refresh(): Promise<boolean>;
  /** Stops the periodic re-read; idempotent. */
  close(): void;
}

/** Options of {@link createTokenSecret}. */
export interface TokenSecretOptions {
  /** `VIEWER_TOKEN_SECRET` (or `IDEMPOTENCY_SECRET`), when set: used as it is, never stored. */
  readonly configured: string | undefined;
  /** The variable that sets it, for the log. Default `VIEWER_TOKEN_SECRET`. */
  readonly variable?: string;
  readonly redis: RedisClient;
  /** Where the shared secret lives when none is configured. */
  readonly key: string;
  readonly logger: Logger;
  /** How often the shared secret is read again. Default 5000. */
  readonly refreshMs?: number;
}

/**
 * The viewer-token secret: `VIEWER_TOKEN_SECRET` when set; otherwise one random secret that the first
 * API node stores in Redis (SET NX) and every node reads. Every node reads it again every few seconds
 * and before refusing a token: if Redis lost it (a restart without persistence), the first node to
 * notice puts its own back (SET NX), so nodes that were running keep agreeing, and a node started
 * after the loss, which made a new one, is adopted by the others within `refreshMs`. The key has no
 * TTL; deleting it invalidates every token.
 */
export async function createTokenSecret(options: TokenSecretOptions): Promise<TokenSecret> {
  const { configured, redis, key, logger } = options;
  if (configured !== undefined) {
    return { current: () => configured, refresh: async () => false, close() {} };
  }
  const read = async (fallback: string): Promise<string> => {
    await redis.set(key, fallback, 'NX');
    const shared = await redis.get(key);
    if (shared === null) throw new Error(`viewer-token secret ${key} vanished`);
    return shared;
  };
  let secret = await read(randomBytes(32).toString('base64url'));
  const variable = options.variable ?? 'VIEWER_TOKEN_SECRET';
  logger.info({ key }, `${variable} is not set: using the shared secret stored in Redis`);

  let lastRead = Date.now();
  let reading: Promise<boolean> | undefined;
  const refresh = (): Promise<boolean> => {
    if (reading !== undefined) return reading;
    if (Date.now() - lastRead < 1000) return Promise.resolve(false);
    reading = read(secret)
      .then((shared) => {
        if (shared === secret) return false;
        logger.warn({ key }, `the shared secret of ${variable} changed in Redis (was its data lost?): using the new one`);
        secret = shared;
        return true;
      })
      .catch((err: unknown) => {
        logger.warn({ err, key }, 'could not read a shared secret');
        return false;
      })
      .finally(() => {
        lastRead = Date.now();
        reading = undefined;
      });
    return reading;
  };
  const timer = setInterval(() => void refresh(), options.refreshMs ?? 5000);
  timer.unref();
  return { current: () => secret, refresh, close: () => clearInterval(timer) };
}
