import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore, type JobStore } from '../src/shared/job-store.js';
import { scripts } from '../src/shared/scripts.js';
import { redisUrl, uniquePrefix } from './support/redis.js';
import { startAttempt, startJob } from './support/store.js';

const delta = (text: string) => ({ type: 'delta' as const, data: JSON.stringify({ text }) });

// The attempt bookkeeping of start.lua, straight against Redis: what counts as an attempt, what a
// reset says, and what a replay of a start that came too late does.
describe('attempts on the record', () => {
  let redis: Redis;
  let store: JobStore;
  beforeAll(() => {
    redis = new Redis(redisUrl());
    store = createJobStore(redis, { keyPrefix: uniquePrefix('attempts'), resultTtlS: 600 });
  });
  afterAll(async () => {
    await redis.quit();
  });
  const all = (id: string) => {
    const k = store.keys(id);
    return [k.record, k.log, k.text, k.channel];
  };
  const resets = async (id: string) =>
    (await store.readEvents(id, 0, 100)).filter((e) => e.type === 'reset').map((e) => JSON.parse(e.data) as { attempt: number; reason: string });

  it('a hand-back does not count: the next start has the same attempt number and a new fence', async () => {
    const first = await startJob(store);
    await store.append(first.id, first.next(), { text: 'a', events: [delta('a')], fields: {} });
    expect(await store.requeue(first.id, first.next(), 'the worker shut down', true)).toBe('ok');
    const second = await startAttempt(store, first.id);
    expect(second).toMatchObject({ attempt: 1, fence: 2 });
    expect(await resets(first.id)).toEqual([{ attempt: 1, reason: 'the worker shut down' }]);
  });

  it('past the limit a start ends the job failed instead: a crash counts when the next attempt starts', async () => {
    const first = await startJob(store);
    await startAttempt(store, first.id); // the first one "crashed": still running at this start
    expect(await store.start(first.id, 'w3', 2)).toEqual({ kind: 'ended', status: 'failed' });
    const record = await store.read(first.id);
    expect(record?.hash['status']).toBe('failed');
    expect(JSON.parse(record?.hash['error'] ?? '{}')).toMatchObject({
      type: 'attempts_exhausted',
      message: 'all 2 attempts used; the last one ended without a result: its worker stopped or lost the job',
    });
  });

  it("the reset after a crash says so, not an older attempt's failure", async () => {
    const first = await startJob(store);
    expect(await store.requeue(first.id, first.next(), 'overloaded_error: Overloaded')).toBe('ok');
    const second = await startAttempt(store, first.id);
    await store.append(first.id, second.next(), { text: 'b', events: [delta('b')], fields: {} });
    // The second attempt's worker dies; the third starts over it.
    await startAttempt(store, first.id);
    expect((await resets(first.id)).at(-1)).toEqual({
      attempt: 3,
      reason: 'the previous attempt was interrupted: its worker stopped or lost the job',
    });
  });

  it('a start replayed after a later start replaced it is refused as superseded and changes nothing', async () => {
    const { id } = await startJob(store);
    // Worker A's start, run by Redis; its reply is lost and its replay comes late.
    const a = (await scripts.start.run(redis, all(id), ['wA', 'token-a', 5, 600])) as unknown[];
    expect(a[0]).toBe('started');
    const b = await startAttempt(store, id, 'wB');
    const replay = (await scripts.start.run(redis, all(id), ['wA', 'token-a', 5, 600])) as unknown[];
    expect(replay).toEqual(['superseded']);
    const record = await store.read(id);
    expect(record?.hash).toMatchObject({ status: 'running', attempt: String(b.attempt), fence: String(b.fence), worker: 'wB' });
  });
});
