import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { startWorkerProcess, type NodeProcess } from './support/processes.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { eventually, getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

describe('max_duration_ms', () => {
  let sys: TestSystem;
  let sim: Simulator;
  const procs: NodeProcess[] = [];
  beforeAll(async () => {
    sim = await startSimulator();
    // The API lives in this process; the workers are OS processes so one can be frozen.
    sys = await startSystem({ name: 'max-duration', workers: 0, sim, env: { MAX_DURATION_MS: '60000' } });
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await sys.close();
    await sim.close();
  });

  const workerEnv = () => ({
    REDIS_URL: sys.config.redisUrl,
    KEY_PREFIX: sys.config.keyPrefix,
    ANTHROPIC_BASE_URL: sim.url,
    ANTHROPIC_API_KEY: 'test-key',
    // Long enough that BullMQ's stalled check does not hand the frozen worker's job to another worker
    // within the test: the reaper is what must end it.
    LOCK_DURATION_MS: '60000',
    REAPER_INTERVAL_MS: '100',
  });

  it('a slow stream ends timed_out at its deadline with the partial text kept', async () => {
    const w = await startWorkerProcess(workerEnv());
    procs.push(w);
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      max_duration_ms: 700,
      messages: [{ role: 'user', content: simPrompt({ tokens: 300, tps: 30, tag: 'slow' }) }],
    });
    const id = String(json['id']);
    const view = await readSse(`${sys.url}/v1/jobs/${id}/events`);
    checkContiguous(view.events);
    const done = JSON.parse(view.events.at(-1)?.data ?? '{}') as Record<string, unknown>;
    expect(done['status']).toBe('timed_out');
    const record = await getRecord(sys.url, id);
    expect(record).toMatchObject({ status: 'timed_out', partial: true });
    expect(record['error']).toMatchObject({ type: 'timed_out' });
    expect(String(record['text']).length).toBeGreaterThan(0);
    expect(record['text']).toBe(viewerText(view.events));
    // The deadline is counted from the first start.
    expect(Date.parse(String(record['deadline_at'])) - Date.parse(String(record['started_at']))).toBe(700);
    await eventually(async () => (sim.requests.find((r) => r.tag === 'slow')?.outcome === 'client_closed' ? true : undefined));
    await w.stop();
  });

  it('the reaper in another worker ends a job whose worker is frozen (SIGSTOP)', async () => {
    const frozen = await startWorkerProcess(workerEnv());
    procs.push(frozen);
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      max_duration_ms: 1500,
      messages: [{ role: 'user', content: simPrompt({ tokens: 300, tps: 20, tag: 'frozen' }) }],
    });
    const id = String(json['id']);
    await eventually(async () => {
      const r = await getRecord(sys.url, id);
      return String(r['text']).length > 0 ? r : undefined;
    });
    expect(String((await getRecord(sys.url, id))['worker'])).toContain(`:${frozen.pid}:`);
    process.kill(frozen.pid, 'SIGSTOP');
    try {
      const reaper = await startWorkerProcess(workerEnv());
      procs.push(reaper);
      const view = await readSse(`${sys.url}/v1/jobs/${id}/events`);
      const record = await getRecord(sys.url, id);
      expect(record['status']).toBe('timed_out');
      expect(record['error']).toMatchObject({ message: expect.stringMatching(/reaper/) });
      expect(view.events.filter((e) => e.event === 'done')).toHaveLength(1);
      expect(record['text']).toBe(viewerText(view.events));
      // The reaper did not run the job itself.
      expect(sim.requests.filter((r) => r.tag === 'frozen')).toHaveLength(1);
      // Thawed, the frozen worker's deadline timer fires and its writes are refused: still one done.
      process.kill(frozen.pid, 'SIGCONT');
      await new Promise((r) => setTimeout(r, 500));
      const after = await readSse(`${sys.url}/v1/jobs/${id}/events`);
      expect(after.events).toEqual(view.events);
      expect(await getRecord(sys.url, id)).toMatchObject({ status: 'timed_out', text: record['text'] });
    } finally {
      process.kill(frozen.pid, 'SIGCONT');
    }
  });
});
