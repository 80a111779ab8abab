import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { startNode, type NodeProcess } from './support/processes.js';
import { redisUrl, uniquePrefix } from './support/redis.js';
import { checkContiguous, readSse, viewerText, type SseRead } from './support/sse.js';
import { eventually, getRecord, simPrompt, submitJob, words } from './support/system.js';

// A worker process that gets SIGTERM stops taking jobs and lets its running attempts finish for up to
// SHUTDOWN_TIMEOUT_MS; what is still running then is handed back (another worker runs it as the next
// attempt, without failing the job); a second signal exits at once.
describe('worker shutdown', () => {
  let sim: Simulator;
  const procs: NodeProcess[] = [];

  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterEach(async () => {
    // Short fallback: a worker still draining a long job is SIGKILLed rather than waited for.
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGTERM', 3000)));
  });
  afterAll(async () => {
    await sim.close();
  });

  /** The environment of every process of one test: its own key prefix, so nothing leaks between tests. */
  const clusterEnv = (name: string) => ({
    REDIS_URL: redisUrl(),
    KEY_PREFIX: uniquePrefix(name),
    ANTHROPIC_BASE_URL: sim.url,
    ANTHROPIC_API_KEY: 'test-key',
  });
  // Tracked from the spawn on, not once ready: a process that never gets ready is still stopped.
  const api = async (env: Record<string, string>) => {
    const p = startNode('api/main.ts', { PORT: '0', ...env });
    procs.push(p);
    const line = await p.waitForLog((l) => l['msg'] === 'api listening');
    return Object.assign(p, { url: String(line['url']) });
  };
  const worker = async (env: Record<string, string>) => {
    const p = startNode('worker/main.ts', env);
    procs.push(p);
    await p.waitForLog((l) => l['msg'] === 'worker started');
    return p;
  };
  const submit = async (url: string, text: string, tps: number, tag: string) => {
    const { status, json } = await submitJob(url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ text, tps, tag }) }],
    });
    expect(status).toBe(202);
    return String(json['id']);
  };
  /** The pid in the record's `worker` (`host:pid:random`). */
  const pidOf = (record: Record<string, unknown>) => String(record['worker'] ?? '').split(':').at(-2);
  /** Polls the record until `ok` holds. */
  const recordWhen = (url: string, id: string, what: string, ok: (r: Record<string, unknown>) => boolean, timeoutMs = 20_000) =>
    eventually(async () => {
      const r = await getRecord(url, id);
      return ok(r) ? r : undefined;
    }, timeoutMs, what);
  const requestsTagged = (tag: string) => sim.requests.filter((r) => r.tag === tag);

  it('drains: a running job completes on the stopping worker, which takes nothing new and exits 0', async () => {
    const env = clusterEnv('drain');
    const [a, w1] = await Promise.all([api(env), worker({ ...env, SHUTDOWN_TIMEOUT_MS: '20000' })]);
    // About 1.5 s of streaming.
    const text = words(30, 'd');
    const id = await submit(a.url, text, 20, 'drain-1');
    await recordWhen(a.url, id, 'job running on W1', (r) => r['status'] === 'running' && pidOf(r) === String(w1.pid));

    const w1Exit = w1.stop('SIGTERM', 30_000);
    await w1.waitForLog((l) => l['msg'] === 'shutting down');
    // The drain is real only if the job was still going when the worker began to stop.
    expect((await getRecord(a.url, id))['status']).toBe('running');
    const later = await submit(a.url, words(5, 'l'), 200, 'drain-2');

    expect(await w1Exit).toBe(0);
    const record = await getRecord(a.url, id);
    expect(record).toMatchObject({ status: 'completed', attempt: 1, text, partial: false });
    expect(pidOf(record)).toBe(String(w1.pid));
    expect(requestsTagged('drain-1')).toHaveLength(1);
    // W1 never took the later job: it waited, untouched, for a worker that is not stopping.
    expect((await getRecord(a.url, later))['status']).toBe('queued');
    expect(requestsTagged('drain-2')).toHaveLength(0);

    const w2 = await worker(env);
    const done = await recordWhen(a.url, later, 'later job completed', (r) => r['status'] === 'completed');
    expect(done).toMatchObject({ attempt: 1, text: words(5, 'l') });
    expect(pidOf(done)).toBe(String(w2.pid));
  });

  // Two process start-ups and two ~12 s attempts: more than the default 60 s on a busy machine.
  it('hands back: a job still running after SHUTDOWN_TIMEOUT_MS continues on another worker without using up an attempt', async () => {
    const env = clusterEnv('handback');
    const [a, w1] = await Promise.all([api(env), worker({ ...env, SHUTDOWN_TIMEOUT_MS: '300' })]);
    // About 12 s of streaming: far longer than W1's drain, and than starting W2 on a busy machine.
    const text = words(240, 'h');
    const id = await submit(a.url, text, 20, 'handback');
    const viewing: Promise<SseRead> = readSse(`${a.url}/v1/jobs/${id}/events`);
    // Some text on the record, so the next attempt has something to reset.
    await recordWhen(a.url, id, 'job streaming on W1', (r) => pidOf(r) === String(w1.pid) && String(r['text']).length > 0);
    const w2 = await worker(env);
    expect((await getRecord(a.url, id))['status']).toBe('running');

    expect(await w1.stop('SIGTERM', 15_000)).toBe(0);
    // W1 did not wait for the job: it is unfinished, back in the queue or already on W2.
    const atExit = await getRecord(a.url, id);
    expect(['queued', 'running']).toContain(atExit['status']);

    const view = await viewing;
    expect(view.endedByServer).toBe(true);
    const record = await recordWhen(a.url, id, 'job ended', (r) => !['queued', 'running'].includes(String(r['status'])), 40_000);
    // The hand-back did not count: still attempt 1 of JOB_ATTEMPTS.
    expect(record).toMatchObject({ status: 'completed', attempt: 1, text, partial: false, error: null });
    expect(pidOf(record)).toBe(String(w2.pid));

    checkContiguous(view.events);
    const types = view.events.map((e) => e.event);
    expect(types.filter((t) => t === 'done')).toHaveLength(1);
    expect(types.at(-1)).toBe('done');
    expect(JSON.parse(view.events.at(-1)?.data ?? '{}')).toMatchObject({ status: 'completed' });
    const resets = view.events.filter((e) => e.event === 'reset');
    expect(resets).toHaveLength(1);
    expect(JSON.parse(resets[0]?.data ?? '{}')).toMatchObject({ attempt: 1, reason: expect.stringMatching(/shut down/) });
    // The first attempt's text came before the reset, the whole of the second after it.
    const resetAt = types.indexOf('reset');
    expect(types.slice(0, resetAt)).toContain('delta');
    expect(viewerText(view.events)).toBe(text);
    expect(viewerText(view.events)).toBe(record['text']);
    expect(requestsTagged('handback')).toHaveLength(2);
  }, 90_000);

  it('a hand-back does not use up an attempt: with JOB_ATTEMPTS=2, a rolling restart plus one dropped stream still completes', async () => {
    const env = { ...clusterEnv('handback-attempts'), JOB_ATTEMPTS: '2' };
    const [a, w1] = await Promise.all([api(env), worker({ ...env, SHUTDOWN_TIMEOUT_MS: '300' })]);
    const text = words(60, 'r');
    // The stream drops after 40 deltas (2 s) on the first two requests: W1's, handed back before it
    // gets there, and W2's, which drops. The third request streams it all.
    const { json } = await submitJob(a.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ text, tps: 20, tag: 'handback-attempts', fault: 'drop', fault_after: 40, fault_times: 2 }) }],
    });
    const id = String(json['id']);
    await recordWhen(a.url, id, 'job streaming on W1', (r) => pidOf(r) === String(w1.pid) && String(r['text']).length > 0);
    // W1 hands the job back 300 ms after the signal, well before its stream would drop; W2 starts after.
    expect(await w1.stop('SIGTERM', 15_000)).toBe(0);
    expect(await getRecord(a.url, id)).toMatchObject({ status: 'queued', attempt: 1 });
    const w2 = await worker(env);
    const record = await recordWhen(a.url, id, 'job ended', (r) => !['queued', 'running'].includes(String(r['status'])), 40_000);
    expect(record).toMatchObject({ status: 'completed', attempt: 2, text, error: null });
    expect(pidOf(record)).toBe(String(w2.pid));
    const requests = requestsTagged('handback-attempts');
    expect(requests.map((r) => r.outcome)).toEqual(['client_closed', 'fault', 'completed']);
    const view = await readSse(`${a.url}/v1/jobs/${id}/events`);
    checkContiguous(view.events);
    const lifecycle = view.events.filter((e) => e.event === 'status' || e.event === 'reset').map((e) => `${e.event}:${String((JSON.parse(e.data) as { status?: string }).status ?? '')}:${String((JSON.parse(e.data) as { attempt: number }).attempt)}`);
    expect(lifecycle).toEqual(['status:queued:0', 'status:running:1', 'status:queued:1', 'reset::1', 'status:running:1', 'status:queued:1', 'reset::2', 'status:running:2']);
    expect(viewerText(view.events)).toBe(text);
  }, 90_000);

  it('a second signal exits at once with code 1, without waiting for the drain', async () => {
    const env = clusterEnv('second-signal');
    const [a, w1] = await Promise.all([api(env), worker({ ...env, SHUTDOWN_TIMEOUT_MS: '30000' })]);
    // About 10 s of streaming.
    const id = await submit(a.url, words(200, 's'), 20, 'second-signal');
    await recordWhen(a.url, id, 'job running on W1', (r) => r['status'] === 'running' && pidOf(r) === String(w1.pid));

    w1.child.kill('SIGTERM');
    await w1.waitForLog((l) => l['msg'] === 'shutting down');
    // Past the window in which the same signal twice counts as one delivered twice (300 ms).
    await new Promise((r) => setTimeout(r, 600));
    // stop() sends the second SIGTERM; its SIGKILL fallback would show as a null exit code.
    expect(await w1.stop('SIGTERM', 15_000)).toBe(1);
    // Exited before the job could have completed: nobody finished it or handed it back.
    const record = await getRecord(a.url, id);
    expect(record).toMatchObject({ status: 'running', attempt: 1 });
    expect(requestsTagged('second-signal')).toHaveLength(1);
  });
});
