import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type NodeProcess } from './support/processes.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { eventually, simPrompt, submitJob } from './support/system.js';

// API nodes across a Redis that restarts without its data: they keep agreeing on viewer tokens
// (the shared secret is re-read, and put back by whoever notices it gone), and what they log
// during the outage is JSON lines, never a raw stack trace.
describe('API nodes across a Redis restart without persistence', () => {
  let server: RedisServerHandle;
  const procs: NodeProcess[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await server.stop();
  });
  const api = async () => {
    const p = await startApiProcess({ REDIS_URL: server.url, KEY_PREFIX: 'restart' });
    procs.push(p);
    return p;
  };
  const submit = async (url: string) => {
    const { status, json } = await submitJob(url, { max_tokens: 10, messages: [{ role: 'user', content: simPrompt({ tokens: 2 }) }] });
    expect(status).toBe(202);
    return { id: String(json['id']), token: String(json['viewer_token']) };
  };
  const readsWith = async (url: string, job: { id: string; token: string }) =>
    (await fetch(`${url}/v1/jobs/${job.id}?token=${encodeURIComponent(job.token)}`)).status;

  it('a node that ran through the restart and a node started after it accept each other\'s viewer tokens', async () => {
    const a = await api();
    await server.kill();
    // A few seconds down: the nodes reconnect in a loop meanwhile.
    await new Promise((r) => setTimeout(r, 2500));
    await server.restart();
    const b = await api();
    // The nodes agree again within the re-read interval (5 s).
    await eventually(async () => {
      const fromA = await submit(a.url);
      const fromB = await submit(b.url);
      return (await readsWith(b.url, fromA)) === 200 && (await readsWith(a.url, fromB)) === 200 ? true : undefined;
    }, 15_000, 'tokens accepted on both nodes');
    // And from then on, every token works on both.
    const fromA = await submit(a.url);
    expect(await readsWith(b.url, fromA)).toBe(200);

    // Everything either node printed, outage included, is one JSON object per line.
    for (const p of [a, b]) {
      const lines = p.output().split('\n').filter((l) => l.trim() !== '');
      const notJson = lines.filter((l) => {
        try {
          return typeof JSON.parse(l) !== 'object';
        } catch {
          return true;
        }
      });
      expect(notJson).toEqual([]);
    }
    expect(a.output()).toMatch(/queue connection error|redis connection error/);
  }, 60_000);
});
