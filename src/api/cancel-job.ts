import { encodeControl } from '../shared/control-channel.js';
import type { CancelOutcome, JobStore } from '../shared/job-store.js';
import type { RedisClient } from '../shared/redis.js';

/**
 * Cancels a job from any node, for the HTTP route and the socket alike: the durable flag (a queued job
 * ends `cancelled` at once), then, for a running one, the broadcast that makes the worker running it,
 * wherever it is, abort now.
 */
export async function cancelJob(store: JobStore, redis: RedisClient, controlChannel: string, id: string): Promise<CancelOutcome> {
  const outcome = await store.cancel(id);
  if (outcome === 'requested') await redis.publish(controlChannel, encodeControl({ type: 'cancel', jobId: id }));
  return outcome;
}
