import type Anthropic from '@anthropic-ai/sdk';
import { context, type Tracer } from '@opentelemetry/api';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { JobError, TerminalStatus } from '../shared/events.js';
import type { JobStore } from '../shared/job-store.js';
import type { Logger } from '../shared/logger.js';
import type { QueueJobData } from '../shared/queue.js';
import { untilAborted } from '../shared/until-aborted.js';
import { AttemptAbort } from './abort-reason.js';
import { startAttemptTrace, type AttemptTrace } from './attempt-trace.js';
import type { ActiveAttempts } from './active-attempts.js';
import type { WorkerMetrics } from './metrics.js';
import { RetryableAttemptError } from './retry-policy.js';
import { runAttempt, type AttemptResult } from './run-attempt.js';
import { upstreamParams } from './upstream-params.js';
import { attemptWrites, retryRefused, type AttemptWrites } from './store-retry.js';
import type { WriteClock } from './write-clock.js';

/** Dependencies of the BullMQ processor. */
export interface ProcessorDeps {
  readonly store: JobStore;
  readonly client: Anthropic;
  readonly logger: Logger;
  readonly active: ActiveAttempts;
  readonly workerId: string;
  readonly jobAttempts: number;
  readonly upstreamIdleTimeoutMs: number;
  readonly coalesceWindowMs: number;
  /** One per worker: its attempts' coalescing windows close together (see `write-clock.ts`). */
  readonly writeClock?: WriteClock;
  /** `REDIS_RETRY_MS`: how long a write Redis refuses is retried. */
  readonly redisRetryMs: number;
  /**
   * Aborted when the worker's shutdown stops waiting for Redis (its hand-back limit, after
   * `SHUTDOWN_TIMEOUT_MS`): every store write and hand-back stops waiting at once.
   */
  readonly shutdownSignal: AbortSignal;
  readonly metrics: WorkerMetrics;
  /** True once the worker is shutting down. */
  readonly isClosing: () => boolean;
  /** Stops every worker of the queue from taking jobs for at least `ms` (BullMQ's manual rate limit). */
  readonly fleetBackoff: (ms: number) => Promise<unknown>;
  /** Tracing on: a span per attempt (`attempt-trace.ts`). Default off. */
  readonly tracer?: Tracer | undefined;
}

/**
 * How long the fleet waits after a 429/529 that said `retry-after`: what it said, rounded up, but at
 * least 250 ms (a `retry-after: 0` or a date in the past must not turn into a tight loop of requests
 * that cost no attempt) and at most a minute.
 */
export function fleetWaitMs(retryAfterMs: number): number {
  return Math.min(60_000, Math.max(250, Math.ceil(retryAfterMs)));
}

/** The processor BullMQ calls for each generation job. */
export type GenerationProcessor = (job: Job<QueueJobData>, token: string | undefined, signal?: AbortSignal) => Promise<void>;

/**
 * Creates the processor: start the attempt (fenced, in Redis), stream it, then record how it ended.
 * Declares three parameters on purpose: BullMQ passes its cancellation signal only to processors with
 * `length >= 3`.
 */
export function createProcessor(deps: ProcessorDeps): GenerationProcessor {
  const { store, logger } = deps;
  const limits = { budgetMs: deps.redisRetryMs, signal: deps.shutdownSignal };

  return async function processGeneration(job, token, signal) {
    const jobId = job.data.jobId;
    if (deps.isClosing()) {
      // BullMQ can hand a draining worker one more job (its fetch raced close()): give it back
      // untouched, without starting an attempt.
      await untilAborted(job.moveToDelayed(Date.now(), token), deps.shutdownSignal);
      throw new DelayedError();
    }
    // Registered before `start` so a cancel broadcast that lands in between is not lost.
    const controller = deps.active.register(jobId);
    const traced = deps.tracer === undefined ? undefined : startAttemptTrace(deps.tracer, job.data, deps.workerId);
    const onBullAbort = () => controller.abort(new AttemptAbort('shutdown'));
    signal?.addEventListener('abort', onBullAbort, { once: true });
    let deadlineTimer: NodeJS.Timeout | undefined;
    try {
      const started = await retryRefused(() => store.start(jobId, deps.workerId, deps.jobAttempts), limits);
      if (started.kind !== 'started') {
        logger.debug({ jobId, outcome: started }, 'job not started');
        traced?.notStarted(started.kind);
        if (started.kind === 'ended') await retryRefused(() => store.untrackDeadline(jobId), limits);
        return;
      }
      // Into the deadline index while the upstream request goes out (a round trip less before the
      // first token): it lands within a millisecond or so, long before anything can run long. A
      // refused ZADD is retried like the rest. It has landed before the attempt is settled (which
      // takes the job out of the index again); one that never lands leaves the job to its own timer
      // here and, were this worker to die, to BullMQ's stall check.
      const tracking = retryRefused(() => store.trackDeadline(jobId, started.deadlineAt), limits).then(
        () => undefined,
        (err: unknown) => err,
      );
      const log = logger.child({ jobId, attempt: started.attempt });
      // From the time left on the Redis clock, not from deadline_at: this host's clock may be off.
      deadlineTimer = setTimeout(() => controller.abort(new AttemptAbort('timed_out')), started.remainingMs);
      const params = upstreamParams(started);
      const writes = attemptWrites(started.fence);
      traced?.started(started.attempt, params, controller.signal);
      const run = () => runAttempt(
        {
          client: deps.client,
          store,
          upstreamIdleTimeoutMs: deps.upstreamIdleTimeoutMs,
          coalesceWindowMs: deps.coalesceWindowMs,
          ...(deps.writeClock === undefined ? {} : { writeClock: deps.writeClock }),
          redisRetryMs: deps.redisRetryMs,
          shutdownSignal: deps.shutdownSignal,
        },
        {
          jobId,
          writes,
          params,
          signal: controller.signal,
          onFirstToken: (ms) => {
            deps.metrics.ttft.observe(ms / 1000);
            traced?.firstToken(ms);
          },
          observe: traced?.observe,
        },
      );
      // Traced, the upstream call runs in the attempt's context: the SDK's span becomes its child.
      const result = traced === undefined ? await run() : await context.with(traced.context, run);
      log.debug({ result }, 'attempt ended');
      const untracked = await tracking;
      if (untracked !== undefined) log.warn({ err: untracked }, 'the job could not be put in the deadline index');
      await settle(deps, job, token, started.attempt, writes, result, traced);
    } finally {
      clearTimeout(deadlineTimer);
      traced?.end();
      signal?.removeEventListener('abort', onBullAbort);
      deps.active.release(jobId, controller);
    }
  };
}

