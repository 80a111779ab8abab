import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { checkContiguous, readSse, viewerText, type SseEvent } from './support/sse.js';
import { jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// Redis with AOF, killed with SIGKILL and restarted twice while thirty jobs stream to sixty viewers:
// every job ends once, and every viewer, whether it stayed connected or left and resumed with
// Last-Event-ID, has ids 1..N and exactly the text the upstream sent in the job's last attempt.
// What Redis had run when it died is in the AOF; what ioredis sends again after the reconnect
// applies once (the replay guard).
describe('Redis killed and restarted with AOF in the middle of many streams', () => {
  let server: RedisServerHandle;
  let sys: TestSystem;
  beforeAll(async () => {
    server = await startRedisServer({ appendonly: true });
    // A lock longer than the outages, as in production (15 s): attempts are not handed on meanwhile.
    sys = await startSystem({ name: 'aof-kill', workers: 2, env: { REDIS_URL: server.url, LOCK_DURATION_MS: '10000' } });
  });
  afterAll(async () => {
    await sys.close();
    await server.stop();
  });

  it('loses nothing and repeats nothing', async () => {
    const jobs = 30;
    const words = (j: number) => Array.from({ length: 120 }, (_, i) => `${i === 0 ? '' : ' '}j${j}w${i}`).join('');
    const submitted = await Promise.all(
      Array.from({ length: jobs }, async (_, j) => {
        const { status, json } = await submitJob(sys.url, {
          max_tokens: 1000,
          messages: [{ role: 'user', content: simPrompt({ text: words(j), tps: 30, tag: `aof-${j}` }) }],
        });
        expect(status).toBe(202);
        return { j, id: String(json['id']) };
      }),
    );
    // Per job: a viewer that stays, and one that leaves after five events and comes back later.
    const staying = submitted.map(({ id }) => readSse(`${sys.url}/v1/jobs/${id}/events`));
    const firstParts = await Promise.all(submitted.map(({ id }) => readSse(`${sys.url}/v1/jobs/${id}/events`, { stopAfter: 5 })));

    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await pause(800);
    await server.kill();
    await pause(700);
    await server.restart();
    await pause(1200);
    await server.kill();
    await pause(400);
    await server.restart();

    const resumed = await Promise.all(
      submitted.map(({ id }, i) =>
        readSse(`${sys.url}/v1/jobs/${id}/events`, { headers: { 'last-event-id': String(firstParts[i]?.events.at(-1)?.id) } }),
      ),
    );
    const stayed = await Promise.all(staying);
    for (const { j, id } of submitted) {
      const record = await jobEnded(sys.url, id);
      const requests = sys.sim.requests.filter((r) => r.tag === `aof-${j}`);
      const upstream = requests.at(-1)?.textSent;
      expect(record['status']).toBe('completed');
      expect(record['text']).toBe(upstream);
      const joined: SseEvent[] = [...(firstParts[j]?.events ?? []), ...(resumed[j]?.events ?? [])];
      for (const events of [stayed[j]?.events ?? [], joined]) {
        checkContiguous(events);
        expect(events.filter((e) => e.event === 'done')).toHaveLength(1);
        expect(events.at(-1)?.event).toBe('done');
        expect(viewerText(events)).toBe(upstream);
      }
    }
  }, 120_000);
});
