import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimRequestRecord } from '../src/simulator/index.js';
import { startCluster, type Cluster } from './support/processes.js';
import { jobEnded, simPrompt, submitJob, words } from './support/system.js';

/** The most requests that were open at once, from the simulator's start and end times. */
function mostAtOnce(requests: readonly SimRequestRecord[]): number {
  const edges = requests.flatMap((r) => [
    { at: r.startedAt, d: 1 },
    { at: r.endedAt ?? Number.MAX_SAFE_INTEGER, d: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let open = 0;
  let most = 0;
  for (const e of edges) {
    open += e.d;
    most = Math.max(most, open);
  }
  return most;
}

// Limits that hold for the whole fleet, not per worker: BullMQ's global concurrency, its manual
// rate limit after a 429 that says when to come back, and priorities in a backlog.
describe('fleet-wide upstream limits', () => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  const submit = async (url: string, behaviour: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const { status, json } = await submitJob(url, { max_tokens: 1000, messages: [{ role: 'user', content: simPrompt(behaviour) }], ...extra });
    expect(status, JSON.stringify(json)).toBe(202);
    return String(json['id']);
  };

  it('UPSTREAM_MAX_CONCURRENCY caps the streams open at once across two worker processes', async () => {
    // Two each: only the two workers together can reach the cap, so reaching it (and no more) shows the
    // limit is the fleet's, not a worker's.
    cluster = await startCluster('fleet-cap', { UPSTREAM_MAX_CONCURRENCY: '3', WORKER_CONCURRENCY: '2' });
    const [api] = await Promise.all([cluster.api(), cluster.worker(), cluster.worker()]);
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => submit(api.url, { text: words(20, `c${i}.`), tps: 20, tag: 'cap' })));
    await Promise.all(ids.map((id) => jobEnded(api.url, id)));
    const requests = cluster.sim.requests.filter((r) => r.tag === 'cap');
    expect(requests).toHaveLength(12);
    expect(mostAtOnce(requests)).toBe(3);
    // Both workers took part.
    const workers = new Set(await Promise.all(ids.map(async (id) => String((await jobEnded(api.url, id))['worker']).split(':')[1])));
    expect(workers.size).toBe(2);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metrics).toMatch(/^genrelay_upstream_concurrency_limit 3$/m);
  });

  it('one 429 with retry-after: 2 stops every worker taking new requests for about two seconds, without using an attempt', async () => {
    cluster = await startCluster('fleet-429', { JOB_ATTEMPTS: '1' });
    const [api] = await Promise.all([cluster.api(), cluster.worker(), cluster.worker()]);
    // JOB_ATTEMPTS=1: if the 429 used the attempt, the job would fail.
    const limited = await submit(api.url, { text: 'after the wait', fault: 'http_429', retry_after: 2, fault_times: 1, tag: 'limited' });
    // The pause starts when the worker that got the 429 sets the queue's limiter: watch for that key.
    const limiterKey = `{${cluster.env['KEY_PREFIX'] ?? ''}}:generations:limiter`;
    const redis = new Redis(cluster.env['REDIS_URL'] ?? '');
    const pausedAt = await (async () => {
      try {
        for (;;) {
          const ttl = await redis.pttl(limiterKey);
          if (ttl > 1000) return Date.now() - (2000 - ttl);
          await new Promise((res) => setTimeout(res, 5));
        }
      } finally {
        redis.disconnect();
      }
    })();
    const hit = cluster.sim.requests.find((q) => q.tag === 'limited' && q.status === 429);
    expect(hit).toBeDefined();
    const others = await Promise.all(Array.from({ length: 6 }, (_, i) => submit(api.url, { text: `other ${i}`, tag: 'other' })));
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(Number(/^genrelay_queue_rate_limit_ms (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    await Promise.all([limited, ...others].map((id) => jobEnded(api.url, id)));
    expect(await jobEnded(api.url, limited)).toMatchObject({ status: 'completed', attempt: 1, text: 'after the wait' });
    const after = cluster.sim.requests.filter((q) => q.startedAt > (hit?.startedAt ?? 0) && (q.tag === 'other' || q.tag === 'limited'));
    expect(after.length).toBe(7);
    // Every request after the pause began, on either worker, started once its two seconds were over
    // (100 ms allowed for reading the key's TTL from this process).
    for (const q of after) expect(q.startedAt - pausedAt).toBeGreaterThanOrEqual(1900);
  });

  it('UPSTREAM_RATE_LIMIT=2/1000: at most two upstream requests start in any second, across the fleet', async () => {
    cluster = await startCluster('fleet-rate', { UPSTREAM_RATE_LIMIT: '2/1000' });
    const [api] = await Promise.all([cluster.api(), cluster.worker(), cluster.worker()]);
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => submit(api.url, { tokens: 2, tag: `rate-${i}` })));
    const records = await Promise.all(ids.map((id) => jobEnded(api.url, id, 20_000)));
    // When each job was taken from the queue (start.lua stamps started_at on the Redis clock right after
    // BullMQ's fetch, which is what the limiter governs): BullMQ counts in fixed windows of the duration,
    // so any three consecutive starts span at least about a second (100 ms for the stamp's lag).
    const starts = records.map((r) => Date.parse(String(r['started_at']))).sort((a, b) => a - b);
    expect(starts).toHaveLength(6);
    for (let i = 2; i < starts.length; i += 1) expect((starts[i] ?? 0) - (starts[i - 2] ?? 0)).toBeGreaterThanOrEqual(900);
  });

  it('priority: in a backlog, interactive jobs (1) overtake unmarked ones, which overtake batch jobs (2^21 - 1)', async () => {
    cluster = await startCluster('priority', { WORKER_CONCURRENCY: '1' });
    const api = await cluster.api();
    // No worker yet: a backlog forms, the lowest priority first in arrival order.
    const submitted: { tag: string; id: string }[] = [];
    const add = async (tag: string, priority?: number) =>
      submitted.push({ tag, id: await submit(api.url, { tokens: 3, tag }, priority === undefined ? {} : { priority }) });
    for (let i = 0; i < 2; i += 1) await add(`batch-${i}`, 2 ** 21 - 1);
    for (let i = 0; i < 2; i += 1) await add(`unmarked-${i}`);
    for (let i = 0; i < 2; i += 1) await add(`interactive-${i}`, 1);
    await cluster.worker();
    const records = await Promise.all(submitted.map(({ id }) => jobEnded(api.url, id)));
    const order = [...cluster.sim.requests].sort((a, b) => a.startedAt - b.startedAt).map((r) => String(r.tag));
    expect(order).toEqual(['interactive-0', 'interactive-1', 'unmarked-0', 'unmarked-1', 'batch-0', 'batch-1']);
    // The record says where each stood: what it named, or the default (the middle of the range).
    expect(records.map((r) => r['priority'])).toEqual([2 ** 21 - 1, 2 ** 21 - 1, 2 ** 20, 2 ** 20, 1, 1]);
    // Out of range is refused with its path.
    for (const priority of [0, 2 ** 21, 1.5, '1']) {
      const bad = await submitJob(api.url, { max_tokens: 10, messages: [{ role: 'user', content: 'x' }], priority });
      expect(bad.status, `priority ${priority}`).toBe(400);
      expect((bad.json['errors'] as { path: string }[])[0]?.path).toBe('/priority');
    }
  });
});
