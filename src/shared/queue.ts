import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from './redis.js';
import { globalKeys, queueName } from './keys.js';
import type { TraceCarrier } from './trace-context.js';

/** The data of a BullMQ job: the id (everything else lives on the job record) and, traced, its trace context. */
export interface QueueJobData {
  readonly jobId: string;
  /** The submitting request's span, which each attempt's span is a child of (only while tracing is on). */
  readonly trace?: TraceCarrier;
}

/** The queue the API adds to; BullMQ keys live under the `{prefix}` hash tag. */
export function createQueue(connection: RedisClient, keyPrefix: string): Queue<QueueJobData> {
  return new Queue<QueueJobData>(queueName, { connection, prefix: globalKeys(keyPrefix).queuePrefix });
}

/** Name of the backoff strategy the worker registers (it honours the upstream's `retry-after`). */
export const backoffType = 'upstream';

/** The queue that carries webhook deliveries (run by the workers). */
export const webhookQueueName = 'webhooks';

/** The data of a webhook delivery: the job, and once its ending was seen, exactly what is sent. */
export interface WebhookJobData {
  readonly jobId: string;
  /** Set at the first attempt, so every retry sends the same body even after the record expired. */
  readonly delivery?: { readonly url: string; readonly status: string; readonly body: string };
}

/** Name of the webhook queue's backoff strategy (`WEBHOOK_RETRY_DELAYS_MS`, with jitter). */
export const webhookBackoffType = 'webhook';

/** The webhook queue, beside the generation queue under the same `{prefix}` hash tag. */
export function createWebhookQueue(connection: RedisClient, keyPrefix: string): Queue<WebhookJobData> {
  return new Queue<WebhookJobData>(webhookQueueName, { connection, prefix: globalKeys(keyPrefix).queuePrefix });
}

/**
 * The delivery of a job's webhook, queued with the job itself (so it is as durable as the job): it
 * runs when the job ends (the `ended` control message promotes it) or, should that message be missed,
 * at `fallbackDelayMs` anyway, and then every minute until the job has ended. One attempt per entry of
 * `WEBHOOK_RETRY_DELAYS_MS`, plus the first.
 */
export function webhookJobOptions(queueJobId: string, fallbackDelayMs: number, retryDelays: number): JobsOptions {
  return {
    jobId: `${queueJobId}.webhook`,
    delay: fallbackDelayMs,
    attempts: retryDelays + 1,
    backoff: { type: webhookBackoffType },
    removeOnComplete: { age: 24 * 3600, count: 10_000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
  };
}

/**
 * The priority of a job that names none: the middle of BullMQ's range (1 first … 2^21 - 1), so a job can
 * be marked to run before unmarked ones (below it) or after them (above it). BullMQ itself would run
 * an unmarked job (its priority 0) before every marked one.
 */
export const defaultPriority = 2 ** 20;

/**
 * Options of every queued generation. `queueJobId` is the record's (`<jobId>.<create token>`), so a
 * record is never queued twice. Finished BullMQ jobs are pruned: the job record is the truth, not the
 * queue.
 */
export function jobOptions(queueJobId: string, attempts: number, priority: number = defaultPriority): JobsOptions {
  return {
    jobId: queueJobId,
    priority,
    attempts,
    backoff: { type: backoffType },
    removeOnComplete: { age: 3600, count: 10_000 },
    removeOnFail: { age: 24 * 3600, count: 10_000 },
  };
}
