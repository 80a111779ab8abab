import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, backendNames } from './support/redis.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { startWorkerProcess, type NodeProcess } from './support/processes.js';
import { checkContiguous, readSse, viewerText, type SseEvent } from './support/sse.js';
import { eventually, getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// A worker process killed with SIGKILL mid-stream: another worker takes the job up as the next
// attempt, viewers get `reset` then the whole text, the job ends once, and what the dead attempt
// streamed is still in the log.
describe.each(backendNames)('crash recovery, on %s', (on) => {
  let sys: TestSystem;
  let sim: Simulator;
  const procs: NodeProcess[] = [];
  beforeAll(async () => {
    sim = await startSimulator();
    sys = await startSystem({ name: 'crash', workers: 0, sim, env: { ...backend(on).env } });
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await sys.close();
    await sim.close();
  });

  it('SIGKILL mid-stream: the job completes on another worker and viewers see reset', async () => {
    const env = {
      ...backend(on).env,
      KEY_PREFIX: sys.config.keyPrefix,
      ANTHROPIC_BASE_URL: sim.url,
      ANTHROPIC_API_KEY: 'test-key',
      LOCK_DURATION_MS: '2000',
    };
    const pair = await Promise.all([startWorkerProcess(env), startWorkerProcess(env)]);
    procs.push(...pair);
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ tokens: 120, tps: 40, tag: 'crash' }) }],
    });
    const id = String(json['id']);
    const seen: SseEvent[] = [];
    const viewing = readSse(`${sys.url}/v1/jobs/${id}/events`, { onEvent: (e) => seen.push(e) });
    await eventually(async () => (viewerText(seen).length > 30 ? true : undefined), 20_000, 'first attempt output');
    // Kill whichever of the two took the job.
    const runningOn = String((await getRecord(sys.url, id))['worker']);
    const doomed = pair.find((p) => runningOn.includes(`:${p.pid}:`));
    const survivor = pair.find((p) => p !== doomed);
    if (doomed === undefined || survivor === undefined) throw new Error(`job runs on ${runningOn}, not ours`);
    await doomed.stop('SIGKILL');
    const partialBeforeCrash = viewerText(seen);

    const view = await viewing;
    checkContiguous(view.events);
    const types = view.events.map((e) => e.event);
    expect(types.filter((t) => t === 'reset')).toHaveLength(1);
    expect(types.filter((t) => t === 'done')).toHaveLength(1);
    expect(types.at(-1)).toBe('done');
    const reset = view.events.find((e) => e.event === 'reset');
    expect(JSON.parse(reset?.data ?? '{}')).toMatchObject({ attempt: 2 });
    // Before the reset: the dead attempt's deltas, still in the log.
    const beforeReset = view.events.slice(0, types.indexOf('reset'));
    expect(viewerText(beforeReset).startsWith(partialBeforeCrash)).toBe(true);
    const record = await getRecord(sys.url, id);
    expect(record).toMatchObject({ status: 'completed', attempt: 2, partial: false });
    expect(String(record['worker'])).toContain(`:${survivor.pid}:`);
    expect(record['text']).toBe(viewerText(view.events));
    // Same request, same deterministic upstream text: the second attempt's text is the whole text.
    expect(String(record['text']).startsWith(partialBeforeCrash)).toBe(true);
    expect(sim.requests.filter((r) => r.tag === 'crash')).toHaveLength(2);
  });
});
