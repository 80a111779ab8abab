import { AppError } from '../shared/errors.js';
import type { TraceCarrier } from '../shared/trace-context.js';
import type { JobRecordView, JobSubmission } from '../shared/wire.js';
import { parseJobRequest, type jobRequestSchema } from './job-request.js';
import type { ApiMetrics } from './metrics.js';
import type { JobSubmitter } from './submit-job.js';

/** What {@link createJob} needs. */
export interface CreateJobDeps {
  readonly submit: JobSubmitter;
  readonly metrics: ApiMetrics;
  readonly mintViewerToken: (subject: string) => { token: string; expiresAt: number };
  readonly readView: (id: string) => Promise<JobRecordView>;
}

/**
 * A job from a request body and an optional idempotency key, for `POST /v1/jobs` and the socket's
 * `create` alike: validated (400 with paths), submitted, answered. `created` is false when the key
 * named an existing job (then the answer shows it as it is now). `trace`: the submitting request's span
 * (tracing on), which the job's attempts continue.
 */
export async function createJob(
  deps: CreateJobDeps,
  schema: ReturnType<typeof jobRequestSchema>,
  body: unknown,
  idempotencyKey: string | undefined,
  keyPath = 'header:Idempotency-Key',
  trace?: TraceCarrier,
): Promise<{ readonly created: boolean; readonly answer: JobSubmission }> {
  const request = parseJobRequest(schema, body);
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
    throw new AppError('validation_failed', 'An idempotency key must be 1 to 255 characters.', {
      details: [{ path: keyPath, message: 'must be 1 to 255 characters' }],
    });
  }
  const submission = await deps.submit(request, idempotencyKey, trace);
  const { id } = submission;
  deps.metrics.jobsSubmitted.inc({ outcome: submission.created ? 'created' : 'replayed' });
  // A new job is `queued` as far as this answer goes (a worker may have taken it already); a
  // replayed one is shown as it is now.
  const { status, created_at } = submission.created
    ? { status: 'queued' as const, created_at: new Date(submission.createdAt).toISOString() }
    : await deps.readView(id);
  return {
    created: submission.created,
    answer: { id, status, created_at, events_url: `/v1/jobs/${id}/events`, viewer_token: deps.mintViewerToken(id).token },
  };
}
