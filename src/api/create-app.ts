import express, { type Express } from 'express';
import type { Tracer } from '@opentelemetry/api';
import type { RedisClient } from '../shared/redis.js';
import { AppError } from '../shared/errors.js';
import type { JobStore } from '../shared/job-store.js';
import type { Logger } from '../shared/logger.js';
import type { Auth } from './auth.js';
import type { EventHub } from './event-hub.js';
import type { Presence } from './presence.js';
import { Registry } from 'prom-client';
import type { ApiMetrics } from './metrics.js';
import { createCors } from './cors.js';
import { methodNotAllowed } from './method-not-allowed.js';
import { problemHandler } from './problem.js';
import { conversationRoutes } from './routes/conversations.js';
import { eventsRoute } from './routes/events.js';
import { jobRoutes } from './routes/jobs.js';
import { openapiRoute } from './routes/openapi.js';
import { pageRoutes } from './routes/pages.js';
import { statsRoute } from './routes/stats.js';
import type { JobSubmitter } from './submit-job.js';

/** Everything the HTTP app needs, built by the caller (so tests build the real thing). */
export interface AppDeps {
  readonly redis: RedisClient;
  readonly store: JobStore;
  readonly hub: EventHub;
  readonly presence: Presence;
  readonly submit: JobSubmitter;
  readonly metrics: ApiMetrics;
  /** More registries served at `/metrics` (the worker's, when both run in one process), read per scrape. */
  readonly extraMetrics: () => readonly Registry[];
  readonly logger: Logger;
  readonly auth: Auth;
  /** A fresh viewer token for a job or a conversation. */
  readonly mintViewerToken: (subject: string) => { token: string; expiresAt: number };
  readonly corsOrigins: readonly string[];
  readonly keyPrefix: string;
  readonly maxBodyBytes: number;
  readonly maxTokensLimit: number;
  /** `DEFAULT_MODEL`, shown by the console. */
  readonly defaultModel: string;
  readonly webhookSecrets: readonly string[];
  readonly webhookAllowPrivate: boolean;
  /** genrelay's tracer when tracing is on (see docs/tracing.md). */
  readonly tracer?: Tracer | undefined;
}

/** Builds the Express app. */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ok = deps.redis.status === 'ready' && (await Promise.race([
      deps.redis.ping().then(() => true, () => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref()),
    ]));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'redis unreachable' });
  });
  app.get('/metrics', async (_req, res) => {
    const extra = deps.extraMetrics();
    const registry = extra.length === 0 ? deps.metrics.registry : Registry.merge([deps.metrics.registry, ...extra]);
    res.type(registry.contentType).send(await registry.metrics());
  });

  const cors = createCors(deps.corsOrigins);
  const readPaths = ['/v1/jobs/:id', '/v1/jobs/:id/events', '/v1/conversations/:id', '/v1/conversations/:id/events'];
  app.options(readPaths, cors.preflight);
  app.get(readPaths, cors.headers);

  app.use(pageRoutes({ defaultModel: deps.defaultModel }));
  app.use(jobRoutes(deps));
  app.use(eventsRoute(deps));
  app.use(statsRoute(deps));
  app.use(conversationRoutes(deps));
  app.use(openapiRoute(deps));
  app.use(methodNotAllowed(app));
  app.use((req) => {
    throw new AppError('not_found', `No route for ${req.method} ${req.path}.`);
  });
  app.use(problemHandler(deps.logger));
  return app;
}
