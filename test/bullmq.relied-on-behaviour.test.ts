import { Queue, Worker, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/shared/logger.js';
import { QueueWorker } from '../src/worker/queue-worker.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { redisUrl, uniquePrefix } from './support/redis.js';

// The smallest reproductions of the two BullMQ 6.7.0 defects that src/worker/queue-worker.ts works
// around, each run on the plain Worker (which must show the defect: if a BullMQ upgrade fixes it, this
// test says so and the workaround can go) and on our QueueWorker (which must not).

const logger = createLogger('silent', 'test');
type Kind = 'plain' | 'ours';
const makeWorker = <T>(kind: Kind, name: string, processor: Processor<T>, url: string, prefix: string, lockDuration: number, concurrency = 1) => {
  const { hostname, port } = new URL(url);
  const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
  const options = { connection, prefix, lockDuration, stalledInterval: lockDuration, maxStalledCount: 10, concurrency };
  const worker = kind === 'plain' ? new Worker<T>(name, processor, options) : new QueueWorker<T>(name, processor, { ...options, logger });
  // Renewals and finishes of the fenced run fail on purpose here.
  worker.on('error', () => {});
  return worker;
};

/** Blocks this thread (timers, sockets, BullMQ's renewals and stall checks) as SIGSTOP would. */
const freezeThread = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('BullMQ: a job retaken by the worker that still runs its old attempt', () => {
  const run = async (kind: Kind) => {
    const name = uniquePrefix(`lock-${kind}`);
    const prefix = `{${name}}`;
    const queue = new Queue(name, { connection: { host: new URL(redisUrl()).hostname, port: Number(new URL(redisUrl()).port) }, prefix });
    let calls = 0;
    let stalls = 0;
    let releaseFirst = () => {};
    const processor: Processor = async () => {
      calls += 1;
      if (calls === 1) {
        // The first run's thread freezes past the lock's end; once thawed the job stalls and this same
        // worker takes it again while this run is still waiting to end.
        setTimeout(() => freezeThread(2500), 100);
        await new Promise<void>((resolve) => (releaseFirst = resolve));
        return 'first';
      }
      if (calls === 2) {
        // The old run ends now (BullMQ untracks the job id), then this run lasts five lock periods.
        releaseFirst();
        await sleep(5000);
        return 'second';
      }
      return 'later';
    };
    // Two slots: the old run still holds one when the job comes back.
    const worker = makeWorker(kind, name, processor, redisUrl(), prefix, 1000, 2);
    worker.on('stalled', () => (stalls += 1));
    try {
      const job = await queue.add('j', {});
      for (let i = 0; i < 200; i += 1) {
        const state = await job.getState();
        if (state === 'completed' || state === 'failed') break;
        await sleep(100);
      }
      const done = await queue.getJob(job.id ?? '');
      return { calls, stalls, returned: done?.returnvalue as unknown };
    } finally {
      await worker.close(true);
      await queue.obliterate({ force: true });
      await queue.close();
    }
  };

  it('the plain Worker stops renewing the new run once the old run ends: the job stalls again', async () => {
    const plain = await run('plain');
    expect(plain.stalls).toBeGreaterThanOrEqual(2);
    expect(plain.calls).toBeGreaterThanOrEqual(3);
  });

  it('QueueWorker keeps renewing the new run: one stall, two runs, the second completes the job', async () => {
    const ours = await run('ours');
    expect(ours).toEqual({ calls: 2, stalls: 1, returned: 'second' });
  });
});

describe('BullMQ: fetching while Redis refuses writes (OOM under maxmemory)', () => {
  let server: RedisServerHandle;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
  });
  afterAll(async () => {
    await admin.quit();
    await server.stop();
  });

  /** Script calls (EVALSHA and EVAL: run, failed and rejected) Redis has seen so far. */
  const scriptCalls = async () => {
    const info = await admin.info('commandstats');
    let n = 0;
    for (const m of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)(?:.*?rejected_calls=(\d+))?(?:.*?failed_calls=(\d+))?/gm)) {
      n += Number(m[1]) + Number(m[2] ?? 0) + Number(m[3] ?? 0);
    }
    return n;
  };

  const run = async (kind: Kind) => {
    const name = uniquePrefix(`oom-${kind}`);
    const prefix = `{${name}}`;
    const queue = new Queue(name, { connection: { host: '127.0.0.1', port: server.port }, prefix });
    await queue.addBulk(Array.from({ length: 40 }, (_, i) => ({ name: 'j', data: { i } })));
    let processed = 0;
    await admin.config('SET', 'maxmemory', '1');
    const before = await scriptCalls();
    const worker = makeWorker(kind, name, async () => void (processed += 1), server.url, prefix, 5000, 4);
    await sleep(1000);
    const during = (await scriptCalls()) - before;
    await admin.config('SET', 'maxmemory', '0');
    for (let i = 0; i < 100 && processed < 40; i += 1) await sleep(100);
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    return { during, processed };
  };

  it('the plain Worker calls moveToActive again at once after each refusal: a busy loop', async () => {
    const plain = await run('plain');
    expect(plain.during).toBeGreaterThan(300);
  });

  it('QueueWorker backs off (25 ms doubling to 1 s) and takes every job once Redis takes writes again', async () => {
    const ours = await run('ours');
    // Five fetch loops' worth of backoff in a second: a handful of calls each, plus the stall check.
    expect(ours.during).toBeLessThan(60);
    expect(ours.processed).toBe(40);
  });
});
