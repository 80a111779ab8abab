import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../shared/logger.js';

/**
 * The viewer-token secret: `VIEWER_TOKEN_SECRET` when set; otherwise one random secret that the first
 * API node stores in Redis (SET NX) and every other node reads, so tokens work on every node without
 * configuration. It lives as long as that key does (no TTL; deleting it invalidates every token).
 */
export async function resolveTokenSecret(
  configured: string | undefined,
  redis: Redis,
  key: string,
  logger: Logger,
): Promise<string> {
  if (configured !== undefined) return configured;
  await redis.set(key, randomBytes(32).toString('base64url'), 'NX');
  const shared = await redis.get(key);
  if (shared === null) throw new Error(`viewer-token secret ${key} vanished`);
  logger.info({ key }, 'VIEWER_TOKEN_SECRET is not set: using the shared secret stored in Redis');
  return shared;
}
