import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuSeconds, startWorkerProcess, type NodeProcess } from './support/processes.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// Issue 19 §5: while Redis refused writes (OOM under maxmemory), a worker holding a few hundred jobs
// wrote hundreds of error records a second, each with a stack. Here the worker holds 200 running
// jobs when Redis starts refusing writes for three seconds; its log must stay a handful of records
// that say how often each error repeated, its CPU must stay low, and every job must still end with
// its whole text once Redis takes writes again.

const jobs = 200;

const countBy = (keys: readonly string[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const k of keys) counts[k] = (counts[k] ?? 0) + 1;
  return counts;
};

describe('a worker holding 200 running jobs while Redis refuses writes (OOM under maxmemory)', () => {
  let server: RedisServerHandle;
  let admin: Redis;
  let sys: TestSystem;
  let worker: NodeProcess | undefined;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    sys = await startSystem({ name: 'oom-running', workers: 0, env: { REDIS_URL: server.url } });
  });
  afterAll(async () => {
    await admin.config('SET', 'maxmemory', '0');
    await worker?.stop('SIGKILL');
    await sys.close();
    await admin.quit();
    await server.stop();
  });

  it('logs each error once with a count, stays off the CPU, and every job ends with its text', async () => {
    worker = await startWorkerProcess({
      REDIS_URL: server.url,
      KEY_PREFIX: sys.config.keyPrefix,
      ANTHROPIC_BASE_URL: sys.sim.url,
      ANTHROPIC_API_KEY: 'test-key',
      WORKER_CONCURRENCY: String(jobs),
      // Each fault may cost an attempt; the jobs must not run out of them here.
      JOB_ATTEMPTS: '5',
      // Locks are renewed every second, so renewals are refused too.
      LOCK_DURATION_MS: '2000',
    });
    const ids: string[] = [];
    // Submitted 20 at a time: one by one, on a loaded machine the first short jobs ended before the
    // last ones were submitted, and "all running" never came.
    for (let i = 0; i < jobs; i += 20) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(20, jobs - i) }, async (_, k) => {
          // Half of them stream for about 4 s, so they end inside the refusal; half for about 12 s, past it.
          const tokens = (i + k) % 2 === 0 ? 20 : 60;
          const { json } = await submitJob(sys.url, { max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ tokens, tps: 5, ttft_ms: 50, text: null }) }] });
          return String(json['id']);
        }),
      );
      ids.push(...batch);
    }
    // Every job has started (none waits in the queue); on a loaded machine a few short ones may have
    // ended already, which the fault below does not need.
    await eventually(async () => {
      const started = await Promise.all(ids.map(async (id) => (await getRecord(sys.url, id))['status'] !== 'queued'));
      if (started.every(Boolean)) return true;
      await sleep(200);
      return undefined;
    }, 20_000);

    const records = () => worker!.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    // More jobs wait in the queue: the worker's fetches are refused too.
    for (let i = 0; i < 50; i += 1) {
      const { json } = await submitJob(sys.url, { max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ tokens: 5, tps: 50 }) }] });
      ids.push(String(json['id']));
    }
    const oomRefusals = async () => Number(/errorstat_OOM:count=(\d+)/.exec(await admin.info('errorstats'))?.[1] ?? 0);
    const refusedBefore = await oomRefusals();
    const before = records().length;
    const cpuBefore = cpuSeconds(worker.pid);
    await admin.config('SET', 'maxmemory', '1');
    await sleep(5000);
    await admin.config('SET', 'maxmemory', '0');
    const refused = (await oomRefusals()) - refusedBefore;
    const cpu = cpuSeconds(worker.pid) - cpuBefore;
    // The counts of the repeated errors come when their window closes.
    await sleep(11_000);
    const during = records().slice(before);
    const loud = during.filter((r) => Number(r['level']) >= 40);
    const withStack = loud.filter((r) => typeof r['err'] === 'object' && r['err'] !== null && 'stack' in (r['err'] as object));
    const counted = loud.filter((r) => typeof r['repeated'] === 'number').reduce((n, r) => n + Number(r['repeated']), 0);
    const summary = JSON.stringify({ refused, cpu, loud: loud.length, withStack: withStack.length, counted, byMsg: countBy(loud.map((r) => `${String(r['level'])} ${String(r['msg'])}`)) });
    // The refusal did reach the worker's writes.
    expect(refused, summary).toBeGreaterThan(jobs);
    // Before the fix: 603 records (400 "a fenced run could not finish its queue job", each naming its
    // job so never counted as a repeat, and 200 "job lock lost"); after: 10, 199 repeats counted.
    expect(loud.length, summary).toBeLessThanOrEqual(20);
    expect(withStack.length, summary).toBeLessThanOrEqual(5);
    expect(counted, summary).toBeGreaterThan(0);
    expect(cpu, summary).toBeLessThan(3);

    for (const id of ids) {
      const ended = await jobEnded(sys.url, id, 60_000);
      expect(ended['status']).toBe('completed');
    }
  }, 120_000);
});
