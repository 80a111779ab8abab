import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKeys } from '../src/shared/keys.js';
import { startRedisCluster, type RedisClusterHandle } from './support/redis-cluster.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

// The slot of a streaming job moves to another master (as `redis-cli --cluster reshard` moves it), one
// key at a time, so the worker's scripts meet a split slot (TRYAGAIN) and ASK redirections, and the old
// master drops the API's sharded subscription (an unsolicited `sunsubscribe`). The job goes on in the
// same attempt; the API subscribes again on the new master while the job still streams; every viewer,
// connected throughout or joining after the move, has ids 1..N once each and exactly the upstream text.
describe('a slot migration in the middle of a stream', () => {
  let cluster: RedisClusterHandle;
  let sys: TestSystem;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    sys = await startSystem({ name: 'slot-migration', env: { REDIS_CLUSTER_NODES: cluster.seeds, KEEPALIVE_MS: '1000' } });
  }, 60_000);
  afterAll(async () => {
    await sys.close();
    await cluster.stop();
  });

  it('the job streams on in the same attempt; live delivery resumes from the new master', async () => {
    const tag = 'migrating';
    const { status, json } = await submitJob(sys.url, {
      max_tokens: 2000,
      messages: [{ role: 'user', content: simPrompt({ text: words(200, 'm.'), tps: 20, tag }) }],
    });
    expect(status).toBe(202);
    const id = String(json['id']);
    const keys = jobKeys(sys.config.keyPrefix, id);
    const throughout = [readSse(`${sys.url}/v1/jobs/${id}/events`), readSse(`${sys.url}/v1/jobs/${id}/events`)];
    await eventually(async () => (String((await getRecord(sys.url, id))['text']).length > 0 ? true : undefined), 20_000, 'streaming');

    const { from, to } = await cluster.moveSlot(keys.record, 150);
    expect((await cluster.masterOf(keys.record)).port).toBe(to.port);
    expect(from.port).not.toBe(to.port);
    // The API's sharded subscription follows the slot, while the job is still streaming.
    const target = new Redis(to.url);
    try {
      await eventually(
        async () => {
          const [, n] = (await target.call('PUBSUB', 'SHARDNUMSUB', keys.channel)) as [string, number];
          return n > 0 ? true : undefined;
        },
        10_000,
        'the API subscribed on the new master',
      );
    } finally {
      target.disconnect();
    }
    expect((await getRecord(sys.url, id))['status']).toBe('running');
    const joined = readSse(`${sys.url}/v1/jobs/${id}/events`);

    const record = await jobEnded(sys.url, id, 60_000);
    const upstream = sys.sim.requests.filter((r) => r.tag === tag);
    expect(upstream).toHaveLength(1);
    expect(record).toMatchObject({ status: 'completed', attempt: 1, text: upstream[0]?.textSent });
    for (const view of [...throughout, joined]) {
      const { events } = await view;
      checkContiguous(events);
      expect(events.filter((e) => e.event === 'done')).toHaveLength(1);
      expect(events.some((e) => e.event === 'reset')).toBe(false);
      expect(viewerText(events)).toBe(upstream[0]?.textSent);
    }
  }, 90_000);
});
