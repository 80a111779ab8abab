import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

/** The generation queue as Prometheus sees it: read from BullMQ at each scrape (a few commands). */
export function registerQueueMetrics(registry: Registry, queue: Queue): void {
  // One read per scrape, shared by the gauges below (prom-client collects them one after another).
  let snapshot: Promise<{ counts: Record<string, number>; ttlMs: number; limit: number | null }> | undefined;
  const read = () => {
    snapshot ??= (async () => {
      const [counts, ttlMs, limit] = await Promise.all([queue.getJobCounts(), queue.getRateLimitTtl(), queue.getGlobalConcurrency()]);
      return { counts, ttlMs: Math.max(0, ttlMs), limit };
    })().finally(() => setImmediate(() => (snapshot = undefined)));
    return snapshot;
  };
  new Gauge({
    name: 'genrelay_queue_jobs',
    help: 'Generation jobs in the queue by BullMQ state (waiting, prioritized, active, delayed, …)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const { counts } = await read();
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'genrelay_queue_rate_limit_ms',
    help: 'Time left of the fleet-wide pause after the upstream answered 429/529 with retry-after (0: none)',
    registers: [registry],
    async collect() {
      this.set((await read()).ttlMs);
    },
  });
  new Gauge({
    name: 'genrelay_queue_rate_limited_jobs',
    help: 'Jobs waiting only because the fleet is paused by the upstream rate limit',
    registers: [registry],
    async collect() {
      const { counts, ttlMs } = await read();
      this.set(ttlMs > 0 ? (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0) : 0);
    },
  });
  new Gauge({
    name: 'genrelay_upstream_concurrency_in_use',
    help: 'Generations streaming from the upstream now, across all workers (active jobs)',
    registers: [registry],
    async collect() {
      this.set((await read()).counts['active'] ?? 0);
    },
  });
  new Gauge({
    name: 'genrelay_upstream_concurrency_limit',
    help: 'UPSTREAM_MAX_CONCURRENCY as the queue has it (BullMQ global concurrency; +Inf: no limit)',
    registers: [registry],
    async collect() {
      this.set((await read()).limit ?? Number.POSITIVE_INFINITY);
    },
  });
}
