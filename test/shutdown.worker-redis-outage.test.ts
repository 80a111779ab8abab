import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/shared/logger.js';
import { createUpstreamClient } from '../src/worker/upstream-client.js';
import { createWorker, disconnectLimitMs, handBackLimitMs } from '../src/worker/create-worker.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

// A worker asked to stop while Redis is away (stopped with SIGSTOP: its sockets stay open and answer
// nothing; or killed: ioredis reconnects and queues the commands) does not wait for Redis without end:
// after SHUTDOWN_TIMEOUT_MS it aborts its attempts, gives their hand-back handBackLimitMs, then drops
// its connections and ends, rejecting with why. Once Redis is back, another worker takes the job when
// its lock expires (as after a crash) and the job ends once, with exactly the text of its last attempt.
// With WEBHOOK_SECRET set, so the worker's webhook deliveries (their own BullMQ worker) stop in time too.
const webhookSecret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

describe('worker shutdown while Redis is away', () => {
  let server: RedisServerHandle | undefined;
  let sys: TestSystem | undefined;
  afterEach(async () => {
    if (server !== undefined) process.kill(server.pid, 'SIGCONT');
    await sys?.close();
    await server?.stop();
    sys = undefined;
    server = undefined;
  });

  for (const outage of ['stopped', 'killed'] as const) {
    it(`ends within its bound when Redis is ${outage}, and another worker recovers the job`, async () => {
      server = await startRedisServer({ appendonly: true });
      const s = await startSystem({ name: `outage-${outage}`, env: { REDIS_URL: server.url, LOCK_DURATION_MS: '2000', WEBHOOK_SECRET: webhookSecret } });
      sys = s;
      const tag = `outage-${outage}`;
      const { json } = await submitJob(s.url, {
        max_tokens: 1000,
        messages: [{ role: 'user', content: simPrompt({ text: words(60, 'o'), tps: 20, tag }) }],
      });
      const id = String(json['id']);
      await eventually(async () => ((await getRecord(s.url, id))['text'] as string).length > 0 || undefined, 20_000, 'text streaming');

      if (outage === 'stopped') process.kill(server.pid, 'SIGSTOP');
      else await server.kill();
      const [first] = s.workers.splice(0, 1);
      const timeoutMs = 300;
      const startedAt = Date.now();
      const closed = await first?.close(timeoutMs).then(
        () => undefined,
        (err: unknown) => err,
      );
      const tookMs = Date.now() - startedAt;
      // Still away: the close ended without Redis, and says why it could not hand the job back.
      expect(closed).toBeInstanceOf(AggregateError);
      expect((closed as AggregateError).message).toMatch(/hand-back limit/);
      console.log(`close() with Redis ${outage}: ${tookMs} ms (bound ${timeoutMs + handBackLimitMs + disconnectLimitMs} ms)`);

      if (outage === 'stopped') process.kill(server.pid, 'SIGCONT');
      else await server.restart();
      const logger = createLogger('silent', 'test');
      s.workers.push(await createWorker({ config: s.config, logger, client: createUpstreamClient({ apiKey: 'k', baseUrl: s.sim.url }) }));

      const record = await jobEnded(s.url, id, 60_000);
      const upstream = s.sim.requests.filter((r) => r.tag === tag).at(-1)?.textSent;
      expect(record).toMatchObject({ status: 'completed', text: upstream, partial: false });
      const { events } = await readSse(`${s.url}/v1/jobs/${id}/events`);
      checkContiguous(events);
      expect(events.filter((e) => e.event === 'done')).toHaveLength(1);
      expect(viewerText(events)).toBe(upstream);
    }, 90_000);
  }
});
