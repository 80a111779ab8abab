import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// `GET /v1/jobs/{id}?wait=N` (or `Prefer: wait=N`): 200 with the record as soon as the job has ended,
// else 202 with the record so far after N seconds. Waiters are woken through the process's shared
// subscriber: a thousand of them cost the Redis commands of one.
describe('waiting for a result', () => {
  let server: RedisServerHandle;
  let admin: Redis;
  let sys: TestSystem;
  beforeAll(async () => {
    // A private Redis, so the commands counted are this test's.
    server = await startRedisServer();
    admin = new Redis(server.url);
    sys = await startSystem({ name: 'wait', workers: 1, env: { REDIS_URL: server.url } });
  });
  afterAll(async () => {
    await sys.close();
    await admin.quit();
    await server.stop();
  });
  const submit = async (behaviour: Record<string, unknown>) => {
    const { json } = await submitJob(sys.url, { max_tokens: 1000, messages: [{ role: 'user', content: simPrompt(behaviour) }] });
    return String(json['id']);
  };
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const started = Date.now();
    const res = await fetch(`${sys.url}${path}`, { headers });
    return { res, body: (await res.json()) as Record<string, unknown>, ms: Date.now() - started };
  };

  it('a job already ended: 200 at once', async () => {
    const id = await submit({ tokens: 3 });
    await jobEnded(sys.url, id);
    const { res, body } = await get(`/v1/jobs/${id}?wait=30`);
    expect(res.status).toBe(200);
    expect(body['status']).toBe('completed');
  });

  it('a job that ends during the wait: 200 with the final record as it ends, not at the timeout', async () => {
    const id = await submit({ tokens: 30, tps: 30 });
    const { res, body, ms } = await get(`/v1/jobs/${id}?wait=30`);
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'completed', partial: false });
    expect(String(body['text']).split(' ')).toHaveLength(30);
    expect(ms).toBeLessThan(30_000);
  });

  it('a job still running when the time is up: 202 with the record so far and Location', async () => {
    const id = await submit({ tokens: 300, tps: 20 });
    const { res, body } = await get(`/v1/jobs/${id}?wait=1`);
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/v1/jobs/${id}`);
    expect(['queued', 'running']).toContain(body['status']);
    await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
  });

  it('Prefer: wait=N works the same and says it was applied', async () => {
    const id = await submit({ tokens: 300, tps: 20 });
    const { res } = await get(`/v1/jobs/${id}`, { prefer: 'respond-async, wait=1' });
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBe('wait=1');
    const cancelled = await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBeLessThan(300);
    const after = await get(`/v1/jobs/${id}`, { prefer: 'wait=10' });
    expect(after.res.status).toBe(200);
    expect(after.body['status']).toBe('cancelled');
  });

  it('a bad wait is a 400 naming it; an unknown job a 404', async () => {
    const id = await submit({ tokens: 2 });
    for (const [query, path] of [['wait=61', 'query:wait'], ['wait=abc', 'query:wait'], ['wait=1.5', 'query:wait']] as const) {
      const { res, body } = await get(`/v1/jobs/${id}?${query}`);
      expect(res.status).toBe(400);
      expect((body['errors'] as { path: string }[])[0]?.path).toBe(path);
    }
    // A preference is a hint: a longer one is capped and says so.
    const capped = await get(`/v1/jobs/${id}`, { prefer: 'wait=99' });
    expect(capped.res.status).toBe(200);
    expect(capped.res.headers.get('preference-applied')).toBe('wait=60');
    // Many waiters on a job that does not exist all get the 404 at once, not only the first.
    const many = await Promise.all(Array.from({ length: 20 }, () => get('/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAB?wait=30')));
    expect(many.map((m) => m.res.status)).toEqual(Array(20).fill(404));
    expect(Math.max(...many.map((m) => m.ms))).toBeLessThan(30_000);
    expect((await get('/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA?wait=1')).res.status).toBe(404);
  });

  it('a thousand waiters on one job cost no more Redis commands than one', async () => {
    const commandsFor = async (waiters: number) => {
      // No worker takes it (it is cancelled while queued): only the waits and the cancel touch Redis.
      await sys.workers[0]?.close(1000);
      sys.workers.length = 0;
      const id = await submit({ tokens: 2 });
      const before = Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))?.[1]);
      const waits = Array.from({ length: waiters }, () => fetch(`${sys.url}/v1/jobs/${id}?wait=20`).then(async (r) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> })));
      // Every waiter is in before the job ends.
      await new Promise((r) => setTimeout(r, 1500));
      await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
      const answers = await Promise.all(waits);
      const after = Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))?.[1]);
      expect(answers.every((a) => a.status === 200 && a.body['status'] === 'cancelled')).toBe(true);
      // INFO itself counts once.
      return after - before - 1;
    };
    const one = await commandsFor(1);
    const thousand = await commandsFor(1000);
    console.log(`redis commands: 1 waiter ${one}, 1000 waiters ${thousand}`);
    // A few commands of the API's own timers (the secret re-read, presence) may fall in either window.
    expect(thousand).toBeLessThanOrEqual(one + 6);
  }, 60_000);
});
