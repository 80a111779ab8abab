import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKeys } from '../src/shared/keys.js';
import { scripts } from '../src/shared/scripts.js';
import { redisClusterNodes } from './support/redis.js';
import { readSse, viewerText } from './support/sse.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

/** A plain connection to one node of the suite's cluster. */
const nodeClient = (hostPort: string) => {
  const [host, port] = hostPort.split(':');
  return new Redis({ host, port: Number(port), lazyConnect: false });
};

// On a Redis Cluster every job lives on the shard that owns its `{job:ID}` slot, and its events travel
// over sharded pub/sub to that shard only.
describe('genrelay on a Redis Cluster', () => {
  let sys: TestSystem;
  let nodes: Redis[];
  beforeAll(async () => {
    sys = await startSystem({ name: 'sharded', env: { REDIS_CLUSTER_NODES: redisClusterNodes() } });
    nodes = redisClusterNodes().split(',').map(nodeClient);
  });
  afterAll(async () => {
    await sys.close();
    await Promise.all(nodes.map((n) => n.quit()));
  });
  const ownerOf = async (key: string) => {
    const slot = Number(await nodes[0]!.cluster('KEYSLOT', key));
    const owners = await Promise.all(
      nodes.map(async (n) => {
        const role = (await n.role()) as unknown[];
        if (role[0] !== 'master') return false;
        const mine = ((await n.cluster('SLOTS')) as unknown as [number, number, [string, number]][]).find(
          ([from, to, [, port]]) => slot >= from && slot <= to && port === n.options.port,
        );
        return mine !== undefined;
      }),
    );
    return owners.indexOf(true);
  };

  it("a job's events go over SPUBLISH to its shard only; its viewers subscribe there with SSUBSCRIBE", async () => {
    const text = words(60, 's');
    const { json } = await submitJob(sys.url, { max_tokens: 500, messages: [{ role: 'user', content: simPrompt({ text, tps: 30 }) }] });
    const id = String(json['id']);
    const channel = jobKeys(sys.config.keyPrefix, id).channel;
    const viewing = readSse(`${sys.url}/v1/jobs/${id}/events`);
    await eventually(async () => (String((await getRecord(sys.url, id))['text']).length > 0 ? true : undefined));
    const owner = await ownerOf(channel);
    expect(owner).toBeGreaterThanOrEqual(0);
    const sharded = await Promise.all(nodes.map((n) => n.pubsub('SHARDNUMSUB', channel) as Promise<[string, number]>));
    const classic = await Promise.all(nodes.map((n) => n.pubsub('NUMSUB', channel) as Promise<[string, number]>));
    expect(sharded.map(([, count]) => count)).toEqual(nodes.map((_, i) => (i === owner ? 1 : 0)));
    expect(classic.every(([, count]) => count === 0)).toBe(true);
    const view = await viewing;
    expect(viewerText(view.events)).toBe(text);
  });

  it('jobs spread over the three masters', async () => {
    const ids = await Promise.all(
      Array.from({ length: 30 }, async () => {
        const { json } = await submitJob(sys.url, { max_tokens: 10, messages: [{ role: 'user', content: simPrompt({ tokens: 2 }) }] });
        return String(json['id']);
      }),
    );
    await Promise.all(ids.map((id) => jobEnded(sys.url, id)));
    const owners = await Promise.all(ids.map((id) => ownerOf(jobKeys(sys.config.keyPrefix, id).record)));
    expect(new Set(owners).size).toBe(3);
  });
});

// SCRIPT LOAD is per node: a process loads the job scripts into every master when it starts, so
// the first write of a job is one EVALSHA. (Other test files share this cluster; a NOSCRIPT they meet
// after the flush costs them one EVAL, nothing else.)
describe('scripts on a Redis Cluster', () => {
  it('a starting process loads every script into every master', async () => {
    const nodes = redisClusterNodes().split(',').map(nodeClient);
    try {
      await Promise.all(nodes.map((n) => n.script('FLUSH')));
      const sys = await startSystem({ name: 'scripts', env: { REDIS_CLUSTER_NODES: redisClusterNodes() } });
      try {
        const shas = Object.values(scripts).map((s) => s.sha);
        for (const n of nodes) expect(await n.script('EXISTS', ...shas), `node ${n.options.port}`).toEqual(shas.map(() => 1));
      } finally {
        await sys.close();
      }
    } finally {
      await Promise.all(nodes.map((n) => n.quit()));
    }
  });
});
