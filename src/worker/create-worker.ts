import type Anthropic from '@anthropic-ai/sdk';
import type { Tracer } from '@opentelemetry/api';
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../shared/config.js';
import { listenForControl } from '../shared/control-channel.js';
import { closeAll } from '../shared/close-all.js';
import { createJobStore } from '../shared/job-store.js';
import { loadScripts } from '../shared/scripts.js';
import { globalKeys, queueName } from '../shared/keys.js';
import type { Logger } from '../shared/logger.js';
import { backoffType, type QueueJobData } from '../shared/queue.js';
import { createRedis, dropRedis } from '../shared/redis.js';
import { logRepeatedErrors } from '../shared/repeated-errors.js';
import { untilAborted } from '../shared/until-aborted.js';
import { createActiveAttempts } from './active-attempts.js';
import { createProcessor } from './create-processor.js';
import { applyFleetLimits, fleetPause } from './fleet-limits.js';
import { startReaper } from './reaper.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { QueueWorker } from './queue-worker.js';
import { backoffDelayMs } from './retry-policy.js';
import { retryRefused } from './store-retry.js';
import { createWebhookWorker } from './webhooks/create-webhook-worker.js';
import { createWriteClock } from './write-clock.js';

/**
 * How long a shutdown waits, after `SHUTDOWN_TIMEOUT_MS`, for the hand-back of the attempts it
 * aborted (their last writes, the requeue, BullMQ's move to delayed) before it stops waiting for Redis.
 */
export const handBackLimitMs = 3000;

/**
 * How long the connections then get to close: ioredis destroys a socket that has not closed within
 * 2 s. A close() thus ends within `timeoutMs + handBackLimitMs + disconnectLimitMs`, Redis or not.
 */
export const disconnectLimitMs = 2500;

/** A running worker process's job-taking machinery. */
export interface GenrelayWorker {
  readonly id: string;
  /** This worker's Prometheus metrics. */
  readonly metrics: WorkerMetrics;
  /** Attempts running now. */
  readonly activeCount: number;
  /**
   * Stops taking jobs, lets running ones finish for up to `timeoutMs`, hands the rest back; idempotent.
   * Ends within `timeoutMs + handBackLimitMs + disconnectLimitMs` even when Redis does not answer
   * (then it rejects, and the jobs not handed back come back when their locks expire).
   */
  close(timeoutMs?: number): Promise<void>;
}

/** Dependencies of {@link createWorker}. */
export interface WorkerDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly client: Anthropic;
  /** genrelay's tracer when tracing is on (`createTracing`): a span per attempt. Default: off. */
  readonly tracer?: Tracer | undefined;
}

