import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContentFold } from '../src/shared/fold-content.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { startWorkerProcess, type NodeProcess } from './support/processes.js';
import { backend, backendNames } from './support/redis.js';
import { checkContiguous, readSse, type SseEvent } from './support/sse.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// A worker killed (SIGKILL) while a tool call's input streams: another worker takes the job as its
// next attempt, and the record holds exactly the final attempt's blocks, as every viewer folds them.
// A cancelled turn with an unfinished tool call is committed without it, and its finished calls must
// be answered.
describe.each(backendNames)('tool input interrupted, on %s', (on) => {
  let sys: TestSystem;
  let sim: Simulator;
  const procs: NodeProcess[] = [];
  beforeAll(async () => {
    sim = await startSimulator();
    sys = await startSystem({ name: 'kill-tool', workers: 0, sim, env: { ...backend(on).env } });
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await sys.close();
    await sim.close();
  });
  const worker = async () => {
    const w = await startWorkerProcess({
      ...backend(on).env,
      KEY_PREFIX: sys.config.keyPrefix,
      ANTHROPIC_BASE_URL: sim.url,
      ANTHROPIC_API_KEY: 'test-key',
      LOCK_DURATION_MS: '2000',
    });
    procs.push(w);
    return w;
  };
  const input = { query: 'a long query '.repeat(6).trim(), limit: 10 };
  const tools = [{ name: 'search', input_schema: { type: 'object', properties: { query: { type: 'string' } } } }];

  it('a worker SIGKILLed mid tool input: the record after recovery holds exactly the final attempt\'s blocks', async () => {
    const first = await worker();
    const blocks = [{ type: 'text', text: 'Searching.' }, { type: 'tool_use', name: 'search', input, split: Array(40).fill(3) }];
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      tools,
      messages: [{ role: 'user', content: simPrompt({ tag: `kill-${on}`, blocks, tps: 20 } as never) }],
    });
    const id = String(json['id']);
    const seen: SseEvent[] = [];
    const viewing = readSse(`${sys.url}/v1/jobs/${id}/events`, { onEvent: (e) => seen.push(e) });
    await eventually(async () => (seen.filter((e) => e.event === 'tool_input').length >= 3 ? true : undefined));
    process.kill(first.pid, 'SIGKILL');
    await worker();
    const record = await jobEnded(sys.url, id, 45_000);
    const view = await viewing;
    checkContiguous(view.events);
    expect(view.events.filter((e) => e.event === 'reset')).toHaveLength(1);
    expect(record).toMatchObject({ status: 'completed', attempt: 2, stop_reason: 'tool_use' });
    const content = record['content'] as Record<string, unknown>[];
    expect(content).toEqual([
      { type: 'text', text: 'Searching.' },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'search', input, caller: { type: 'direct' } },
    ]);
    const fold = createContentFold();
    for (const e of view.events) fold.apply({ type: e.event, data: JSON.parse(e.data) as unknown });
    expect(fold.content()).toEqual(content);
  }, 60_000);

  it('a cancelled turn: an unfinished tool call is dropped, a finished one must be answered, then the loop goes on', async () => {
    await worker();
    const blocks = [
      { type: 'tool_use', name: 'search', input: { query: 'first' } },
      { type: 'tool_use', name: 'search', input, split: Array(40).fill(3) },
    ];
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      tools,
      messages: [{ role: 'user', content: simPrompt({ tag: `cancel-${on}`, blocks, tps: 20 } as never) }],
    });
    const id = String(json['id']);
    await eventually(async () => {
      const content = (await getRecord(sys.url, id))['content'] as Record<string, unknown>[];
      return content.length === 2 && String(content[1]?.['partial_json']).length > 6 ? true : undefined;
    });
    await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
    const record = await jobEnded(sys.url, id);
    expect(record['status']).toBe('cancelled');
    const [done, unfinished] = record['content'] as Record<string, unknown>[];
    expect(done).toMatchObject({ type: 'tool_use', input: { query: 'first' } });
    expect(unfinished).toMatchObject({ type: 'tool_use', incomplete: true, partial_json: expect.any(String) });
    expect(unfinished?.['input']).toBeUndefined();

    const missing = await submitJob(sys.url, { previous_job_id: id, messages: [{ role: 'user', content: 'go on' }] });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json)).toContain(String(done?.['id']));
    expect(JSON.stringify(missing.json)).not.toContain(String(unfinished?.['id']));
    const { json: next } = await submitJob(sys.url, {
      previous_job_id: id,
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: String(done?.['id']), content: `found ${simPrompt({ tag: `after-${on}`, text: 'Thanks.' })}` }] }],
    });
    expect(await jobEnded(sys.url, String(next['id']))).toMatchObject({ status: 'completed', text: 'Thanks.' });
    const sent = sim.requests.filter((r) => r.tag === `after-${on}`).at(-1)?.body as { messages: { role: string; content: unknown[] }[] };
    expect(sent.messages[1]).toEqual({ role: 'assistant', content: [done] });
  }, 60_000);
});
