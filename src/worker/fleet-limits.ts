import type { Queue } from 'bullmq';
import type { Config } from '../shared/config.js';
import type { Logger } from '../shared/logger.js';
import type { RedisClient } from '../shared/redis.js';

/**
 * The queue's rate limit when the fleet has none: a window no fleet fills. BullMQ looks at its limiter
 * key (where a fleet-wide pause lives) only when the queue has a rate limit, so there must always be
 * one; keeping it on the queue, not in each worker's options, means every worker reads the same window
 * (a worker's own `limiter.duration` would override the queue's).
 */
export const noRateLimit = { max: 1e15, durationMs: 1000 } as const;

/** BullMQ's value for a manual rate limit (`setRateLimit`): more than any window's count. */
const pauseValue = String(Number.MAX_SAFE_INTEGER);

// Sets the queue's rate limit only if it has none (another worker may have set the fleet's meanwhile).
const ensureRateLimitScript = `
if redis.call('HEXISTS', KEYS[1], 'max') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'max', ARGV[1], 'duration', ARGV[2])
return 1`;

// The fleet-wide pause: BullMQ's limiter key at "full" for ARGV[1] ms, or for what is left of the
// current pause or window if that is longer (a second, shorter 429 never cuts a pause short).
const pauseScript = `
local ms = tonumber(ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left > ms then ms = left end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ms)
return ms`;

/**
 * Writes the fleet-wide upstream limits this worker is configured with onto the queue, before it
 * takes a job. A setting left unset leaves the queue's as it is (so one worker started without it
 * cannot lift the fleet's limit) and says so when there is one; `off` removes it.
 */
export async function applyFleetLimits(queue: Queue, redis: RedisClient, config: Pick<Config, 'upstreamMaxConcurrency' | 'upstreamRateLimit'>, logger: Logger): Promise<void> {
  const meta = `${queue.keys['meta']}`;
  const concurrency = config.upstreamMaxConcurrency;
  if (concurrency === 'off') await queue.removeGlobalConcurrency();
  else if (concurrency !== undefined) await queue.setGlobalConcurrency(concurrency);
  else {
    const inForce = await queue.getGlobalConcurrency();
    if (inForce !== null) logger.info({ upstreamMaxConcurrency: inForce }, 'UPSTREAM_MAX_CONCURRENCY is unset here; the fleet-wide cap on the queue stays in force');
  }
  const rate = config.upstreamRateLimit;
  if (rate === 'off') await queue.setGlobalRateLimit(noRateLimit.max, noRateLimit.durationMs);
  else if (rate !== undefined) await queue.setGlobalRateLimit(rate.max, rate.durationMs);
  else {
    await redis.eval(ensureRateLimitScript, 1, meta, noRateLimit.max, noRateLimit.durationMs);
    const inForce = await queue.getGlobalRateLimit();
    if (inForce !== null && inForce.max < noRateLimit.max) {
      logger.info({ upstreamRateLimit: `${inForce.max}/${inForce.duration}` }, 'UPSTREAM_RATE_LIMIT is unset here; the fleet-wide rate limit on the queue stays in force');
    }
  }
}

/** Pauses every worker's new upstream requests for `ms` (at least; see {@link pauseScript}). */
export function fleetPause(queue: Queue, redis: RedisClient): (ms: number) => Promise<number> {
  const limiter = `${queue.keys['limiter']}`;
  return async (ms) => Number(await redis.eval(pauseScript, 1, limiter, Math.max(1, Math.ceil(ms)), pauseValue));
}
