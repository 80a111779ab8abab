import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKeys } from '../src/shared/keys.js';
import { startRedisCluster, type RedisClusterHandle } from './support/redis-cluster.js';
import { checkContiguous, readSse, type SseEvent } from './support/sse.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

// The API's subscriber on the shard that owns a job goes away (its connection killed, and the node
// refusing a new one for a while), and the job's last events, up to `done`, are published meanwhile:
// nothing follows them for the viewer to notice a gap by. When ioredis has the shard's subscriber back
// (`subscribersReady`), the viewers catch up from the log at once. The keep-alive tick, the other
// safety net, is set to ten minutes here, so it cannot be what ends the stream.
describe('a shard subscriber lost while a job ends', () => {
  let cluster: RedisClusterHandle;
  let sys: TestSystem;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    sys = await startSystem({ name: 'subscriber-loss', env: { REDIS_CLUSTER_NODES: cluster.seeds, KEEPALIVE_MS: '600000', REAPER_INTERVAL_MS: '200' } });
  }, 60_000);
  afterAll(async () => {
    await sys.close();
    await cluster.stop();
  });

  it("the viewer gets the job's ending as soon as the subscriber is back", async () => {
    const { json } = await submitJob(sys.url, { max_tokens: 2000, messages: [{ role: 'user', content: simPrompt({ text: words(400, 'l.'), tps: 10 }) }] });
    const id = String(json['id']);
    const seen: SseEvent[] = [];
    const view = readSse(`${sys.url}/v1/jobs/${id}/events`, { onEvent: (e) => seen.push(e) });
    await eventually(async () => (seen.some((e) => e.event === 'delta') ? true : undefined), 20_000, 'a delta at the viewer');

    const owner = await cluster.masterOf(jobKeys(sys.config.keyPrefix, id).channel);
    const admin = new Redis(owner.url);
    try {
      // No new connection for now (the ones open stay), then cut the API's subscriber on this shard.
      const connected = Number(/connected_clients:(\d+)/.exec(await admin.info('clients'))?.[1]);
      await admin.config('SET', 'maxclients', String(connected));
      expect(Number(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).toBeGreaterThan(0);
      // The job ends while nobody in the API listens: cancel (the worker finds the flag on its reaper tick).
      expect((await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' })).status).toBe(202);
      const ended = await jobEnded(sys.url, id, 20_000);
      expect(ended['status']).toBe('cancelled');
      const before = seen.length;
      await new Promise((r) => setTimeout(r, 500));
      expect(seen.length, 'nothing reached the viewer while the subscriber was away').toBe(before);
      await admin.config('SET', 'maxclients', '10000');
    } finally {
      admin.disconnect();
    }
    const { events } = await view;
    checkContiguous(events);
    expect(events.at(-1)?.event).toBe('done');
    expect(JSON.parse(events.at(-1)?.data ?? '{}')).toMatchObject({ status: 'cancelled' });
    expect((await getRecord(sys.url, id))['status']).toBe('cancelled');
  }, 60_000);
});