/** Records the attempt's result as the job's ending, a retry, or a hand-back. */
async function settle(
  deps: ProcessorDeps,
  job: Job<QueueJobData>,
  token: string | undefined,
  attempt: number,
  writes: AttemptWrites,
  result: AttemptResult,
  traced: AttemptTrace | undefined,
): Promise<void> {
  const { store, metrics } = deps;
  const limits = { budgetMs: deps.redisRetryMs, signal: deps.shutdownSignal };
  const jobId = job.data.jobId;
  const count = (outcome: string) => {
    metrics.attempts.inc({ outcome });
    traced?.outcome(outcome, result);
  };
  if (result.kind === 'failed') metrics.upstreamErrors.inc({ type: result.failure.error.type });
  // One id per write, taken before the retries: a write sent again is the same write.
  const requeue = (reason: string, handBack = false) => {
    const write = writes.next();
    return retryRefused(() => store.requeue(jobId, write, reason, handBack), limits);
  };
  const end = async (status: TerminalStatus, error?: JobError) => {
    const write = writes.next();
    // A batch Redis refused until now goes with the ending, so a cancelled or timed-out job keeps it.
    const batch = result.kind === 'aborted' ? result.unwritten : undefined;
    const ending = { status, write, ...(error === undefined ? {} : { error }), ...(batch === undefined ? {} : { batch }) };
    await retryRefused(() => store.finish(jobId, ending), limits);
    // Whether this finish won or lost the race, the job has ended: the reaper can forget it.
    await retryRefused(() => store.untrackDeadline(jobId), limits);
  };
  switch (result.kind) {
    case 'completed':
      count('completed');
      await end('completed');
      return;
    case 'aborted':
      count(result.reason === 'shutdown' ? 'handed_back' : result.reason);
      if (result.reason === 'cancelled') {
        await end('cancelled', { type: 'cancelled', message: 'cancelled by request' });
      } else if (result.reason === 'timed_out') {
        await end('timed_out', { type: 'timed_out', message: 'max_duration_ms reached' });
      } else if (result.reason === 'shutdown') {
        // Handed back without using up an attempt: another worker continues it under the same number.
        // Both bounded by the shutdown's signal: what is not handed back by then is recovered by the
        // lock, as after a crash.
        await requeue('the worker running the previous attempt shut down', true);
        await untilAborted(job.moveToDelayed(Date.now(), token), deps.shutdownSignal);
        throw new DelayedError();
      }
      return;
    case 'failed': {
      const { failure } = result;
      if (failure.fleetWide === true && failure.retryAfterMs !== undefined) {
        // The organisation's limit: the whole fleet waits for it, and this attempt does not count (the
        // job waits like a handed-back one, and BullMQ puts it back without using an attempt either).
        count('rate_limited');
        const waitMs = fleetWaitMs(failure.retryAfterMs);
        const outcome = await requeue(`${failure.error.type}: ${failure.error.message} (the fleet waits ${waitMs} ms)`, true);
        await retryRefused(() => deps.fleetBackoff(waitMs), limits);
        // Cancelled or taken over meanwhile: nothing to put back.
        if (outcome !== 'ok') return;
        throw Worker.RateLimitError();
      }
      if (failure.retryable && attempt < deps.jobAttempts) {
        count('retried');
        const outcome = await requeue(`${failure.error.type}: ${failure.error.message}`);
        if (outcome === 'ok') throw new RetryableAttemptError(failure);
        return;
      }
      count('failed');
      await end('failed', failure.error);
      throw new UnrecoverableError(`${failure.error.type}: ${failure.error.message}`);
    }
  }
}
