import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore, type JobStore } from '../src/shared/job-store.js';
import { checkContiguous, readSse, viewerText, type SseEvent } from './support/sse.js';
import { startJob } from './support/store.js';
import { eventually, startSystem, type TestSystem } from './support/system.js';

// The API's one subscriber connection is killed while a viewer watches; what was published while it
// was gone (including `done`) is lost from pub/sub, and the viewer must fill it from the log.
describe('shared subscriber reconnect', () => {
  let sys: TestSystem;
  let store: JobStore;
  beforeAll(async () => {
    // No worker: the test writes the job's events itself, so it controls what is published when.
    sys = await startSystem({ name: 'sub-reconnect', workers: 0 });
    store = createJobStore(sys.redis, sys.config);
  });
  afterAll(async () => {
    await sys.close();
  });

  const subscriberIds = async () => {
    const list = (await sys.redis.client('LIST')) as string;
    return list
      .split('\n')
      .filter((l) => l.includes(` name=genrelay:${sys.config.keyPrefix}:subscriber `))
      .map((l) => /(?:^| )id=(\d+)/.exec(l)?.[1] ?? '');
  };
  const delta = (text: string) => ({ type: 'delta' as const, data: JSON.stringify({ text }) });

  it('viewers get everything published while the connection was down, done included', async () => {
    const started = await startJob(store, 'test-worker');
    const { id } = started;
    await store.append(id, started.next(), { text: 'a', events: [delta('a')], fields: {} });

    const seen: SseEvent[] = [];
    const viewers = [0, 1].map(() => readSse(`${sys.url}/v1/jobs/${id}/events`, { onEvent: (e) => seen.push(e) }));
    await eventually(async () => (seen.length >= 6 ? true : undefined), 10_000, 'both viewers replayed');
    await store.append(id, started.next(), { text: 'b', events: [delta('b')], fields: {} });
    await eventually(async () => (seen.length >= 8 ? true : undefined), 10_000, 'live event');

    const [subscriberId] = await subscriberIds();
    expect(subscriberId).toBeTruthy();
    await sys.redis.client('KILL', 'ID', String(subscriberId));
    // ioredis waits at least 100 ms before reconnecting: these land while nobody is subscribed.
    await store.append(id, started.next(), { text: 'cd', events: [delta('c'), delta('d')], fields: {} });
    await store.finish(id, { status: 'completed', write: started.next() });

    for (const view of await Promise.all(viewers)) {
      checkContiguous(view.events);
      expect(view.events.at(-1)?.event).toBe('done');
      expect(viewerText(view.events)).toBe('abcd');
    }
    const [newId] = await subscriberIds();
    expect(newId).not.toBe(subscriberId);
  });
});
