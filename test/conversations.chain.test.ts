import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, backendNames } from './support/redis.js';
import { checkContiguous, readSse, type SseEvent } from './support/sse.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// Jobs chain into conversations (API.md §4.2): previous_job_id resolves the history at submission,
// the record and GET /v1/conversations show the turns, one stream follows every turn, forks copy.
describe.each(backendNames)('conversations, on %s', (on) => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'conversations', env: { ...backend(on).env } });
  });
  afterAll(async () => {
    await sys.close();
  });

  const say = async (text: string, tag: string, extra: Record<string, unknown> = {}) => {
    const { status, json } = await submitJob(sys.url, {
      max_tokens: 200,
      messages: [{ role: 'user', content: `${tag} ${simPrompt({ text, tag })}` }],
      ...extra,
    });
    expect(status, JSON.stringify(json)).toBe(202);
    return String(json['id']);
  };
  const upstreamBody = (tag: string) => sys.sim.requests.filter((r) => r.tag === tag).at(-1)?.body as { messages: { role: string; content: unknown }[] };

  it('a second turn gets the whole history; the record and the conversation show both turns', async () => {
    const first = await say('Paris is the capital.', 'c1');
    const one = await jobEnded(sys.url, first);
    expect(one).toMatchObject({ turn: 1, previous_job_id: null, content: [{ type: 'text', text: 'Paris is the capital.' }] });
    const conversationId = String(one['conversation_id']);
    expect(conversationId).toMatch(/^conv_/);

    const second = await say('About two million.', 'c2', { previous_job_id: first });
    // Parameters left out come from the previous job: max_tokens here is this request's, model the previous one's.
    const two = await jobEnded(sys.url, second);
    expect(two).toMatchObject({ status: 'completed', turn: 2, previous_job_id: first, conversation_id: conversationId, model: one['model'] });
    const sent = upstreamBody('c2').messages;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent[1]?.content).toEqual([{ type: 'text', text: 'Paris is the capital.' }]);
    // From the second turn on the history ends with a prompt-cache breakpoint.
    expect(JSON.stringify(sent[2]?.content)).toContain('"cache_control":{"type":"ephemeral"}');
    expect(JSON.stringify(sent.slice(0, 2))).not.toContain('cache_control');

    const res = await fetch(`${sys.url}/v1/conversations/${conversationId}`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as { last_job_id: string; turns: { job_id: string; turn: number; messages: unknown[]; content: unknown[] }[] };
    expect(view.last_job_id).toBe(second);
    expect(view.turns.map((t) => [t.turn, t.job_id])).toEqual([
      [1, first],
      [2, second],
    ]);
    expect(view.turns[1]?.messages).toEqual([{ role: 'user', content: expect.stringContaining('c2') }]);
    expect(view.turns[1]?.content).toEqual([{ type: 'text', text: 'About two million.' }]);
  });

  it('prompt caching: from turn 2 the history is cached, and turn 3 reads what turn 2 cached (usage shows it)', async () => {
    const system = `You are a careful assistant. ${'Keep answers short and exact. '.repeat(200)}`;
    const first = await say('One.', 'p1', { system });
    const one = (await jobEnded(sys.url, first))['usage'] as Record<string, number>;
    expect([one['cache_read_input_tokens'] ?? 0, one['cache_creation_input_tokens'] ?? 0]).toEqual([0, 0]);
    const second = await say('Two.', 'p2', { previous_job_id: first });
    const two = (await jobEnded(sys.url, second))['usage'] as Record<string, number>;
    expect(two['cache_creation_input_tokens']).toBeGreaterThan(1024);
    const third = await say('Three.', 'p3', { previous_job_id: second });
    const three = (await jobEnded(sys.url, third))['usage'] as Record<string, number>;
    expect(three['cache_read_input_tokens']).toBe(two['cache_creation_input_tokens']);
    expect(three['input_tokens']).toBeLessThan(three['cache_read_input_tokens'] ?? 0);
  });

  it('refuses a turn whose history would carry more than 4 cache breakpoints in all', async () => {
    const marked = (text: string, tag: string) => ({
      role: 'user',
      content: [
        { type: 'text', text: 'context', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: `${text} ${simPrompt({ text: 'ok', tag })}`, cache_control: { type: 'ephemeral' } },
      ],
    });
    const first = String((await submitJob(sys.url, { max_tokens: 50, messages: [marked('one', 'bp1')] })).json['id']);
    await jobEnded(sys.url, first);
    const second = await submitJob(sys.url, { previous_job_id: first, messages: [marked('two', 'bp2')] });
    expect(second.status).toBe(202);
    await jobEnded(sys.url, String(second.json['id']));
    const third = await submitJob(sys.url, { previous_job_id: String(second.json['id']), messages: [marked('three', 'bp3')] });
    expect(third.status).toBe(400);
    expect(String(third.json['detail'])).toMatch(/6 prompt-cache breakpoints/);
    expect(sys.sim.requests.some((r) => r.tag === 'bp3')).toBe(false);
  });

  it('refuses before anything is queued: unknown previous job 404, a running one 409 naming its status', async () => {
    const before = sys.sim.requests.length;
    const unknown = await submitJob(sys.url, { messages: [{ role: 'user', content: 'x' }], previous_job_id: 'job_AAAAAAAAAAAAAAAAAAAAAA' });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ errors: [{ path: '/previous_job_id' }] });
    const slow = await say('slow answer '.repeat(20), 'slow-prev', {});
    await eventually(async () => ((await getRecord(sys.url, slow))['status'] === 'running' ? true : undefined));
    const running = await submitJob(sys.url, { messages: [{ role: 'user', content: 'x' }], previous_job_id: slow });
    expect(running.status).toBe(409);
    expect(String(running.json['detail'])).toMatch(/running|queued/);
    await jobEnded(sys.url, slow);
    expect(sys.sim.requests.filter((r) => r.tag !== 'slow-prev').length).toBe(before);
  });

  it('continuing a job that was continued already forks: a new conversation with the same history', async () => {
    const first = await say('Root answer.', 'f1');
    await jobEnded(sys.url, first);
    const a = await say('Branch A.', 'fa', { previous_job_id: first });
    const b = await say('Branch B.', 'fb', { previous_job_id: first });
    const [ra, rb] = await Promise.all([jobEnded(sys.url, a), jobEnded(sys.url, b)]);
    expect(ra['forked_from']).toBeUndefined();
    expect(rb).toMatchObject({ forked_from: first, turn: 2, previous_job_id: first });
    expect(rb['conversation_id']).not.toBe(ra['conversation_id']);
    expect(upstreamBody('fb').messages.slice(0, 2)).toEqual(upstreamBody('fa').messages.slice(0, 2));
    const fork = (await (await fetch(`${sys.url}/v1/conversations/${String(rb['conversation_id'])}`)).json()) as Record<string, unknown>;
    expect(fork).toMatchObject({ forked_from: first, forked_from_conversation: ra['conversation_id'], turns: [{ turn: 2, job_id: b }] });
    // The fork goes on by itself.
    const c = await say('Branch B, again.', 'fc', { previous_job_id: b });
    expect(await jobEnded(sys.url, c)).toMatchObject({ conversation_id: rb['conversation_id'], turn: 3 });
  });

  it('a cancelled turn is committed as far as it went, and the conversation goes on', async () => {
    const { json } = await submitJob(sys.url, {
      max_tokens: 200,
      messages: [{ role: 'user', content: `x1 ${simPrompt({ text: 'one two three four five six seven eight nine ten eleven twelve', tps: 5, tag: 'x1' })}` }],
    });
    const first = String(json['id']);
    await eventually(async () => (String((await getRecord(sys.url, first))['text']).length > 0 ? true : undefined));
    await fetch(`${sys.url}/v1/jobs/${first}/cancel`, { method: 'POST' });
    const cancelled = await jobEnded(sys.url, first);
    expect(cancelled['status']).toBe('cancelled');
    const shown = String(cancelled['text']);
    const next = await say('Fine.', 'x2', { previous_job_id: first });
    expect(await jobEnded(sys.url, next)).toMatchObject({ status: 'completed', turn: 2 });
    const sent = upstreamBody('x2').messages;
    expect(sent[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: shown }] });
  });

  it('one stream follows the conversation: opened before turn 2 exists, it gets turn 2 when it comes, and resumes by id', async () => {
    const first = await say('First.', 's1');
    const one = await jobEnded(sys.url, first);
    const url = `${sys.url}/v1/conversations/${String(one['conversation_id'])}/events`;
    const seen: SseEvent[] = [];
    let second = '';
    const read = await readSse(url, {
      onEvent: (e) => {
        seen.push(e);
        // Turn 1 is over: the stream stays open; now the next turn starts.
        if (e.event === 'done' && e.id.startsWith('1-')) void say('Second.', 's2', { previous_job_id: first }).then((id) => (second = id));
      },
      until: (e) => e.event === 'done' && e.id.startsWith('2-'),
    });
    expect(read.endedByServer).toBe(false);
    const ids = seen.map((e) => e.id);
    expect(seen[0]).toMatchObject({ id: '1-0', event: 'turn' });
    expect(JSON.parse(seen[0]?.data ?? '{}')).toEqual({ job_id: first, turn: 1, previous_job_id: null });
    const turnTwo = seen.findIndex((e) => e.id === '2-0');
    expect(JSON.parse(seen[turnTwo]?.data ?? '{}')).toEqual({ job_id: second, turn: 2, previous_job_id: first });
    checkContiguous(seen.slice(1, turnTwo).map((e) => ({ ...e, id: e.id.split('-')[1] ?? '' })), 1);
    checkContiguous(seen.slice(turnTwo + 1).map((e) => ({ ...e, id: e.id.split('-')[1] ?? '' })), 1);
    expect(new Set(ids).size).toBe(ids.length);
    // Resuming in the middle of turn 2 gives exactly the rest, then keeps waiting.
    const mid = seen[turnTwo + 2]?.id ?? '';
    const rest = await readSse(url, { headers: { 'last-event-id': mid }, stopAfter: seen.length - (turnTwo + 3) });
    expect(rest.events.map((e) => e.id)).toEqual(ids.slice(turnTwo + 3));
  });
});
