import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The API process's Prometheus metrics. */
export interface ApiMetrics {
  readonly registry: Registry;
  readonly jobsSubmitted: Counter<'outcome'>;
  readonly viewerConnections: Counter;
}

/** Creates a registry with process metrics and the API's own; `viewers` is read at scrape time. */
export function createApiMetrics(viewers: () => number): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'genrelay_api_' });
  const jobsSubmitted = new Counter({
    name: 'genrelay_jobs_submitted_total',
    help: 'POST /v1/jobs outcomes: created, or replayed through an Idempotency-Key',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const viewerConnections = new Counter({
    name: 'genrelay_sse_connections_total',
    help: 'SSE viewer connections accepted',
    registers: [registry],
  });
  new Gauge({
    name: 'genrelay_sse_viewers',
    help: 'SSE viewers connected to this API process',
    registers: [registry],
    collect() {
      this.set(viewers());
    },
  });
  return { registry, jobsSubmitted, viewerConnections };
}
