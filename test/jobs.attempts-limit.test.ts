import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/shared/logger.js';
import { jobKeys } from '../src/shared/keys.js';
import { createWorker } from '../src/worker/create-worker.js';
import { createUpstreamClient } from '../src/worker/upstream-client.js';
import { startWorkerProcess, type NodeProcess } from './support/processes.js';
import { checkContiguous, readSse } from './support/sse.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// One count of attempts, on the record: a crashed attempt counts when the next one starts, and a
// start past JOB_ATTEMPTS ends the job `failed` instead of running it again. When BullMQ gives up on
// a job by itself, the record ends too, instead of staying `running` until its deadline.
describe('the attempt limit', () => {
  let sys: TestSystem;
  const procs: NodeProcess[] = [];
  beforeAll(async () => {
    sys = await startSystem({ name: 'attempts', workers: 0, env: { JOB_ATTEMPTS: '2', LOCK_DURATION_MS: '1000' } });
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await sys.close();
  });
  const workerEnv = () => ({
    REDIS_URL: sys.config.redisUrl,
    KEY_PREFIX: sys.config.keyPrefix,
    ANTHROPIC_BASE_URL: sys.sim.url,
    ANTHROPIC_API_KEY: 'test-key',
    JOB_ATTEMPTS: '2',
    LOCK_DURATION_MS: '1000',
  });

  it('a crash loop gets JOB_ATTEMPTS attempts, then ends failed with the reason', async () => {
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ tokens: 400, tps: 20, tag: 'crash-loop' }) }],
    });
    const id = String(json['id']);
    for (let crash = 1; crash <= 2; crash += 1) {
      const w = await startWorkerProcess(workerEnv());
      procs.push(w);
      await eventually(async () => {
        const r = await getRecord(sys.url, id);
        return r['status'] === 'running' && String(r['worker']).includes(`:${w.pid}:`) && String(r['text']).length > 0 ? true : undefined;
      }, 30_000, `attempt ${crash} streaming`);
      await w.stop('SIGKILL');
    }
    // The third worker finds the limit used up and does not call the upstream again.
    const last = await startWorkerProcess(workerEnv());
    procs.push(last);
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'failed', attempt: 2, partial: true });
    expect(record['error']).toMatchObject({ type: 'attempts_exhausted', message: expect.stringMatching(/all 2 attempts used/) });
    expect(sys.sim.requests.filter((r) => r.tag === 'crash-loop')).toHaveLength(2);
    const view = await readSse(`${sys.url}/v1/jobs/${id}/events`);
    checkContiguous(view.events);
    expect(view.events.filter((e) => e.event === 'done')).toHaveLength(1);
    expect(JSON.parse(view.events.at(-1)?.data ?? '{}')).toMatchObject({ status: 'failed' });
    // No worker is left for the next test's job until it has prepared it.
    await last.stop();
  }, 90_000);

  it('when BullMQ fails a job by itself (a processor error on its last try), the record ends failed at once', async () => {
    const { json } = await submitJob(sys.url, { max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ tag: 'queue-fails' }) }] });
    const id = String(json['id']);
    // Parameters that the processor cannot parse: every try throws before the upstream is called.
    await sys.redis.hset(jobKeys(sys.config.keyPrefix, id).record, 'params', '{not json');
    const worker = await createWorker({
      config: sys.config,
      logger: createLogger('silent', 'test'),
      client: createUpstreamClient({ apiKey: 'test-key', baseUrl: sys.sim.url }),
    });
    try {
      const record = await jobEnded(sys.url, id, 20_000);
      expect(record).toMatchObject({ status: 'failed' });
      expect(record['error']).toMatchObject({ type: 'queue_failed', message: expect.stringMatching(/JSON/) });
      expect(sys.sim.requests.filter((r) => r.tag === 'queue-fails')).toHaveLength(0);
    } finally {
      await worker.close(1000);
    }
  });
});
