import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

// Redis refusing the worker's writes mid-stream (OOM under noeviction, made with CONFIG SET maxmemory
// on a private server), or holding them (CLIENT PAUSE WRITE): what the upstream sent still reaches the
// record and every viewer exactly once. Refused long enough, the attempt gives up as a retryable
// failure, the record says why, and the next attempt delivers the whole text.
describe('writes that Redis refuses or holds', () => {
  let server: RedisServerHandle;
  let admin: Redis;
  let sys: TestSystem;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    // A lock that outlives the outages below, so BullMQ never hands the job to a second attempt.
    sys = await startSystem({ name: 'refused', env: { REDIS_URL: server.url, REDIS_RETRY_MS: '1500', LOCK_DURATION_MS: '10000' } });
  });
  afterAll(async () => {
    await sys.close();
    await admin.quit();
    await server.stop();
  });

  const streaming = async (text: string, tag: string) => {
    const { json } = await submitJob(sys.url, { max_tokens: 1000, messages: [{ role: 'user', content: simPrompt({ text, tps: 30, tag }) }] });
    const id = String(json['id']);
    const viewing = readSse(`${sys.url}/v1/jobs/${id}/events`);
    await eventually(async () => (String((await getRecord(sys.url, id))['text']).length > 20 ? true : undefined));
    return { id, viewing };
  };
  const during = async (ms: number, on: () => Promise<unknown>, off: () => Promise<unknown>) => {
    await on();
    try {
      await new Promise((r) => setTimeout(r, ms));
    } finally {
      await off();
    }
  };
  const oom = (ms: number) => during(ms, () => admin.config('SET', 'maxmemory', '1'), () => admin.config('SET', 'maxmemory', '0'));

  it('a batch refused with OOM is written when Redis takes writes again: completed, nothing missing, nothing twice', async () => {
    const text = words(60, 'o');
    const { id, viewing } = await streaming(text, 'oom-short');
    await oom(600);
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'completed', attempt: 1, partial: false, text });
    const view = await viewing;
    checkContiguous(view.events);
    expect(viewerText(view.events)).toBe(text);
    expect(sys.sim.requests.filter((r) => r.tag === 'oom-short')).toHaveLength(1);
  });

  it('refused past REDIS_RETRY_MS, the attempt fails as retryable, the reset says why, the next attempt has it all', async () => {
    const text = words(60, 'g');
    const { id, viewing } = await streaming(text, 'oom-long');
    await oom(2500);
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'completed', attempt: 2, partial: false, text });
    const view = await viewing;
    checkContiguous(view.events);
    const resets = view.events.filter((e) => e.event === 'reset');
    expect(resets).toHaveLength(1);
    expect(JSON.parse(resets[0]?.data ?? '{}')).toMatchObject({ attempt: 2, reason: expect.stringMatching(/^store_unavailable: .*OOM/) });
    expect(viewerText(view.events)).toBe(text);
    expect(sys.sim.requests.filter((r) => r.tag === 'oom-long').map((r) => r.outcome)).toEqual(['client_closed', 'completed']);
  });

  it('a job that times out while Redis refuses writes past REDIS_RETRY_MS still ends with what it streamed', async () => {
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      max_duration_ms: 1500,
      messages: [{ role: 'user', content: simPrompt({ tokens: 400, tps: 30, tag: 'oom-deadline' }) }],
    });
    const id = String(json['id']);
    const viewing = readSse(`${sys.url}/v1/jobs/${id}/events`);
    await eventually(async () => (String((await getRecord(sys.url, id))['text']).length > 0 ? true : undefined));
    const before = String((await getRecord(sys.url, id))['text']);
    // Refused from before the deadline (1.5 s) until past the final flush's budget (REDIS_RETRY_MS,
    // 1.5 s from the first refusal), but within the ending's: the last output goes with the ending.
    await oom(2500);
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'timed_out', attempt: 1 });
    const text = String(record['text']);
    expect(text.startsWith(before)).toBe(true);
    expect(text.length).toBeGreaterThan(before.length);
    const sent = sys.sim.requests.find((r) => r.tag === 'oom-deadline')?.textSent ?? '';
    expect(sent.startsWith(text)).toBe(true);
    const view = await viewing;
    checkContiguous(view.events);
    expect(viewerText(view.events)).toBe(text);
  });

  it('writes held by CLIENT PAUSE WRITE land when it ends, in order, once', async () => {
    const text = words(60, 'p');
    const { id, viewing } = await streaming(text, 'paused');
    await admin.client('PAUSE', '800', 'WRITE');
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'completed', attempt: 1, text });
    const view = await viewing;
    checkContiguous(view.events);
    expect(viewerText(view.events)).toBe(text);
  });
});
