import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { AppError } from '../shared/errors.js';
import { hashJson, newJobId } from '../shared/ids.js';
import type { JobStore } from '../shared/job-store.js';
import { globalKeys } from '../shared/keys.js';
import { jobOptions, type QueueJobData } from '../shared/queue.js';
import type { JobRequest } from './job-request.js';

/** Dependencies of {@link createJobSubmitter}. */
export interface SubmitDeps {
  readonly redis: Redis;
  readonly store: JobStore;
  readonly queue: Queue<QueueJobData>;
  readonly keyPrefix: string;
  readonly defaultModel: string;
  readonly maxDurationMs: number;
  readonly jobAttempts: number;
  readonly resultTtlS: number;
}

/** The result of a submission: a new job, or the one an earlier request with the same key created. */
export interface Submission {
  readonly id: string;
  readonly created: boolean;
}

/** Submits jobs: idempotency check, record, queue. */
export type JobSubmitter = (request: JobRequest, idempotencyKey: string | undefined) => Promise<Submission>;

/** Creates the submitter. */
export function createJobSubmitter(deps: SubmitDeps): JobSubmitter {
  const keys = globalKeys(deps.keyPrefix);

  const existing = async (idemKey: string, requestHash: string): Promise<Submission | undefined> => {
    const claim = await deps.redis.get(idemKey);
    if (claim === null) return undefined;
    const [id = '', hash] = claim.split(' ');
    if (hash !== requestHash) {
      throw new AppError('conflict', 'This Idempotency-Key was used with a different request body.');
    }
    // The first request may still be creating the record; give it a moment.
    for (let i = 0; i < 40; i += 1) {
      if ((await deps.store.status(id)) !== undefined) return { id, created: false };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new AppError('conflict', 'A request with this Idempotency-Key is still being processed; retry shortly.');
  };

  return async (request, idempotencyKey) => {
    const { max_duration_ms: askedMs, metadata, ...upstream } = request;
    const requestHash = hashJson(request);
    const id = newJobId();
    if (idempotencyKey !== undefined) {
      const idemKey = keys.idempotency(idempotencyKey);
      const claimed = await deps.redis.set(idemKey, `${id} ${requestHash}`, 'EX', deps.resultTtlS, 'NX');
      if (claimed === null) {
        const found = await existing(idemKey, requestHash);
        if (found !== undefined) return found;
        // The claim expired between SET and GET: claim again.
        await deps.redis.set(idemKey, `${id} ${requestHash}`, 'EX', deps.resultTtlS);
      }
    }
    const model = upstream.model ?? deps.defaultModel;
    await deps.store.create({
      id,
      model,
      params: JSON.stringify({ ...upstream, model }),
      metadata: metadata ?? {},
      maxDurationMs: Math.min(askedMs ?? deps.maxDurationMs, deps.maxDurationMs),
      requestHash,
    });
    try {
      await deps.queue.add('generate', { jobId: id }, jobOptions(id, deps.jobAttempts));
    } catch (cause) {
      await deps.store.finish(id, { status: 'failed', error: { type: 'enqueue_failed', message: 'the job could not be queued' } });
      throw new AppError('redis_unavailable', 'The job could not be queued.', { cause });
    }
    return { id, created: true };
  };
}
