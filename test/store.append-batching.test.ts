import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAppendsPerCall } from '../src/shared/append-batcher.js';
import { createJobStore, type JobStore } from '../src/shared/job-store.js';
import { loadScripts, scripts } from '../src/shared/scripts.js';
import { redisUrl, uniquePrefix } from './support/redis.js';
import { startRedisServer } from './support/redis-server.js';
import { startAttempt, startJob } from './support/store.js';

const delta = (text: string) => ({ type: 'delta' as const, data: JSON.stringify({ text }) });

// The worker's store batches the appends of different jobs made in one event-loop turn into one
// append-many call (src/shared/append-batcher.ts). Straight against Redis: what goes out, and that
// each job gets its own answer and applies its write once.
describe('appends of several jobs in one call', () => {
  let redis: Redis;
  let monitor: Redis;
  let store: JobStore;
  const prefix = uniquePrefix('batching');
  // The EVALSHA commands Redis received, as [sha, numkeys, ...keys, ...args].
  let seen: string[][] = [];
  beforeAll(async () => {
    redis = new Redis(redisUrl(), { enableAutoPipelining: true });
    store = createJobStore(redis, { keyPrefix: prefix, resultTtlS: 600, batchAppends: true });
    await loadScripts(redis);
    monitor = await new Redis(redisUrl()).monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (String(args[0]).toLowerCase() === 'evalsha') seen.push(args.slice(1));
    });
  });
  afterAll(async () => {
    monitor.disconnect();
    await redis.quit();
  });
  // The calls of `sha` that name any of `jobs` (MONITOR lines of an earlier test may come in late).
  const callsOf = (sha: string, jobs: readonly { id: string }[]) => {
    const records = new Set(jobs.map((j) => store.keys(j.id).record));
    return seen.filter((a) => a[0] === sha && a.some((x) => records.has(x)));
  };
  const text = async (id: string) => (await store.read(id))?.text;
  // MONITOR's lines can lag well behind the replies on a loaded machine.
  const poll = { timeout: 10_000 };

  it('the first goes alone; those made while it is in flight leave together, each with its own answer', async () => {
    const [a, b, c, d] = await Promise.all([startJob(store), startJob(store), startJob(store), startJob(store)]);
    if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error('four jobs');
    const staleC = c.next();
    await startAttempt(store, c.id); // c's first attempt is fenced out
    await redis.del(store.keys(d.id).record); // d is gone
    seen = [];
    const batch = (s: string) => ({ text: s, events: [delta(s)], fields: { output_tokens: s.length } });
    const answers = await Promise.all([
      store.append(a.id, a.next(), batch('a1')),
      store.append(b.id, b.next(), batch('b1')),
      store.append(c.id, staleC, batch('c1')),
      store.append(d.id, d.next(), batch('d1')),
    ]);
    expect(answers).toEqual(['ok', 'ok', 'fenced', 'gone']);
    // Wait for MONITOR to have shown both calls.
    const four = [a, b, c, d];
    await expect.poll(() => callsOf(scripts.append.sha, four).length + callsOf(scripts.appendMany.sha, four).length, poll).toBe(2);
    expect(callsOf(scripts.append.sha, four).map((x) => x[2])).toEqual([store.keys(a.id).record]);
    const [many] = callsOf(scripts.appendMany.sha, four);
    expect(many?.[1]).toBe('12'); // b, c and d: four keys each
    expect(many?.filter((x) => x.endsWith(':rec'))).toEqual([b.id, c.id, d.id].map((id) => store.keys(id).record));
    expect(await text(a.id)).toBe('a1');
    expect(await text(b.id)).toBe('b1');
    expect(await text(c.id)).toBe('');
    expect((await store.read(b.id))?.hash['output_tokens']).toBe('2');
  });

  it('an append-many run twice (a reply lost, the call sent again) applies each write once and answers the same', async () => {
    const jobs = await Promise.all([startJob(store), startJob(store), startJob(store)]);
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const [i, j] of jobs.entries()) {
      const k = store.keys(j.id);
      keys.push(k.record, k.log, k.text, k.channel);
      const write = j.next();
      const own = [write.fence, write.op, `t${i}`, 2, 'delta', JSON.stringify({ text: `t${i}` }), 'delta', '{}', 'output_tokens', 7];
      args.push(own.length, ...own);
    }
    const first = await scripts.appendMany.run(redis, keys, args);
    const again = await scripts.appendMany.run(redis, keys, args);
    expect(first).toEqual([4, 4, 4]); // queued, running, then the two deltas
    expect(again).toEqual(first);
    for (const [i, j] of jobs.entries()) {
      expect(await text(j.id)).toBe(`t${i}`);
      expect((await store.readEvents(j.id, 0, 100)).map((e) => e.type)).toEqual(['status', 'status', 'delta', 'delta']);
    }
  });

  it(`more than ${maxAppendsPerCall} at once leave in calls of at most ${maxAppendsPerCall} jobs`, async () => {
    const n = maxAppendsPerCall + 6;
    const jobs = await Promise.all(Array.from({ length: n + 1 }, () => startJob(store)));
    seen = [];
    const answers = await Promise.all(jobs.map((j) => store.append(j.id, j.next(), { text: 'x', events: [delta('x')], fields: {} })));
    expect(answers.every((x) => x === 'ok')).toBe(true);
    await expect.poll(() => callsOf(scripts.append.sha, jobs).length + callsOf(scripts.appendMany.sha, jobs).length, poll).toBe(3);
    // The first alone, then the turn's others: 64 and 6.
    expect(callsOf(scripts.appendMany.sha, jobs).map((x) => Number(x[1]) / 4)).toEqual([maxAppendsPerCall, 6]);
    for (const j of jobs) expect(await text(j.id)).toBe('x');
  });

  it("one job's write failing in the script refuses that job alone: the others in the call are applied and told so", async () => {
    const [a, b, c] = await Promise.all([startJob(store), startJob(store), startJob(store)]);
    if (a === undefined || b === undefined || c === undefined) throw new Error('three jobs');
    // b's text key holds a hash: its APPEND raises WRONGTYPE inside the script.
    await redis.hset(store.keys(b.id).text, 'x', '1');
    seen = [];
    const batch = { text: 'w', events: [delta('w')], fields: {} };
    const ids = [a, b, c].map((j) => j.next());
    const answers = await Promise.allSettled([a, b, c].map((j, i) => store.append(j.id, ids[i]!, batch)));
    expect(answers.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((answers[1] as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/);
    // b and c shared the call: c was applied although b failed before it.
    await expect.poll(() => callsOf(scripts.appendMany.sha, [a, b, c]).length, poll).toBe(1);
    expect(await text(a.id)).toBe('w');
    expect(await text(c.id)).toBe('w');
    // The writer sends a refused write again under the same id, batched or alone. The text goes
    // first in the script, so b's failed write left nothing behind: no event logged or published,
    // however often it is sent.
    const alone = createJobStore(redis, { keyPrefix: prefix, resultTtlS: 600, batchAppends: false });
    const again = await Promise.allSettled([
      store.append(a.id, a.next(), batch),
      store.append(b.id, ids[1]!, batch),
      alone.append(b.id, ids[1]!, batch),
    ]);
    expect(again.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    const types = (await redis.xrange(store.keys(b.id).log, '-', '+')).map(([, fields]) => fields[1]);
    expect(types).not.toContain('delta');
  });

  it('a server in cluster mode reached as one Redis refuses the first call with CROSSSLOT; from then on each append goes alone', async () => {
    const server = await startRedisServer({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] });
    const one = new Redis(server.url, { enableAutoPipelining: true });
    try {
      await one.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
      await expect.poll(async () => String(await one.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), { timeout: 10_000 }).toBe(true);
      const own = createJobStore(one, { keyPrefix: uniquePrefix('crossslot'), resultTtlS: 600, batchAppends: true });
      const jobs = await Promise.all(Array.from({ length: 4 }, () => startJob(own)));
      const round = async (s: string) => Promise.all(jobs.map((j) => own.append(j.id, j.next(), { text: s, events: [delta(s)], fields: {} })));
      expect(await round('1')).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(await round('2')).toEqual(['ok', 'ok', 'ok', 'ok']);
      for (const j of jobs) expect((await own.read(j.id))?.text).toBe('12');
    } finally {
      one.disconnect();
      await server.stop();
    }
  });

  it('a call Redis refuses rejects each append in it, and each can be sent again on its own', async () => {
    // On a private server: maxmemory on the shared one would refuse the other test files' writes.
    const server = await startRedisServer();
    const own = new Redis(server.url, { enableAutoPipelining: true });
    try {
      const oomStore = createJobStore(own, { keyPrefix: uniquePrefix('batching-oom'), resultTtlS: 600, batchAppends: true });
      await loadScripts(own);
      const jobs = await Promise.all([startJob(oomStore), startJob(oomStore), startJob(oomStore)]);
      const writes = jobs.map((j) => j.next());
      const batch = { text: 'r', events: [delta('r')], fields: {} };
      const appendAll = () => Promise.allSettled(jobs.map((j, i) => oomStore.append(j.id, writes[i] ?? j.next(), batch)));
      await own.config('SET', 'maxmemory', '1');
      let refused: PromiseSettledResult<unknown>[];
      try {
        refused = await appendAll();
      } finally {
        await own.config('SET', 'maxmemory', '0');
      }
      expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(String((refused[1] as PromiseRejectedResult).reason)).toMatch(/OOM/);
      // The same writes again (as each writer's retry sends them): applied once each.
      expect((await appendAll()).map((r) => (r.status === 'fulfilled' ? r.value : r.reason))).toEqual(['ok', 'ok', 'ok']);
      for (const j of jobs) expect((await oomStore.read(j.id))?.text).toBe('r');
    } finally {
      own.disconnect();
      await server.stop();
    }
  });
});
