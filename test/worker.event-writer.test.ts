import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJobId } from '../src/shared/ids.js';
import { createJobStore, type JobStore } from '../src/shared/job-store.js';
import { createEventWriter } from '../src/worker/event-writer.js';
import { redisUrl, uniquePrefix } from './support/redis.js';

describe('the self-clocking event writer', () => {
  let redis: Redis;
  let store: JobStore;
  beforeAll(() => {
    redis = new Redis(redisUrl());
    store = createJobStore(redis, { keyPrefix: uniquePrefix('writer'), resultTtlS: 600, maxDurationMs: 60_000 });
  });
  afterAll(async () => {
    await redis.quit();
  });

  const startedJob = async () => {
    const id = newJobId();
    await store.create({ id, model: 'm', params: '{}', metadata: {}, maxDurationMs: 60_000, requestHash: 'h' });
    const started = await store.start(id, 'w');
    if (started.kind !== 'started') throw new Error('not started');
    return { id, attempt: started.attempt };
  };

  it('writes the first piece at once and coalesces what arrives while a write is in flight', async () => {
    const { id, attempt } = await startedJob();
    const writer = createEventWriter(store, id, attempt, () => {
      throw new Error('refused');
    });
    const pieces = Array.from({ length: 100 }, (_, i) => `p${i} `);
    for (const p of pieces) writer.text(p);
    writer.fields({ output_tokens: 100 });
    expect(await writer.flush()).toBe('ok');
    const deltas = (await store.readEvents(id, 0, 1000)).filter((e) => e.type === 'delta');
    // One write for the first piece, one for the 99 that queued up behind it.
    expect(deltas.map((e) => (JSON.parse(e.data) as { text: string }).text)).toEqual([pieces[0], pieces.slice(1).join('')]);
    const stored = await store.read(id);
    expect(stored?.text).toBe(pieces.join(''));
    expect(stored?.hash['output_tokens']).toBe('100');
  });

  it('with a coalescing window, holds an idle stream\'s first piece so the next ones join it', async () => {
    const { id, attempt } = await startedJob();
    const writer = createEventWriter(store, id, attempt, () => {}, 30);
    writer.text('a');
    await new Promise((r) => setTimeout(r, 5));
    writer.text('b');
    writer.text('c');
    expect(await writer.flush()).toBe('ok');
    const deltas = (await store.readEvents(id, 0, 100)).filter((e) => e.type === 'delta');
    expect(deltas.map((e) => (JSON.parse(e.data) as { text: string }).text)).toEqual(['abc']);
  });

  it('keeps thinking and text apart and in order', async () => {
    const { id, attempt } = await startedJob();
    const writer = createEventWriter(store, id, attempt, () => {});
    writer.thinking('hmm');
    writer.thinking(' let me see');
    writer.text('Answer');
    writer.text(' here');
    await writer.flush();
    const events = (await store.readEvents(id, 2, 100)).map((e) => [e.type, (JSON.parse(e.data) as { text: string }).text]);
    expect(events).toEqual([
      ['thinking', 'hmm'],
      ['thinking', ' let me see'],
      ['delta', 'Answer here'],
    ]);
    expect((await store.read(id))?.text).toBe('Answer here');
  });

  it('stops after a newer attempt took the job: refused once, nothing more appended', async () => {
    const { id, attempt } = await startedJob();
    const refusals: string[] = [];
    const writer = createEventWriter(store, id, attempt, (o) => refusals.push(o));
    writer.text('old ');
    await writer.flush();
    // Another worker presumed this one dead and started attempt 2.
    const second = await store.start(id, 'w2');
    expect(second).toMatchObject({ kind: 'started', attempt: attempt + 1 });
    const before = (await store.readEvents(id, 0, 100)).length;
    writer.text('stale');
    expect(await writer.flush()).toBe('fenced');
    writer.text('more stale');
    expect(await writer.flush()).toBe('fenced');
    expect(refusals).toEqual(['fenced']);
    expect(await store.readEvents(id, 0, 100)).toHaveLength(before);
    expect((await store.read(id))?.text).toBe('');
  });
});
