import { Cluster as RedisCluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fleetWaitMs } from '../src/worker/create-processor.js';
import { fleetPause } from '../src/worker/fleet-limits.js';
import { Queue } from 'bullmq';
import type { SimRequestRecord } from '../src/simulator/index.js';
import { startCluster, type Cluster } from './support/processes.js';
import { backend, backendNames, redisUrl, uniquePrefix } from './support/redis.js';
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

/** A metric's value from an API's /metrics (undefined when it is absent). */
async function metric(apiUrl: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m === null ? undefined : m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

// Limits that hold for the whole fleet, not per worker: BullMQ's global concurrency and rate limit,
// its manual rate limit after a 429 that says when to come back, and priorities in a backlog. On one
// Redis and on the cluster: the queue lives in one slot there, the jobs on every shard.
describe.each(backendNames)('fleet-wide upstream limits, on %s', (on) => {
  let cluster: Cluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  const start = (name: string, env: Record<string, string> = {}) => startCluster(name, { ...backend(on).env, ...env });
  const submit = async (url: string, behaviour: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const { status, json } = await submitJob(url, { max_tokens: 1000, messages: [{ role: 'user', content: simPrompt(behaviour) }], ...extra });
    expect(status, JSON.stringify(json)).toBe(202);
    return String(json['id']);
  };
  const redisOf = (env: Record<string, string>) => {
    const nodes = env['REDIS_CLUSTER_NODES'];
    if (nodes === undefined) return new Redis(env['REDIS_URL'] ?? '');
    return new RedisCluster(nodes.split(',').map((hp) => ({ host: hp.split(':')[0] ?? '', port: Number(hp.split(':')[1]) })));
  };

  it('UPSTREAM_MAX_CONCURRENCY caps the streams open at once across two worker processes', async () => {
    // Two each: only the two workers together can reach the cap, so reaching it (and no more) shows the
    // limit is the fleet's, not a worker's.
    cluster = await start('fleet-cap', { UPSTREAM_MAX_CONCURRENCY: '3', WORKER_CONCURRENCY: '2' });
    const [api] = await Promise.all([cluster.api(), cluster.worker(), cluster.worker()]);
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => submit(api.url, { text: words(20, `c${i}.`), tps: 20, tag: 'cap' })));
    // While jobs are taken and run, no pause is reported: only a 429 (or a full window) is one.
    const pauses: (number | undefined)[] = [];
    const sampling = (async () => {
      for (let i = 0; i < 10; i += 1) {
        pauses.push(await metric(api.url, 'genrelay_queue_rate_limit_ms'));
        await new Promise((res) => setTimeout(res, 100));
      }
    })();
    await Promise.all(ids.map((id) => jobEnded(api.url, id)));
    await sampling;
    expect(pauses).toEqual(Array.from({ length: 10 }, () => 0));
    const requests = cluster.sim.requests.filter((r) => r.tag === 'cap');
    expect(requests).toHaveLength(12);
    expect(mostAtOnce(requests)).toBe(3);
    // Both workers took part.
    const workers = new Set(await Promise.all(ids.map(async (id) => String((await jobEnded(api.url, id))['worker']).split(':')[1])));
    expect(workers.size).toBe(2);
    expect(await metric(api.url, 'genrelay_upstream_concurrency_limit')).toBe(3);
    // A worker started without the setting leaves the fleet's cap alone; `off` removes it.
    await cluster.worker({ UPSTREAM_MAX_CONCURRENCY: '' });
    expect(await metric(api.url, 'genrelay_upstream_concurrency_limit')).toBe(3);
    await cluster.worker({ UPSTREAM_MAX_CONCURRENCY: 'off' });
    expect(await metric(api.url, 'genrelay_upstream_concurrency_limit')).toBe(Number.POSITIVE_INFINITY);
  });

  it('one 429 with retry-after: 2 stops every worker taking new requests for about two seconds, without using an attempt', async () => {
    cluster = await start('fleet-429', { JOB_ATTEMPTS: '1' });
    const [api] = await Promise.all([cluster.api(), cluster.worker(), cluster.worker()]);
    // JOB_ATTEMPTS=1: if the 429 used the attempt, the job would fail.
    const limited = await submit(api.url, { text: 'after the wait', fault: 'http_429', retry_after: 2, fault_times: 1, tag: 'limited' });
    // The pause starts when the worker that got the 429 sets the queue's limiter: watch for that key.
    const limiterKey = `{${cluster.env['KEY_PREFIX'] ?? ''}}:generations:limiter`;
    const redis = redisOf(cluster.env);
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

  it('UPSTREAM_RATE_LIMIT=2/3000: at most two upstream requests start in any three seconds, across the fleet', async () => {
    // A window other than a second: the queue's window is the one that counts in every worker.
    cluster = await start('fleet-rate', { UPSTREAM_RATE_LIMIT: '2/3000' });
    const [api] = await Promise.all([cluster.api(), cluster.worker(), cluster.worker()]);
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => submit(api.url, { tokens: 2, tag: `rate-${i}` })));
    const records = await Promise.all(ids.map((id) => jobEnded(api.url, id, 30_000)));
    // When each job was taken from the queue (start.lua stamps started_at on the Redis clock right after
    // BullMQ's fetch, which is what the limiter governs): BullMQ counts in fixed windows of the duration,
    // so any three consecutive starts span at least about a window, less the stamp's lag behind the fetch
    // (which under the whole suite's load reached 117 ms: 500 ms is allowed; without the limit the six
    // would start within a few ms of each other).
    const starts = records.map((r) => Date.parse(String(r['started_at']))).sort((a, b) => a - b);
    expect(starts).toHaveLength(6);
    for (let i = 2; i < starts.length; i += 1) expect((starts[i] ?? 0) - (starts[i - 2] ?? 0)).toBeGreaterThanOrEqual(2500);
  });

  it('priority: in a backlog, interactive jobs (1) overtake unmarked ones, which overtake batch jobs (2^21 - 1)', async () => {
    cluster = await start('priority', { WORKER_CONCURRENCY: '1' });
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

// The pause itself, on a real Redis: how long a retry-after makes the fleet wait, and that a second,
// shorter one never cuts a pause short.
describe('the fleet-wide pause', () => {
  let redis: Redis;
  let queue: Queue;
  beforeAll(() => {
    redis = new Redis(redisUrl());
    queue = new Queue('generations', { connection: redis, prefix: `{${uniquePrefix('pause')}}` });
  });
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
  });

  it('waits what retry-after says, rounded up, at least 250 ms and at most a minute', () => {
    expect([0, -5, 1.5, 250.2, 2000, 120_000].map(fleetWaitMs)).toEqual([250, 250, 250, 251, 2000, 60_000]);
  });

  it('a shorter pause does not shorten a longer one; a longer one extends it', async () => {
    const pause = fleetPause(queue, redis);
    const limiter = String(queue.keys['limiter']);
    expect(await pause(3000)).toBe(3000);
    expect(await pause(500)).toBeGreaterThan(2500);
    expect(await redis.pttl(limiter)).toBeGreaterThan(2500);
    expect(await pause(5000)).toBe(5000);
    expect(await redis.pttl(limiter)).toBeGreaterThan(4500);
    // BullMQ sees it as its manual rate limit: the queue reports the time left.
    await queue.setGlobalRateLimit(1e15, 1000);
    expect(await queue.getRateLimitTtl()).toBeGreaterThan(4500);
  });
});
