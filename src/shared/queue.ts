import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { globalKeys, queueName } from './keys.js';

/** The data of a BullMQ job: only the id; everything else lives on the job record. */
export interface QueueJobData {
  readonly jobId: string;
}

/** The queue the API adds to; BullMQ keys live under the `{prefix}` hash tag. */
export function createQueue(connection: Redis, keyPrefix: string): Queue<QueueJobData> {
  return new Queue<QueueJobData>(queueName, { connection, prefix: globalKeys(keyPrefix).queuePrefix });
}

/** Name of the backoff strategy the worker registers (it honours the upstream's `retry-after`). */
export const backoffType = 'upstream';

/**
 * Options of every queued generation. `queueJobId` is the record's (`<jobId>.<create token>`), so a
 * record is never queued twice. Finished BullMQ jobs are pruned: the job record is the truth, not the
 * queue.
 */
export function jobOptions(queueJobId: string, attempts: number): JobsOptions {
  return {
    jobId: queueJobId,
    attempts,
    backoff: { type: backoffType },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 24 * 3600, count: 10_000 },
  };
}
