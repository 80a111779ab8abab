import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContentFold } from '../src/shared/fold-content.js';
import { backend, backendNames } from './support/redis.js';
import { checkContiguous, readSse, type SseEvent } from './support/sse.js';
import { jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// The whole assistant message through the pipeline (API.md §4.1) and agent loops on it (§4.2): tools,
// server tools, thinking with its signature, citations; the record's content is the fold of what the
// viewers saw; a tool_use stop is answered with tool results in the next turn.

const weather = { name: 'get_weather', description: 'Weather now', input_schema: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] } };

/** The record's content as a viewer rebuilds it from the stream, with the one shared fold. */
const foldViewer = (events: readonly SseEvent[]) => {
  const fold = createContentFold();
  for (const e of events) fold.apply({ type: e.event, data: JSON.parse(e.data) as unknown });
  return fold.content();
};

describe.each(backendNames)('tools and content blocks, on %s', (on) => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'agent-loop', env: { ...backend(on).env } });
  });
  afterAll(async () => {
    await sys.close();
  });

  const run = async (body: Record<string, unknown>) => {
    const { status, json } = await submitJob(sys.url, body);
    expect(status, JSON.stringify(json)).toBe(202);
    const id = String(json['id']);
    const view = await readSse(`${sys.url}/v1/jobs/${id}/events`);
    checkContiguous(view.events);
    const record = await jobEnded(sys.url, id);
    // The record's content is exactly what every viewer folds from the events.
    expect(foldViewer(view.events)).toEqual(record['content']);
    return { id, record, events: view.events };
  };
  const lastRequest = (tag: string) => sys.sim.requests.filter((r) => r.tag === tag).at(-1);

  it('a two-turn agent loop: the tool call streams and is parsed; the tool result goes back and the loop ends', async () => {
    const input = { location: 'São Paulo, "SP"', units: ['c', 'f'], days: 3.5 };
    const first = await run({
      max_tokens: 500,
      tools: [weather],
      messages: [{ role: 'user', content: simPrompt({ tag: 'loop1', blocks: [{ type: 'text', text: 'Let me look.' }, { type: 'tool_use', name: 'get_weather', input }] } as never) }],
    });
    expect(first.record).toMatchObject({ status: 'completed', stop_reason: 'tool_use', text: 'Let me look.' });
    const content = first.record['content'] as Record<string, unknown>[];
    expect(content).toEqual([
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_weather', input, caller: { type: 'direct' } },
    ]);
    const toolId = String(content[1]?.['id']);
    // Viewers saw it open, its input stream in pieces, and stop with the parsed input.
    const types = first.events.map((e) => e.event);
    expect(types).toEqual(expect.arrayContaining(['block_start', 'tool_input', 'block_stop']));
    expect(first.events.filter((e) => e.event === 'tool_input').length).toBeGreaterThan(1);

    // Unanswered: refused before anything is queued, naming the id.
    const before = sys.sim.requests.length;
    const unanswered = await submitJob(sys.url, { previous_job_id: first.id, messages: [{ role: 'user', content: 'well?' }] });
    expect(unanswered.status).toBe(400);
    expect(JSON.stringify(unanswered.json)).toContain(toolId);
    expect(sys.sim.requests.length).toBe(before);

    const second = await run({
      previous_job_id: first.id,
      messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: toolId, content: `21 °C ${simPrompt({ tag: 'loop2', text: 'It is 21 °C.' })}` }] }],
    });
    expect(second.record).toMatchObject({ status: 'completed', stop_reason: 'end_turn', turn: 2, text: 'It is 21 °C.' });
    const sent = lastRequest('loop2')?.body as { messages: { role: string; content: unknown }[]; tools: unknown[] };
    expect(sent.tools).toEqual([weather]);
    expect(sent.messages[1]).toEqual({ role: 'assistant', content: content });
    expect(JSON.stringify(sent.messages[2])).toContain(toolId);
  });

  it('server tools: the search call, its whole result and the cited text reach the record, with the usage counters', async () => {
    const result = { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_01Search', content: [{ type: 'web_search_result', url: 'https://example.test/a', title: 'A', encrypted_content: 'enc', page_age: null }] };
    const citation = { type: 'web_search_result_location', url: 'https://example.test/a', title: 'A', cited_text: 'It is tall.', encrypted_index: 'idx' };
    const { record } = await run({
      max_tokens: 500,
      tools: [{ type: 'web_search_20260209', name: 'web_search', max_uses: 2 }],
      messages: [{ role: 'user', content: simPrompt({ tag: 'search', blocks: [
        { type: 'server_tool_use', id: 'srvtoolu_01Search', name: 'web_search', input: { query: 'how tall' } },
        result,
        { type: 'text', text: 'It is tall.', citations: [citation] },
      ] } as never) }],
    });
    expect(record['content']).toEqual([
      { type: 'server_tool_use', id: 'srvtoolu_01Search', name: 'web_search', input: { query: 'how tall' }, caller: { type: 'direct' } },
      result,
      { type: 'text', text: 'It is tall.', citations: [citation] },
    ]);
    expect(record['usage']).toMatchObject({ server_tool_use: { web_search_requests: 1 }, cache_read_input_tokens: 0 });
  });

  it('thinking goes back to the upstream with its signature, byte for byte', async () => {
    const thought = 'Let me think about "quotes", \\ backslashes and ünïcödé.';
    const first = await run({
      max_tokens: 3000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: simPrompt({ tag: 'think1', blocks: [{ type: 'thinking', thinking: thought }, { type: 'text', text: 'Done.' }] } as never) }],
    });
    const [thinking] = first.record['content'] as { type: string; thinking: string; signature: string }[];
    expect(thinking).toMatchObject({ type: 'thinking', thinking: thought });
    expect(thinking?.signature.length).toBeGreaterThan(10);
    await run({ previous_job_id: first.id, messages: [{ role: 'user', content: simPrompt({ tag: 'think2', text: 'OK.' }) }] });
    // The simulator refuses a thinking block whose signature it did not issue for exactly that text;
    // the raw body holds both as the first turn produced them.
    const raw = lastRequest('think2')?.raw ?? '';
    expect(raw).toContain(JSON.stringify(thinking?.signature));
    expect(raw).toContain(JSON.stringify(thought));
  });

  it('structured output: the parsed JSON once completed; null with the reason when the text is not JSON', async () => {
    const format = { type: 'json_schema', schema: { type: 'object', properties: { n: { type: 'number' } } } };
    const good = await run({ max_tokens: 100, output_config: { format }, messages: [{ role: 'user', content: simPrompt({ text: '{"n": 42}' }) }] });
    expect(good.record).toMatchObject({ output: { n: 42 }, output_error: null });
    const bad = await run({ max_tokens: 100, output_config: { format }, messages: [{ role: 'user', content: simPrompt({ text: '{"n": 4' }) }] });
    expect(bad.record).toMatchObject({ output: null, output_error: expect.stringMatching(/not valid JSON/) });
  });

  it('a retried attempt: the record holds exactly the final attempt\'s blocks', async () => {
    const blocks = [{ type: 'thinking', thinking: 'step one, step two' }, { type: 'tool_use', name: 'get_weather', input: { location: 'Oslo' } }];
    const { record, events } = await run({
      max_tokens: 3000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: [weather],
      messages: [{ role: 'user', content: simPrompt({ blocks, fault: 'drop', fault_after: 4, fault_times: 1, key: `retry-${on}` } as never) }],
    });
    expect(events.filter((e) => e.event === 'reset')).toHaveLength(1);
    expect(record).toMatchObject({ attempt: 2, status: 'completed' });
    expect(record['content']).toEqual([
      { type: 'thinking', thinking: 'step one, step two', signature: expect.any(String) },
      { type: 'tool_use', id: expect.stringMatching(/^toolu_/), name: 'get_weather', input: { location: 'Oslo' }, caller: { type: 'direct' } },
    ]);
  });
});