/** Starts taking generation jobs from the queue. */
export async function createWorker(deps: WorkerDeps): Promise<GenrelayWorker> {
  const { config, logger } = deps;
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const keys = globalKeys(config.keyPrefix);
  const commands = createRedis(config, 'commands', logger);
  const control = createRedis(config, 'control', logger);
  const queueConnection = createRedis(config, 'queue', logger);
  // The worker's jobs' appends of one event-loop turn leave as one script call (append-batcher.ts).
  const store = createJobStore(commands, { ...config, batchAppends: true });
  await loadScripts(commands);
  const active = createActiveAttempts();
  const metrics = createWorkerMetrics(() => active.size);
  // Webhook deliveries need the secret to sign with; a worker without WEBHOOK_SECRET leaves them to others.
  const webhookConnection = config.webhookSecrets.length > 0 ? createRedis(config, 'webhooks', logger) : undefined;
  const webhooks =
    webhookConnection === undefined ? undefined : createWebhookWorker({ config, logger, store, metrics, connection: webhookConnection });

  await listenForControl(control, keys.control, (message) => {
    if (message.type === 'ended') {
      webhooks?.jobEnded(message.queueJobId);
      return;
    }
    if (active.abort(message.jobId, 'cancelled')) logger.info({ jobId: message.jobId }, 'cancel received');
  });

  // Fleet-wide upstream limits live on the queue in Redis, so every worker obeys them; they are on the
  // queue before this worker takes its first job.
  const fleet = new Queue<QueueJobData>(queueName, { connection: queueConnection, prefix: keys.queuePrefix });
  fleet.on('error', (err) => logger.debug({ err: err.message }, 'queue error'));
  await applyFleetLimits(fleet, queueConnection, config, logger);

  let closing: Promise<void> | undefined;
  // Aborted at SHUTDOWN_TIMEOUT_MS + handBackLimitMs of a close(): every store write stops waiting.
  const shutdown = new AbortController();
  const processor = createProcessor({
    store,
    client: deps.client,
    logger,
    active,
    workerId: id,
    jobAttempts: config.jobAttempts,
    upstreamIdleTimeoutMs: config.upstreamIdleTimeoutMs,
    coalesceWindowMs: config.coalesceWindowMs,
    writeClock: createWriteClock(),
    redisRetryMs: config.redisRetryMs,
    shutdownSignal: shutdown.signal,
    metrics,
    isClosing: () => closing !== undefined,
    fleetBackoff: fleetPause(fleet, queueConnection),
    tracer: deps.tracer,
  });
  const worker = new QueueWorker<QueueJobData>(queueName, processor, {
    logger,
    connection: queueConnection,
    prefix: keys.queuePrefix,
    concurrency: config.workerConcurrency,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.lockDurationMs,
    // The record's attempt counter (start.lua) is the one that decides when a job has had enough: it
    // counts a crashed attempt when the next one starts and refuses a start past JOB_ATTEMPTS. Every
    // crash is one stall, so BullMQ's own limit is never the first to be reached by crashes; when
    // BullMQ does fail a job by itself (a stall before any attempt started, a processor error on
    // its last try) the `failed` listener below ends the record.
    maxStalledCount: config.jobAttempts,
    // No `limiter` here: the queue always carries the rate limit (see fleet-limits.ts), and a worker's
    // own limiter.duration would replace the queue's window.
    settings: {
      backoffStrategy: (attemptsMade, type, err) => (type === backoffType ? backoffDelayMs(attemptsMade, err) : 0),
    },
  });
  const reaper = startReaper({ store, active, logger, intervalMs: config.reaperIntervalMs });
  // A run fenced out by a newer attempt of its job ends with BullMQ's "Lock mismatch" / "Missing lock":
  // expected after a fault, so a warning. Anything else is an error. Both are throttled: under an OOM
  // refusal the same error comes from every fetch and every finishing run.
  const lockErrors = logRepeatedErrors(logger, 'worker error: a fenced run could not finish its queue job', { level: 'warn', stack: false });
  const otherErrors = logRepeatedErrors(logger, 'worker error');
  worker.on('error', (err) => (/^(Lock mismatch|Missing lock) for job/.test(err.message) ? lockErrors(err) : otherErrors(err)));
  worker.on('failed', (job, err) => {
    logger.debug({ jobId: job?.id, err: err.message }, 'queue job failed');
    // finishedOn is set only when BullMQ gives up (no retry follows). Our own endings got there first
    // (finish then UnrecoverableError), so this finish is refused as `ended` for them.
    if (job === undefined || job.finishedOn === undefined) return;
    const jobId = job.data.jobId;
    const error = { type: 'queue_failed', message: `the queue gave up on the job: ${err.message}` };
    void retryRefused(() => store.finish(jobId, { status: 'failed', error }), { budgetMs: config.redisRetryMs, signal: shutdown.signal })
      .then(async (outcome) => {
        if (outcome === 'ok') logger.warn({ jobId, err: err.message }, 'the queue failed a job by itself: record ended failed');
        await store.untrackDeadline(jobId);
      })
      .catch((e: unknown) => logger.error({ jobId, err: e }, 'could not end the record of a job the queue failed'));
  });
  logger.info({ workerId: id, concurrency: config.workerConcurrency }, 'worker started');

  return {
    id,
    metrics,
    get activeCount() {
      return active.size;
    },
    close(timeoutMs = config.shutdownTimeoutMs) {
      closing ??= (async () => {
        const handBack = setTimeout(() => active.abortAll('shutdown'), timeoutMs);
        const giveUp = setTimeout(() => shutdown.abort(new Error(`Redis did not answer within the hand-back limit (${handBackLimitMs} ms)`)), timeoutMs + handBackLimitMs);
        handBack.unref();
        giveUp.unref();
        const connections = [control, commands, queueConnection, ...(webhookConnection === undefined ? [] : [webhookConnection])];
        const steps = closeAll('worker close failed', [
          () => worker.close().finally(() => clearTimeout(handBack)),
          () => reaper.close(),
          () => fleet.close(),
          () => webhooks?.close(),
          ...connections.map((conn) => () => conn.quit()),
        ]);
        try {
          await untilAborted(steps, shutdown.signal);
        } catch (err) {
          if (!shutdown.signal.aborted) throw err;
          // Redis is away (down, or stopped): what still waits inside ioredis (hand-back writes, the
          // queue's finishing commands, QUIT) fails once the connections drop. ioredis destroys a
          // socket that has not closed within 2 s. The jobs not handed back are recovered by their
          // lock, as after a crash.
          for (const conn of connections) dropRedis(conn);
          await closeAll('abandon', [() => worker.abandon(), () => webhooks?.abandon()]).catch(() => {});
          const rest = await untilAborted(steps, AbortSignal.timeout(disconnectLimitMs)).catch((e: unknown) => e);
          throw new AggregateError([shutdown.signal.reason, ...(rest === undefined ? [] : [rest])], 'worker close: Redis did not answer within the hand-back limit');
        } finally {
          clearTimeout(handBack);
          clearTimeout(giveUp);
        }
      })();
      return closing;
    },
  };
}
