import express, { Router, type Request } from 'express';
import type { Tracer } from '@opentelemetry/api';
import type { RedisClient } from '../../shared/redis.js';
import { AppError } from '../../shared/errors.js';
import { isJobId } from '../../shared/ids.js';
import type { JobStore } from '../../shared/job-store.js';
import { forViewer, type JobRecordView } from '../../shared/job-record.js';
import { globalKeys } from '../../shared/keys.js';
import type { Auth } from '../auth.js';
import { cancelJob } from '../cancel-job.js';
import type { EventHub } from '../event-hub.js';
import { createJobWaiters } from '../job-waiters.js';
import type { Presence } from '../presence.js';
import type { ApiMetrics } from '../metrics.js';
import { createJob } from '../create-job.js';
import { createRecordReader } from '../read-record.js';
import { jobRequestSchema } from '../job-request.js';
import type { JobSubmitter } from '../submit-job.js';
import { requestCarrier, traceSubmission } from '../trace-request.js';

/** Dependencies of the job routes. */
export interface JobRoutesDeps {
  readonly store: JobStore;
  readonly redis: RedisClient;
  readonly presence: Presence;
  readonly hub: EventHub;
  readonly submit: JobSubmitter;
  readonly metrics: ApiMetrics;
  readonly auth: Auth;
  /** A fresh viewer token for a job. */
  readonly mintViewerToken: (jobId: string) => { token: string; expiresAt: number };
  readonly keyPrefix: string;
  readonly maxBodyBytes: number;
  readonly maxTokensLimit: number;
  readonly webhookSecrets: readonly string[];
  readonly webhookAllowPrivate: boolean;
  /** Tracing on: submissions get a SERVER span (see docs/tracing.md). */
  readonly tracer?: Tracer | undefined;
}

/** Longest `?wait=` (or `Prefer: wait=`) honoured, in seconds. */
export const maxWaitS = 60;

/**
 * How long `GET /v1/jobs/{id}` may wait for the job to end: `?wait=N`, else `Prefer: wait=N`
 * (RFC 7240), in whole seconds, at most {@link maxWaitS}. Undefined: answer at once.
 */
function waitOf(req: Request): { seconds: number; fromPrefer: boolean } | undefined {
  const query = req.query['wait'];
  const prefer = /(?:^|[,;\s])wait\s*=\s*"?([^",;\s]*)"?/i.exec(req.get('prefer') ?? '')?.[1];
  const raw = typeof query === 'string' ? query : prefer;
  if (raw === undefined) return undefined;
  const path = typeof query === 'string' ? 'query:wait' : 'header:Prefer';
  const n = Number(raw);
  // A preference is a hint (RFC 7240): a longer one is served as the longest there is, and says so.
  if (typeof query !== 'string' && Number.isInteger(n) && n > maxWaitS) return { seconds: maxWaitS, fromPrefer: true };
  if (raw === '' || !Number.isInteger(n) || n < 0 || n > maxWaitS) {
    throw new AppError('validation_failed', `wait must be a whole number of seconds from 0 to ${maxWaitS}.`, {
      details: [{ path, message: `must be an integer from 0 to ${maxWaitS}` }],
    });
  }
  return { seconds: n, fromPrefer: typeof query !== 'string' };
}

/** The job id of a request, or a 404 (an id that cannot exist never reaches Redis). */
export function jobIdParam(req: Request): string {
  const id = req.params['id'];
  if (typeof id !== 'string' || !isJobId(id)) throw new AppError('not_found', 'No such job.');
  return id;
}

/** `POST /v1/jobs`, `GET /v1/jobs/{id}`, `POST /v1/jobs/{id}/cancel`, `POST /v1/jobs/{id}/viewer-token`. */
export function jobRoutes(deps: JobRoutesDeps): Router {
  const router = Router();
  const schema = jobRequestSchema(deps);
  const control = globalKeys(deps.keyPrefix).control;

  const readView = createRecordReader(deps.store, deps.presence);

  const { requireKey, requireReader } = deps.auth;

  router.post(
    '/v1/jobs',
    ...(deps.tracer === undefined ? [] : [traceSubmission(deps.tracer, '/v1/jobs')]),
    requireKey,
    (req, _res, next) => {
      if (!req.is('application/json')) {
        throw new AppError('unsupported_media_type', 'Send the job as JSON with Content-Type: application/json.');
      }
      next();
    },
    express.json({ limit: deps.maxBodyBytes }),
    async (req, res) => {
      const key = req.get('idempotency-key');
      const { created, answer } = await createJob({ ...deps, readView }, schema, req.body, key, undefined, requestCarrier(res.locals));
      res
        .status(created ? 202 : 200)
        .location(`/v1/jobs/${answer.id}`)
        .json(answer);
    },
  );

  const waiters = createJobWaiters({ hub: deps.hub, readView });
  router.get('/v1/jobs/:id', requireReader, async (req, res) => {
    const id = jobIdParam(req);
    const wait = waitOf(req);
    // A share link sees neither the worker nor the submitter's metadata (API.md §4.1).
    const shown = (view: JobRecordView) => (deps.auth.access(req).kind === 'viewer' ? forViewer(view) : view);
    if (wait === undefined) {
      res.json(shown(await readView(id)));
      return;
    }
    // The client may go away while it waits: then the wait ends and nothing is sent.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const { record, ended } = await waiters.wait(id, wait.seconds * 1000, gone.signal);
    if (wait.fromPrefer) res.set('preference-applied', `wait=${wait.seconds}`);
    res.status(ended ? 200 : 202);
    if (!ended) res.location(`/v1/jobs/${id}`);
    res.json(shown(record));
  });

  router.post('/v1/jobs/:id/viewer-token', requireKey, async (req, res) => {
    const id = jobIdParam(req);
    if ((await deps.store.status(id)) === undefined) throw new AppError('not_found', 'No such job, or its result has expired.');
    const { token, expiresAt } = deps.mintViewerToken(id);
    const q = `token=${encodeURIComponent(token)}`;
    res.status(201).json({
      token,
      expires_at: new Date(expiresAt).toISOString(),
      viewer_url: `/jobs/${id}?${q}`,
      events_url: `/v1/jobs/${id}/events?${q}`,
      record_url: `/v1/jobs/${id}?${q}`,
    });
  });

  router.post('/v1/jobs/:id/cancel', requireKey, async (req, res) => {
    const id = jobIdParam(req);
    const outcome = await cancelJob(deps.store, deps.redis, control, id);
    if (outcome === 'gone') throw new AppError('not_found', 'No such job, or its result has expired.');
    const view = await readView(id);
    res.status(outcome === 'requested' ? 202 : 200).json(view);
  });

  return router;
}
