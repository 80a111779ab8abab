import { DelayedError, Job, Queue, UnrecoverableError } from 'bullmq';
import type { RedisClient } from '../../shared/redis.js';
import type { Config } from '../../shared/config.js';
import { closeAll } from '../../shared/close-all.js';
import { isTerminal } from '../../shared/events.js';
import type { JobStore, WebhookDelivery } from '../../shared/job-store.js';
import { toRecordView } from '../../shared/job-record.js';
import { globalKeys } from '../../shared/keys.js';
import type { Logger } from '../../shared/logger.js';
import { logRepeatedErrors } from '../../shared/repeated-errors.js';
import { webhookBackoffType, webhookQueueName, type WebhookJobData } from '../../shared/queue.js';
import type { WebhookPayload } from '../../shared/wire.js';
import type { WorkerMetrics } from '../metrics.js';
import { QueueWorker } from '../queue-worker.js';
import { postWebhook } from './post.js';
import { signWebhook } from './sign.js';

/** The webhook side of a worker process. */
export interface WebhookWorker {
  /** A job with a webhook ended (the control channel said so): deliver now, not at the fallback time. */
  jobEnded(queueJobId: string): void;
  /** Stops delivering, then closes the promoting queue handle, even when the first fails; idempotent. */
  close(): Promise<void>;
  /** After its connection was dropped: lets a close() that waits for Redis end without it ({@link QueueWorker.abandon}). */
  abandon(): Promise<void>;
}

/** Dependencies of {@link createWebhookWorker}. */
export interface WebhookWorkerDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: JobStore;
  readonly metrics: WorkerMetrics;
  /** For the BullMQ worker (blocking commands) and the promoting queue handle. */
  readonly connection: RedisClient;
}

/** How long a delivery waits for the receiver's answer. */
const deliveryTimeoutMs = 10_000;
/** How often a delivery whose job has not ended yet looks again. */
const notEndedRecheckMs = 60_000;

/**
 * Delivers webhooks: at least once, signed (Standard Webhooks), from a BullMQ queue of its own, so a
 * worker that dies mid-delivery loses nothing (another takes the stalled delivery). 2xx delivers; 410
 * stops; anything else, a timeout or a connection error retries on the `WEBHOOK_RETRY_DELAYS_MS`
 * schedule with ±20 % jitter; a destination that resolves to a private address is refused for good.
 * The record shows the state (`webhook: {status, attempts, last_status, last_error}`).
 */
export function createWebhookWorker(deps: WebhookWorkerDeps): WebhookWorker {
  const { config, logger, store, metrics } = deps;
  const prefix = globalKeys(config.keyPrefix).queuePrefix;
  const queue = new Queue<WebhookJobData>(webhookQueueName, { connection: deps.connection, prefix });
  queue.on('error', (err) => logger.debug({ err: err.message }, 'webhook queue error'));
  const delays = config.webhookRetryDelaysMs;

  const record = (jobId: string, delivery: WebhookDelivery) =>
    store.recordWebhook(jobId, delivery).catch((err: unknown) => logger.warn({ err, jobId }, 'could not record the webhook state'));

  const worker = new QueueWorker<WebhookJobData>(
    webhookQueueName,
    async (job, token) => {
      const { jobId } = job.data;
      let delivery = job.data.delivery;
      if (delivery === undefined) {
        const stored = await store.read(jobId);
        // Gone before its ending was seen (expired, or lost with Redis's data): nothing to say.
        if (stored === undefined) return;
        const view = toRecordView(stored, 0);
        if (!isTerminal(view.status)) {
          await job.moveToDelayed(Date.now() + notEndedRecheckMs, token);
          // The job may have ended between the read and now, its `ended` message finding this delivery
          // active (not promotable): look once more, and promote it ourselves if so.
          const now = await store.status(jobId);
          if (now !== undefined && isTerminal(now)) await job.promote().catch(() => {});
          throw new DelayedError();
        }
        const payload: WebhookPayload = { type: `job.${view.status}`, timestamp: view.finished_at ?? new Date().toISOString(), data: view };
        delivery = { url: stored.hash['webhook_url'] ?? '', status: view.status, body: JSON.stringify(payload) };
        await job.updateData({ ...job.data, delivery });
      }
      const attempts = job.attemptsMade + 1;
      // Stable per job and event, so a receiver can drop a delivery it already has.
      const id = `evt_${jobId}_${delivery.status}`;
      const result = await postWebhook({
        url: delivery.url,
        body: delivery.body,
        headers: signWebhook(config.webhookSecrets, id, delivery.body),
        timeoutMs: deliveryTimeoutMs,
        allowPrivate: config.webhookAllowPrivate,
      });
      if (result.kind === 'answered' && result.status >= 200 && result.status < 300) {
        metrics.webhookDeliveries.inc({ outcome: 'delivered' });
        await record(jobId, { status: 'delivered', attempts, lastStatus: result.status, lastError: undefined });
        return;
      }
      if (result.kind === 'answered' && result.status === 410) {
        metrics.webhookDeliveries.inc({ outcome: 'gone' });
        await record(jobId, { status: 'gone', attempts, lastStatus: 410, lastError: 'the receiver answered 410 Gone' });
        return;
      }
      if (result.kind === 'refused') {
        metrics.webhookDeliveries.inc({ outcome: 'refused' });
        await record(jobId, { status: 'refused', attempts, lastStatus: undefined, lastError: result.reason });
        throw new UnrecoverableError(result.reason);
      }
      const reason = result.kind === 'answered' ? `the receiver answered ${result.status}` : result.reason;
      const last = attempts >= (job.opts.attempts ?? 1);
      metrics.webhookDeliveries.inc({ outcome: last ? 'failed' : 'retried' });
      await record(jobId, {
        status: last ? 'failed' : 'pending',
        attempts,
        lastStatus: result.kind === 'answered' ? result.status : undefined,
        lastError: reason,
      });
      throw new Error(reason);
    },
    {
      logger,
      connection: deps.connection,
      prefix,
      concurrency: 16,
      // As the generation queue's: a dead worker's delivery is taken up by another within about twice
      // this (the lock is renewed while a slow receiver keeps a live worker waiting).
      lockDuration: config.lockDurationMs,
      stalledInterval: config.lockDurationMs,
      settings: {
        backoffStrategy: (attemptsMade, type) => {
          if (type !== webhookBackoffType) return 0;
          const base = delays[Math.min(attemptsMade - 1, delays.length - 1)] ?? 0;
          return Math.round(base * (0.8 + Math.random() * 0.4));
        },
      },
    },
  );
  worker.on('error', logRepeatedErrors(logger, 'webhook worker error', { level: 'warn', stack: false }));

  let closing: Promise<void> | undefined;
  return {
    jobEnded(queueJobId) {
      void (async () => {
        const job = await Job.fromId(queue, `${queueJobId}.webhook`);
        // Every worker hears the message; the first to promote wins, the others find it waiting.
        if (job !== undefined && (await job.isDelayed())) await job.promote();
      })().catch((err: unknown) => logger.debug({ err, queueJobId }, 'webhook promote skipped'));
    },
    close() {
      closing ??= closeAll('webhook worker close failed', [() => worker.close(), () => queue.close()]);
      return closing;
    },
    abandon: () => worker.abandon(),
  };
}
