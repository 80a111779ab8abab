import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** A worker process's Prometheus metrics. */
export interface WorkerMetrics {
  readonly registry: Registry;
  /** Attempts by how they ended: completed, failed, retried, cancelled, timed_out, handed_back, fenced. */
  readonly attempts: Counter<'outcome'>;
  /** Upstream failures by the upstream's error type. */
  readonly upstreamErrors: Counter<'type'>;
  /** Time to first token of attempts, seconds. */
  readonly ttft: Histogram;
  /** Webhook delivery attempts by outcome: delivered, retried, failed (gave up), gone (410), refused. */
  readonly webhookDeliveries: Counter<'outcome'>;
}

/** Creates the registry; `active` is read at scrape time. */
export function createWorkerMetrics(active: () => number): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'genrelay_worker_' });
  const attempts = new Counter({
    name: 'genrelay_attempts_total',
    help: 'Generation attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const upstreamErrors = new Counter({
    name: 'genrelay_upstream_errors_total',
    help: 'Upstream failures by error type (retried or not)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const ttft = new Histogram({
    name: 'genrelay_ttft_seconds',
    help: 'Time from an attempt starting to its first token',
    buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
    registers: [registry],
  });
  new Gauge({
    name: 'genrelay_active_attempts',
    help: 'Attempts running in this worker process',
    registers: [registry],
    collect() {
      this.set(active());
    },
  });
  const webhookDeliveries = new Counter({
    name: 'genrelay_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  return { registry, attempts, upstreamErrors, ttft, webhookDeliveries };
}
