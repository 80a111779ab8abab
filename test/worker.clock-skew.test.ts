import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/shared/logger.js';
import { createWorker } from '../src/worker/create-worker.js';
import { createUpstreamClient } from '../src/worker/upstream-client.js';
import { clockOffsetArgs, startWorkerProcess, type NodeProcess } from './support/processes.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// Deadlines are stamped and compared on one clock, Redis's. A worker whose host clock runs a minute
// ahead (a preload shifts its Date) neither ends other workers' jobs early from its reaper nor its
// own jobs at start.
describe('a worker whose clock runs ahead', () => {
  let sys: TestSystem;
  let skewed: NodeProcess | undefined;
  beforeAll(async () => {
    sys = await startSystem({ name: 'clock-skew', workers: 0 });
  });
  afterAll(async () => {
    await skewed?.stop('SIGKILL');
    await sys.close();
  });
  const submit = async (maxDurationMs: number, behaviour: Record<string, unknown>) => {
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      max_duration_ms: maxDurationMs,
      messages: [{ role: 'user', content: simPrompt(behaviour) }],
    });
    return String(json['id']);
  };

  it("its reaper leaves another worker's job alone until the job's real deadline", async () => {
    const onTime = await createWorker({
      config: sys.config,
      logger: createLogger('silent', 'test'),
      client: createUpstreamClient({ apiKey: 'test-key', baseUrl: sys.sim.url }),
    });
    try {
      // Three seconds of streaming, a deadline of thirty, on the worker whose clock is right.
      const id = await submit(30_000, { tokens: 60, tps: 20, tag: 'other-worker' });
      await eventually(async () => ((await getRecord(sys.url, id))['status'] === 'running' ? true : undefined));
      skewed = await startWorkerProcess(
        {
          REDIS_URL: sys.config.redisUrl,
          KEY_PREFIX: sys.config.keyPrefix,
          ANTHROPIC_BASE_URL: sys.sim.url,
          ANTHROPIC_API_KEY: 'test-key',
          REAPER_INTERVAL_MS: '100',
          CLOCK_OFFSET_MS: '60000',
        },
        clockOffsetArgs(),
      );
      const record = await jobEnded(sys.url, id);
      expect(record).toMatchObject({ status: 'completed', error: null });
      expect(String(record['worker'])).not.toContain(`:${skewed.pid}:`);
    } finally {
      await onTime.close(1000);
    }
  });

  it('its own jobs run until their deadline, not a minute less', async () => {
    if (skewed === undefined) throw new Error('the skewed worker runs from the test before');
    // The only worker left is the skewed one.
    const id = await submit(1500, { tokens: 400, tps: 20, tag: 'own-job' });
    const record = await jobEnded(sys.url, id);
    expect(record).toMatchObject({ status: 'timed_out', error: { type: 'timed_out' } });
    expect(String(record['worker'])).toContain(`:${skewed.pid}:`);
    // Both stamps come from the Redis clock: the job ended at its deadline, not before.
    expect(Date.parse(String(record['finished_at']))).toBeGreaterThanOrEqual(Date.parse(String(record['deadline_at'])));
    expect(String(record['text']).length).toBeGreaterThan(0);
  });
});
