import type { Queue } from 'bullmq';
import { AppError } from '../shared/errors.js';
import { hashJson, idempotentJobId, newJobId } from '../shared/ids.js';
import type { JobStore } from '../shared/job-store.js';
import { defaultPriority, jobOptions, webhookJobOptions, type QueueJobData, type WebhookJobData } from '../shared/queue.js';
import type { JobRequest } from './job-request.js';

/** Dependencies of {@link createJobSubmitter}. */
export interface SubmitDeps {
  readonly store: JobStore;
  readonly queue: Queue<QueueJobData>;
  /** Where a job's webhook delivery is queued. */
  readonly webhookQueue: Queue<WebhookJobData>;
  readonly webhookRetryDelaysMs: readonly number[];
  /** The secret Idempotency-Keys are turned into job ids with (the viewer-token secret). */
  readonly secret: () => string;
  readonly keyPrefix: string;
  readonly defaultModel: string;
  readonly maxDurationMs: number;
  readonly jobAttempts: number;
}

/** The result of a submission: a new job, or the one an earlier request with the same key created. */
export type Submission =
  | { readonly id: string; readonly created: true; readonly createdAt: number }
  | { readonly id: string; readonly created: false };

/** Submits jobs: record, queue, confirm. */
export type JobSubmitter = (request: JobRequest, idempotencyKey: string | undefined) => Promise<Submission>;

/**
 * Creates the submitter. With an Idempotency-Key the job id is derived from the key, so the record
 * is the claim: `create.lua` makes it or finds it in one atomic step, and a second request with the
 * same key and body gets the same job (another body: 409). A request that finds the job created but
 * not yet queued (the first request's node died in between, or is still on its way) queues it
 * itself: BullMQ ignores a second add of one job id. Nothing is left to block the key. The BullMQ job
 * id is the record's own (`<id>.<create token>`), so a key used again after its record expired is
 * queued afresh, whatever BullMQ still keeps of the finished job before it.
 */
export function createJobSubmitter(deps: SubmitDeps): JobSubmitter {
  return async (request, idempotencyKey) => {
    const { max_duration_ms: askedMs, metadata, webhook, priority = defaultPriority, ...upstream } = request;
    const maxDurationMs = Math.min(askedMs ?? deps.maxDurationMs, deps.maxDurationMs);
    const requestHash = hashJson(request);
    const id = idempotencyKey === undefined ? newJobId() : idempotentJobId(deps.secret(), deps.keyPrefix, idempotencyKey);
    const model = upstream.model ?? deps.defaultModel;
    const created = await deps.store.create({
      id,
      model,
      params: JSON.stringify({ ...upstream, model }),
      metadata: metadata ?? {},
      maxDurationMs,
      requestHash,
      webhookUrl: webhook?.url,
      priority,
    });
    if (created.kind === 'conflict') {
      throw new AppError('conflict', 'This Idempotency-Key was used with a different request body.', {
        details: [{ path: 'header:Idempotency-Key', message: 'was used with a different request body' }],
      });
    }
    if (created.kind === 'exists' && created.enqueued) return { id, created: false };
    try {
      // The delivery first: a job that runs always has its webhook queued. It fires when the job ends,
      // or at the latest a minute past the job's longest run (then every minute until it has ended).
      if (webhook !== undefined) {
        await deps.webhookQueue.add(
          'deliver',
          { jobId: id },
          webhookJobOptions(created.queueJobId, maxDurationMs + 60_000, deps.webhookRetryDelaysMs.length),
        );
      }
      await deps.queue.add('generate', { jobId: id }, jobOptions(created.queueJobId, deps.jobAttempts, priority));
    } catch (cause) {
      // Not answered 202, so nobody relies on the record: it keeps its provisional TTL, and a retry
      // with the same Idempotency-Key queues this same job.
      throw new AppError('redis_unavailable', 'The job could not be queued; retry the request.', { cause });
    }
    if (!(await deps.store.confirm(id))) {
      throw new AppError('redis_unavailable', 'The job record vanished before it was queued; retry the request.');
    }
    return created.kind === 'created' ? { id, created: true, createdAt: created.createdAt } : { id, created: false };
  };
}
