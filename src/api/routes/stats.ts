import { Router } from 'express';
import type { RedisClient } from '../../shared/redis.js';
import { AppError } from '../../shared/errors.js';
import type { JobStore } from '../../shared/job-store.js';
import type { Auth } from '../auth.js';
import { createCors } from '../cors.js';
import { createStatsReader } from '../job-stats.js';
import type { Presence } from '../presence.js';
import { jobIdParam } from './jobs.js';

/** Dependencies of {@link statsRoute}. */
export interface StatsRouteDeps {
  readonly redis: RedisClient;
  readonly store: JobStore;
  readonly presence: Presence;
  readonly auth: Auth;
  readonly corsOrigins: readonly string[];
}

/** How long a node (and a browser, by `Cache-Control`) reuses a job's counters, in ms. */
export const statsCacheMs = 1000;

/**
 * `GET /v1/jobs/{id}/stats`: status, attempt, usage, metrics and live viewers, without the text, for
 * pages that show counters beside a stream (API.md). Readable with the service's key or the job's
 * viewer token, like the record; the same CORS as the other read endpoints.
 */
export function statsRoute(deps: StatsRouteDeps): Router {
  const router = Router();
  const cors = createCors(deps.corsOrigins);
  const readStats = createStatsReader({ ...deps, cacheMs: statsCacheMs });
  const path = '/v1/jobs/:id/stats';
  router.options(path, cors.preflight);
  router.get(path, cors.headers, deps.auth.requireReader, async (req, res) => {
    const stats = await readStats(jobIdParam(req));
    if (stats === undefined) throw new AppError('not_found', 'No such job, or its result has expired.');
    res.set('cache-control', `private, max-age=${Math.round(statsCacheMs / 1000)}`).json(stats);
  });
  return router;
}
