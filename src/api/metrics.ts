import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The API process's Prometheus metrics. */
export interface ApiMetrics {
  readonly registry: Registry;
  readonly jobsSubmitted: Counter<'outcome'>;
  readonly viewerConnections: Counter;
  readonly slowViewerDisconnects: Counter;
}

/** Creates a registry with process metrics and the API's own; the hub is read at scrape time. */
export function createApiMetrics(hub: { readonly viewerCount: number; bufferedBytes(): number }): ApiMetrics {
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
  const slowViewerDisconnects = new Counter({
    name: 'genrelay_sse_slow_disconnects_total',
    help: 'SSE viewers cut off because they owed more than VIEWER_BUFFER_BYTES',
    registers: [registry],
  });
  new Gauge({
    name: 'genrelay_sse_viewers',
    help: 'SSE viewers connected to this API process',
    registers: [registry],
    collect() {
      this.set(hub.viewerCount);
    },
  });
  new Gauge({
    name: 'genrelay_sse_buffered_bytes',
    help: 'Bytes written to SSE viewers that their sockets have not taken yet (bounded per viewer by VIEWER_BUFFER_BYTES)',
    registers: [registry],
    collect() {
      this.set(hub.bufferedBytes());
    },
  });
  return { registry, jobsSubmitted, viewerConnections, slowViewerDisconnects };
}
