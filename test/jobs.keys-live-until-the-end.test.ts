import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKeys } from '../src/shared/keys.js';
import { loadScripts, scripts } from '../src/shared/scripts.js';
import { createLogger } from '../src/shared/logger.js';
import { createWorker } from '../src/worker/create-worker.js';
import { createUpstreamClient } from '../src/worker/upstream-client.js';
import { startFaultProxy } from './support/fault-proxy.js';
import { startApiProcess } from './support/processes.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// A job that has not ended keeps its keys however long it waits; RESULT_TTL_S counts from its end.
// A submission cut short by a dying API node leaves nothing that blocks its Idempotency-Key: the retry
// finishes the job's submission.
describe('job keys and submissions across waits and crashes', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'keys-live', workers: 0, env: { RESULT_TTL_S: '1' } });
  });
  afterAll(async () => {
    await sys.close();
  });
  const newWorker = () =>
    createWorker({
      config: sys.config,
      logger: createLogger('silent', 'test'),
      client: createUpstreamClient({ apiKey: 'test-key', baseUrl: sys.sim.url }),
    });

  it('a job queued longer than RESULT_TTL_S is kept, runs, and expires RESULT_TTL_S after it ends', async () => {
    const { status, json } = await submitJob(sys.url, { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ text: 'late but here' }) }] });
    expect(status).toBe(202);
    const id = String(json['id']);
    const keys = jobKeys(sys.config.keyPrefix, id);
    // No worker for more than twice RESULT_TTL_S.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await getRecord(sys.url, id)).toMatchObject({ status: 'queued' });
    expect(await sys.redis.ttl(keys.record)).toBe(-1);
    expect(await sys.redis.ttl(keys.log)).toBe(-1);
    const worker = await newWorker();
    try {
      expect(await jobEnded(sys.url, id)).toMatchObject({ status: 'completed', text: 'late but here' });
      expect(await sys.redis.ttl(keys.record)).toBeGreaterThan(0);
      await eventually(async () => ((await fetch(`${sys.url}/v1/jobs/${id}`)).status === 404 ? true : undefined), 5000, 'expiry');
    } finally {
      await worker.close(1000);
    }
  });

  it('an Idempotency-Key used again after its job expired makes a new job, which runs', async () => {
    const body = { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ text: 'again' }) }] };
    const key = `reused-${Math.random()}`;
    const worker = await newWorker();
    try {
      const first = await submitJob(sys.url, body, { 'idempotency-key': key });
      const id = String(first.json['id']);
      expect(await jobEnded(sys.url, id)).toMatchObject({ status: 'completed' });
      await eventually(async () => ((await fetch(`${sys.url}/v1/jobs/${id}`)).status === 404 ? true : undefined), 5000, 'expiry');
      // BullMQ still keeps the finished queue job (for an hour); the new record is queued afresh.
      const second = await submitJob(sys.url, body, { 'idempotency-key': key });
      expect(second.status).toBe(202);
      expect(await jobEnded(sys.url, String(second.json['id']), 10_000)).toMatchObject({ status: 'completed', text: 'again' });
    } finally {
      await worker.close(1000);
    }
  });

  it('an API node killed after creating the record but before queueing it: the retry with the same Idempotency-Key queues that job', async () => {
    const proxy = await startFaultProxy(sys.config.redisUrl);
    const doomed = await startApiProcess({
      REDIS_URL: proxy.url,
      KEY_PREFIX: sys.config.keyPrefix,
      RESULT_TTL_S: '1',
      ANTHROPIC_BASE_URL: sys.sim.url,
      ANTHROPIC_API_KEY: 'test-key',
    });
    try {
      await loadScripts(sys.redis);
      const body = { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ text: 'submitted once' }) }] };
      const key = `orphan-${Math.random()}`;
      // The record is made; the reply is lost; the node dies before it can queue the job.
      const cut = proxy.dropReplyTo([scripts.create.sha]);
      const lost = submitJob(doomed.url, body, { 'idempotency-key': key }).catch((err: unknown) => err);
      await cut;
      await doomed.stop('SIGKILL');
      expect(await lost).toBeInstanceOf(Error);

      const retry = await submitJob(sys.url, body, { 'idempotency-key': key });
      expect(retry.status).toBe(200);
      const id = String(retry.json['id']);
      const worker = await newWorker();
      try {
        expect(await jobEnded(sys.url, id)).toMatchObject({ status: 'completed', text: 'submitted once' });
      } finally {
        await worker.close(1000);
      }
      // Still the same job for the same key.
      expect((await submitJob(sys.url, body, { 'idempotency-key': key })).json['id']).toBe(id);
    } finally {
      await doomed.stop('SIGKILL');
      await proxy.close();
    }
  });
});
