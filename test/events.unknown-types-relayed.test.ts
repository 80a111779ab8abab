import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore } from '../src/shared/job-store.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { readSse, type SseEvent } from './support/sse.js';
import { startAttempt } from './support/store.js';
import { eventually, startSystem, submitJob, type TestSystem } from './support/system.js';

// A rolling upgrade: a newer worker writes an event type this API node does not know. The node relays
// it live as it is (same id, type and data), never as a gap it would repair from the log.
describe('an event of a type the API node does not know', () => {
  let server: RedisServerHandle;
  let admin: Redis;
  let sys: TestSystem;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    sys = await startSystem({ name: 'unknown-types', workers: 0, env: { REDIS_URL: server.url } });
  });
  afterAll(async () => {
    await sys.close();
    await admin.quit();
    await server.stop();
  });

  const xranges = async () => Number(/cmdstat_xrange:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);

  it('is relayed live with its id and data, without a read of the log', async () => {
    const { json } = await submitJob(sys.url, { max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    const id = String(json['id']);
    const redis = new Redis(server.url);
    try {
      const store = createJobStore(redis, sys.config);
      const job = await startAttempt(store, id, 'newer-worker');
      const seen: SseEvent[] = [];
      const reading = readSse(`${sys.url}/v1/jobs/${id}/events`, { onEvent: (e) => seen.push(e) });
      await eventually(async () => (seen.some((e) => e.event === 'status' && e.data.includes('running')) ? true : undefined));
      const before = await xranges();
      await store.append(id, job.next(), {
        text: 'hi',
        events: [
          { type: 'future_event' as never, data: '{"index":0,"payload":{"x":1}}' },
          { type: 'delta', data: '{"text":"hi","index":0}' },
        ],
        fields: {},
      });
      await eventually(async () => (seen.some((e) => e.event === 'delta') ? true : undefined));
      expect(await xranges()).toBe(before);
      const future = seen.find((e) => e.event === 'future_event');
      expect(future).toEqual({ id: String(Number(seen.find((e) => e.event === 'delta')?.id) - 1), event: 'future_event', data: '{"index":0,"payload":{"x":1}}' });
      await store.finish(id, { status: 'completed', write: job.next() });
      const view = await reading;
      expect(view.events.at(-1)?.event).toBe('done');
      // A late viewer replays it from the log like any other event.
      const late = await readSse(`${sys.url}/v1/jobs/${id}/events`);
      expect(late.events.map((e) => e.event)).toEqual(view.events.map((e) => e.event));
    } finally {
      await redis.quit();
    }
  });
});
