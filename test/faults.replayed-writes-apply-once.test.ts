import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScripts, scripts } from '../src/shared/scripts.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { redisUrl } from './support/redis.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

// ioredis sends a command again after a reconnect when its reply never came. The proxy makes exactly
// that happen to one job script: Redis runs it, the connection is cut before the reply gets through,
// ioredis reconnects and sends it again. Each script must apply once and answer as it did the first
// time: no text twice, no attempt counted twice, no retry lost.
describe('a job script that Redis ran but whose reply was lost', () => {
  let proxy: FaultProxy;
  let sys: TestSystem;
  beforeAll(async () => {
    proxy = await startFaultProxy(redisUrl());
    sys = await startSystem({ name: 'replay', env: { REDIS_URL: proxy.url, JOB_ATTEMPTS: '3' } });
    // Cached, so the armed EVALSHA runs (a NOSCRIPT answer would run nothing, and prove nothing).
    await loadScripts(sys.redis);
  });
  afterAll(async () => {
    await sys.close();
    await proxy.close();
  });

  const submit = async (behaviour: Record<string, unknown>) => {
    const { status, json } = await submitJob(sys.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt(behaviour) }],
    });
    expect(status).toBe(202);
    return String(json['id']);
  };
  const lifecycle = (events: { event: string; data: string }[]) =>
    events
      .filter((e) => e.event === 'status' || e.event === 'reset')
      .map((e) => {
        const d = JSON.parse(e.data) as { status?: string; attempt: number };
        return `${d.status ?? e.event}:${d.attempt}`;
      });

  it('an append sent twice appends once: viewers and the record have the upstream text exactly', async () => {
    const text = words(40, 'a');
    const id = await submit({ text, tps: 40, tag: 'replay-append' });
    const viewing = readSse(`${sys.url}/v1/jobs/${id}/events`);
    await eventually(async () => (String((await getRecord(sys.url, id))['text']).length > 0 ? true : undefined));
    await proxy.dropReplyTo([scripts.append.sha, id]);
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'completed', attempt: 1, text, partial: false });
    const view = await viewing;
    checkContiguous(view.events);
    expect(viewerText(view.events)).toBe(text);
    // A viewer arriving afterwards reads the same log.
    expect(viewerText((await readSse(`${sys.url}/v1/jobs/${id}/events`)).events)).toBe(text);
    expect(sys.sim.requests.filter((r) => r.tag === 'replay-append')).toHaveLength(1);
  });

  it('an append-many sent twice (the worker batching several jobs) appends once for every job in it', async () => {
    // Armed first: the first call carrying several jobs' appends loses its reply.
    const firstMany = proxy.dropReplyTo([scripts.appendMany.sha]);
    const texts = Array.from({ length: 6 }, (_, i) => words(60, `m${i}`));
    const ids = await Promise.all(texts.map((text, i) => submit({ text, tps: 300, tag: `replay-many-${i}` })));
    const views = ids.map((id) => readSse(`${sys.url}/v1/jobs/${id}/events`));
    await firstMany;
    for (const [i, id] of ids.entries()) {
      const record = await jobEnded(sys.url, id);
      expect(record).toMatchObject({ status: 'completed', attempt: 1, text: texts[i], partial: false });
      const view = await views[i];
      checkContiguous(view?.events ?? []);
      expect(viewerText(view?.events ?? [])).toBe(texts[i]);
      expect(sys.sim.requests.filter((r) => r.tag === `replay-many-${i}`)).toHaveLength(1);
    }
  });

  it('a start sent twice starts one attempt', async () => {
    const text = words(10, 's');
    // Armed before the job exists: the first start.lua call that names it loses its reply.
    const firstStart = proxy.dropReplyTo([scripts.start.sha]);
    const id = await submit({ text, tps: 100, tag: 'replay-start' });
    await firstStart;
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'completed', attempt: 1, text });
    const view = await readSse(`${sys.url}/v1/jobs/${id}/events`);
    checkContiguous(view.events);
    expect(lifecycle(view.events)).toEqual(['queued:0', 'running:1']);
    expect(sys.sim.requests.filter((r) => r.tag === 'replay-start')).toHaveLength(1);
  });

  it('a requeue sent twice still leads to the retry: the job completes on attempt 2', async () => {
    const text = words(10, 'q');
    const firstRequeue = proxy.dropReplyTo([scripts.requeue.sha]);
    const id = await submit({ text, tps: 100, tag: 'replay-requeue', fault: 'http_529', fault_times: 1 });
    await firstRequeue;
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'completed', attempt: 2, text, error: null });
    const view = await readSse(`${sys.url}/v1/jobs/${id}/events`);
    checkContiguous(view.events);
    expect(lifecycle(view.events)).toEqual(['queued:0', 'running:1', 'queued:1', 'running:2']);
    expect(sys.sim.requests.filter((r) => r.tag === 'replay-requeue')).toHaveLength(2);
  });

  it('a finish sent twice ends the job once', async () => {
    const text = words(10, 'f');
    const firstFinish = proxy.dropReplyTo([scripts.finish.sha]);
    const id = await submit({ text, tps: 100, tag: 'replay-finish' });
    await firstFinish;
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'completed', attempt: 1, text });
    const view = await readSse(`${sys.url}/v1/jobs/${id}/events`);
    checkContiguous(view.events);
    expect(view.events.filter((e) => e.event === 'done')).toHaveLength(1);
  });

  it('a create sent twice makes one job and answers 202', async () => {
    const before = proxy.dropped;
    const firstCreate = proxy.dropReplyTo([scripts.create.sha]);
    const id = await submit({ text: 'once', tag: 'replay-create' });
    await firstCreate;
    expect(proxy.dropped).toBe(before + 1);
    expect(await jobEnded(sys.url, id)).toMatchObject({ status: 'completed', text: 'once' });
  });
});
