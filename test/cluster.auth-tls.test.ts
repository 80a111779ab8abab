import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, startNode, type Cluster } from './support/processes.js';
import { startRedisCluster, type RedisClusterHandle } from './support/redis-cluster.js';
import { readSse, viewerText } from './support/sse.js';
import { jobEnded, simPrompt, submitJob, words } from './support/system.js';

const user = { name: 'genrelay', password: 'p@ss:w/rd' };
const urlsOf = (cluster: RedisClusterHandle, password: string) =>
  cluster.seeds
    .split(',')
    .map((hp) => `rediss://${user.name}:${encodeURIComponent(password)}@${hp.replace('127.0.0.1', 'localhost')}`)
    .join(',');

// A managed cluster's way: TLS only, and an ACL user with a password (with characters a URL must
// escape). REDIS_CLUSTER_NODES as rediss:// URLs, the private CA through Node's NODE_EXTRA_CA_CERTS;
// API and worker in their own processes.
describe('a Redis Cluster with TLS and an ACL user', () => {
  let redis: RedisClusterHandle;
  let cluster: Cluster;
  beforeAll(async () => {
    redis = await startRedisCluster({ masters: 3, tls: true, password: 'admin-only', user });
    cluster = await startCluster('cluster-tls', { REDIS_CLUSTER_NODES: urlsOf(redis, user.password), NODE_EXTRA_CA_CERTS: redis.caFile ?? '' });
  }, 60_000);
  afterAll(async () => {
    await cluster.stop();
    await redis.stop();
  });

  it('streams a job end to end', async () => {
    const [api] = await Promise.all([cluster.api(), cluster.worker()]);
    const text = words(30, 't.');
    const { status, json } = await submitJob(api.url, { max_tokens: 200, messages: [{ role: 'user', content: simPrompt({ text, tps: 60 }) }] });
    expect(status).toBe(202);
    const id = String(json['id']);
    const { events } = await readSse(`${api.url}/v1/jobs/${id}/events`);
    expect(viewerText(events)).toBe(text);
    expect(await jobEnded(api.url, id)).toMatchObject({ status: 'completed', text });
  });

  it('a wrong password stops start-up with one line naming REDIS_CLUSTER_NODES, not the password', async () => {
    const wrong = 'not-the-password';
    const proc = startNode('api/main.ts', { ...cluster.env, PORT: '0', REDIS_CLUSTER_NODES: urlsOf(redis, wrong) });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toMatch(/REDIS_CLUSTER_NODES=.*WRONGPASS/);
    expect(proc.output()).not.toContain(wrong);
    expect(proc.output()).not.toContain(user.password);
    // Without the CA, the closed connection is explained.
    const env: Record<string, string> = { ...cluster.env, PORT: '0' };
    delete env['NODE_EXTRA_CA_CERTS'];
    const untrusted = startNode('api/main.ts', env);
    expect(await untrusted.exited).not.toBe(0);
    expect(untrusted.output()).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('mixed credentials are a configuration error', async () => {
    const hp = redis.seeds.split(',');
    const proc = startNode('api/main.ts', {
      ...cluster.env,
      PORT: '0',
      REDIS_CLUSTER_NODES: `rediss://a:x@${hp[0] ?? ''},rediss://b:y@${hp[1] ?? ''}`,
    });
    expect(await proc.exited).not.toBe(0);
    expect(proc.output()).toMatch(/REDIS_CLUSTER_NODES.*same scheme, user and password/);
    expect(proc.output()).not.toMatch(/:x@|:y@/);
  });
});
