import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore, type JobStore } from '../src/shared/job-store.js';
import { createEventWriter, type WriterStop } from '../src/worker/event-writer.js';
import { StoreUnavailableError } from '../src/worker/store-retry.js';
import { createWriteClock, type WriteClock } from '../src/worker/write-clock.js';
import { redisUrl, uniquePrefix } from './support/redis.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { startAttempt, startJob, type StartedJob } from './support/store.js';

const writerFor = (store: JobStore, job: StartedJob, onStop: (why: WriterStop, err?: unknown) => void = () => {}, windowMs = 0) =>
  createEventWriter({ store, jobId: job.id, writes: job.writes, onStop, retry: { budgetMs: 30_000, signal: new AbortController().signal }, windowMs });

describe('the self-clocking event writer', () => {
  let redis: Redis;
  let store: JobStore;
  beforeAll(() => {
    redis = new Redis(redisUrl());
    store = createJobStore(redis, { keyPrefix: uniquePrefix('writer'), resultTtlS: 600 });
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('writes the first piece at once and coalesces what arrives while a write is in flight', async () => {
    const job = await startJob(store);
    const writer = writerFor(store, job, () => {
      throw new Error('refused');
    });
    const pieces = Array.from({ length: 100 }, (_, i) => `p${i} `);
    for (const p of pieces) writer.text(0, p);
    writer.fields({ output_tokens: 100 });
    expect(await writer.flush()).toBe('ok');
    const deltas = (await store.readEvents(job.id, 0, 1000)).filter((e) => e.type === 'delta');
    // One write for the first piece, one for the 99 that queued up behind it.
    expect(deltas.map((e) => (JSON.parse(e.data) as { text: string }).text)).toEqual([pieces[0], pieces.slice(1).join('')]);
    const stored = await store.read(job.id);
    expect(stored?.text).toBe(pieces.join(''));
    expect(stored?.hash['output_tokens']).toBe('100');
  });

  it('with a coalescing window, holds an idle stream\'s first piece so the next ones join it', async () => {
    const job = await startJob(store);
    const writer = writerFor(store, job, () => {}, 30);
    writer.text(0, 'a');
    await new Promise((r) => setTimeout(r, 5));
    writer.text(0, 'b');
    writer.text(0, 'c');
    expect(await writer.flush()).toBe('ok');
    const deltas = (await store.readEvents(job.id, 0, 100)).filter((e) => e.type === 'delta');
    expect(deltas.map((e) => (JSON.parse(e.data) as { text: string }).text)).toEqual(['abc']);
  });

  it('on the worker\'s shared clock, jobs whose windows overlap write in the same turn (each on its own clock, they do not)', async () => {
    // Counts event-loop turns, to tell which appends were made together.
    let turn = 0;
    let ticking = true;
    const tick = () => {
      turn += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const appendTurns = async (clock: WriteClock | undefined) => {
      const turns: number[] = [];
      const counted: JobStore = {
        ...store,
        append: (...args) => {
          turns.push(turn);
          return store.append(...args);
        },
      };
      const [a, b] = [await startJob(store), await startJob(store)];
      const writer = (job: StartedJob) =>
        createEventWriter({ store: counted, jobId: job.id, writes: job.writes, onStop: () => {}, retry: { budgetMs: 30_000, signal: new AbortController().signal }, windowMs: 200, ...(clock === undefined ? {} : { clock }) });
      const [first, second] = [writer(a), writer(b)];
      // b comes 100 ms into a's 200 ms window. On their own clocks their windows end 100 ms apart: with
      // 10 ms, a loaded machine once ran both timers in one turn.
      first.text(0, 'from a');
      await new Promise((r) => setTimeout(r, 100));
      second.text(0, 'from b');
      expect(await Promise.all([first.flush(), second.flush()])).toEqual(['ok', 'ok']);
      expect((await store.read(a.id))?.text).toBe('from a');
      expect((await store.read(b.id))?.text).toBe('from b');
      return turns;
    };
    try {
      const shared = await appendTurns(createWriteClock());
      expect(shared).toHaveLength(2);
      expect(shared[0]).toBe(shared[1]);
      const own = await appendTurns(undefined);
      expect(own).toHaveLength(2);
      expect(own[1]).toBeGreaterThan(own[0] as number);
    } finally {
      ticking = false;
    }
  });

  it('keeps thinking and text apart and in order', async () => {
    const job = await startJob(store);
    const writer = writerFor(store, job);
    writer.thinking(0, 'hmm');
    writer.thinking(0, ' let me see');
    writer.text(1, 'Answer');
    writer.text(1, ' here');
    await writer.flush();
    const events = (await store.readEvents(job.id, 2, 100)).map((e) => [e.type, (JSON.parse(e.data) as { text: string }).text]);
    expect(events).toEqual([
      ['thinking', 'hmm'],
      ['thinking', ' let me see'],
      ['delta', 'Answer here'],
    ]);
    expect((await store.read(job.id))?.text).toBe('Answer here');
  });

  it('stops after a newer attempt took the job: refused once, nothing more appended', async () => {
    const job = await startJob(store);
    const refusals: string[] = [];
    const writer = writerFor(store, job, (o) => refusals.push(o));
    writer.text(0, 'old ');
    await writer.flush();
    // Another worker presumed this one dead and started attempt 2.
    const second = await startAttempt(store, job.id, 'w2');
    expect(second).toMatchObject({ attempt: job.attempt + 1, fence: job.fence + 1 });
    const before = (await store.readEvents(job.id, 0, 100)).length;
    writer.text(0, 'stale');
    expect(await writer.flush()).toBe('fenced');
    writer.text(0, 'more stale');
    expect(await writer.flush()).toBe('fenced');
    expect(refusals).toEqual(['fenced']);
    expect(await store.readEvents(job.id, 0, 100)).toHaveLength(before);
    expect((await store.read(job.id))?.text).toBe('');
  });
});

// Redis refusing writes (OOM under noeviction, made with CONFIG SET maxmemory on a private server):
// a batch the writer took is sent again until Redis takes it, never dropped; past the budget the
// writer stops and says so.
describe('the event writer when Redis refuses its writes', () => {
  let server: RedisServerHandle;
  let redis: Redis;
  let admin: Redis;
  let store: JobStore;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: null });
    admin = new Redis(server.url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    store = createJobStore(redis, { keyPrefix: uniquePrefix('writer-oom'), resultTtlS: 600 });
  });
  afterAll(async () => {
    await redis.quit();
    await admin.quit();
    await server.stop();
  });
  const refuseWrites = () => admin.config('SET', 'maxmemory', '1');
  const takeWrites = () => admin.config('SET', 'maxmemory', '0');

  it('a refused batch is written once Redis takes writes again: no hole in the text, no event twice', async () => {
    const job = await startJob(store);
    const writer = writerFor(store, job);
    writer.text(0, 'before ');
    expect(await writer.flush()).toBe('ok');
    await refuseWrites();
    // The first of these is taken as a batch at once and refused; the rest queue up behind it.
    const pieces = Array.from({ length: 20 }, (_, i) => `w${i} `);
    for (const p of pieces) writer.text(0, p);
    await new Promise((r) => setTimeout(r, 400));
    expect((await store.read(job.id))?.text).toBe('before ');
    await takeWrites();
    expect(await writer.flush()).toBe('ok');
    const text = `before ${pieces.join('')}`;
    expect((await store.read(job.id))?.text).toBe(text);
    const deltas = (await store.readEvents(job.id, 0, 100)).filter((e) => e.type === 'delta');
    expect(deltas.map((e) => (JSON.parse(e.data) as { text: string }).text).join('')).toBe(text);
  });

  it('the retry budget counts refusals, not the time a write was held before it was refused', async () => {
    const job = await startJob(store);
    const stops: WriterStop[] = [];
    const writer = createEventWriter({ store, jobId: job.id, writes: job.writes, retry: { budgetMs: 500, signal: new AbortController().signal }, onStop: (why) => stops.push(why) });
    await refuseWrites();
    // Held for a second (longer than the budget), then refused, then taken 300 ms later.
    await admin.client('PAUSE', '1000', 'WRITE');
    writer.text(0, 'held then refused');
    await new Promise((r) => setTimeout(r, 1300));
    await takeWrites();
    expect(await writer.flush()).toBe('ok');
    expect(stops).toEqual([]);
    expect((await store.read(job.id))?.text).toBe('held then refused');
  });

  it('past the retry budget the writer stops as unavailable and holds the batch; a later flush writes it', async () => {
    const job = await startJob(store);
    const stops: { why: WriterStop; err: unknown }[] = [];
    const writer = createEventWriter({
      store,
      jobId: job.id,
      writes: job.writes,
      retry: { budgetMs: 300, signal: new AbortController().signal },
      onStop: (why, err) => stops.push({ why, err }),
    });
    await refuseWrites();
    try {
      writer.text(0, 'held ');
      expect(await writer.flush()).toBe('unavailable');
      // Pieces that come while stopped are dropped: the attempt is stopping.
      writer.text(0, 'dropped');
      expect(await writer.flush()).toBe('unavailable');
    } finally {
      await takeWrites();
    }
    expect(stops.map((s) => s.why)).toEqual(['unavailable', 'unavailable']);
    expect(stops[0]?.err).toBeInstanceOf(StoreUnavailableError);
    expect(String((stops[0]?.err as Error).message)).toMatch(/OOM/);
    expect((await store.read(job.id))?.text).toBe('');
    // Redis takes writes again: the held batch lands, once.
    expect(await writer.flush()).toBe('ok');
    expect((await store.read(job.id))?.text).toBe('held ');
    const deltas = (await store.readEvents(job.id, 0, 100)).filter((e) => e.type === 'delta');
    expect(deltas.map((e) => (JSON.parse(e.data) as { text: string }).text)).toEqual(['held ']);
  });
});
