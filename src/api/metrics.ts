import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Transport } from './relay/sink.js';

/** The API process's Prometheus metrics. */
export interface ApiMetrics {
  readonly registry: Registry;
  readonly jobsSubmitted: Counter<'outcome'>;
  /** Viewers started: SSE responses, socket subscriptions. */
  readonly viewerConnections: Counter<'transport'>;
  readonly slowViewerDisconnects: Counter<'transport'>;
  /** Serves the open-socket gauge from `count`, read at scrape time. */
  sockets(count: () => number): void;
}

/** What the gauges read from the hub at scrape time. */
export interface ViewerStats {
  viewerCount(transport: Transport): number;
  bufferedBytes(transport: Transport): number;
}

const transports: readonly Transport[] = ['sse', 'ws'];

/** Creates a registry with process metrics and the API's own; the hub is read at scrape time. */
export function createApiMetrics(hub: ViewerStats): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'genrelay_api_' });
  const jobsSubmitted = new Counter({
    name: 'genrelay_jobs_submitted_total',
    help: 'Job submissions (POST /v1/jobs and socket creates): created, or replayed through an idempotency key',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const viewerConnections = new Counter({
    name: 'genrelay_viewer_connections_total',
    help: 'Viewers started: SSE responses (transport="sse") and socket subscriptions (transport="ws")',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  const slowViewerDisconnects = new Counter({
    name: 'genrelay_viewer_slow_disconnects_total',
    help: 'Viewers cut off because they owed more than VIEWER_BUFFER_BYTES (a socket is closed with 1013)',
    labelNames: ['transport'] as const,
    registers: [registry],
  });
  for (const transport of transports) {
    viewerConnections.inc({ transport }, 0);
    slowViewerDisconnects.inc({ transport }, 0);
  }
  new Gauge({
    name: 'genrelay_viewers',
    help: 'Viewers following a job on this API process, by transport',
    labelNames: ['transport'] as const,
    registers: [registry],
    collect() {
      for (const transport of transports) this.set({ transport }, hub.viewerCount(transport));
    },
  });
  new Gauge({
    name: 'genrelay_viewer_buffered_bytes',
    help: 'Bytes written to viewers that their connections have not taken yet, by transport (bounded per viewer by VIEWER_BUFFER_BYTES)',
    labelNames: ['transport'] as const,
    registers: [registry],
    collect() {
      for (const transport of transports) this.set({ transport }, hub.bufferedBytes(transport));
    },
  });
  let socketCount = () => 0;
  new Gauge({
    name: 'genrelay_ws_sockets',
    help: 'WebSocket connections open on this API process',
    registers: [registry],
    collect() {
      this.set(socketCount());
    },
  });
  return { registry, jobsSubmitted, viewerConnections, slowViewerDisconnects, sockets: (count) => (socketCount = count) };
}
