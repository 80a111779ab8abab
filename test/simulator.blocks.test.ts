import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../src/simulator/index.js';
import { FIXTURE_SECRET, FIXTURES, fixtureRequest } from './fixtures/sse/cases.js';
import { simRequest, useSimulatorClient } from './support/simulator-client.js';

const ctx = useSimulatorClient();
const FIXTURE_DIR = new URL('./fixtures/sse/', import.meta.url);

type Delta = Anthropic.RawContentBlockDeltaEvent['delta'];

/** Streams a directive through the SDK's `messages.stream()`: the final message and every delta with its index. */
async function streamed(directive: object, extra: Record<string, unknown> = {}) {
  const stream = ctx.client.messages.stream(simRequest(directive, extra));
  const deltas: { index: number; delta: Delta }[] = [];
  stream.on('streamEvent', (e) => {
    if (e.type === 'content_block_delta') deltas.push({ index: e.index, delta: e.delta });
  });
  return { message: await stream.finalMessage(), deltas };
}

/** Raw events of `messages.create({stream: true})`, and the error that ended the iteration, if any. */
async function events(directive: object, extra: Record<string, unknown> = {}) {
  const seen: Anthropic.RawMessageStreamEvent[] = [];
  try {
    for await (const e of await ctx.client.messages.create({ ...simRequest(directive, extra), stream: true })) seen.push(e);
  } catch (error) {
    return { seen, error };
  }
  return { seen, error: undefined };
}

const citationA = {
  type: 'web_search_result_location', url: 'https://example.com/a', title: 'A', cited_text: 'Not in the answer at all.',
  encrypted_index: 'EoABCg==',
};
const citationB = {
  type: 'char_location', cited_text: 'blue sky', document_index: 0, document_title: 'Doc', start_char_index: 4,
  end_char_index: 12, file_id: null,
};
const result = {
  type: 'web_search_tool_result',
  tool_use_id: 'srvtoolu_01Search',
  content: [{ type: 'web_search_result', url: 'https://example.com/a', title: 'A', encrypted_content: 'Eq0=', page_age: '2 days ago' }],
};
const ALL_BLOCKS = [
  { type: 'thinking', thinking: 'Think first, then answer with care.' },
  { type: 'redacted_thinking', data: 'EmwKAhgBEgy3vaQ2b2W1' },
  { type: 'text', text: 'The sea under a blue sky is calm today.', citations: [citationA, citationB] },
  { type: 'server_tool_use', id: 'srvtoolu_01Search', name: 'web_search', input: { query: 'sea "calm" \\ today' } },
  result,
  { type: 'web_fetch_tool_result', tool_use_id: 'srvtoolu_01Fetch', content: { type: 'web_fetch_tool_result_error', error_code: 'url_not_accessible' } },
  { type: 'future_block', foo: 1 },
  { type: 'tool_use', id: 'toolu_01Weather', name: 'get_weather', input: { city: 'Zürich 😀', days: [1, 2], deep: { n: -12.5e-3 } } },
];

describe('simulator blocks: every block type through the real SDK', () => {
  it('accumulates into exactly the directive blocks, with stop_reason tool_use and every usage counter', async () => {
    const { message, deltas } = await streamed({ blocks: ALL_BLOCKS, tag: 'all-blocks' });
    const thinking = message.content[0];
    expect(thinking?.type === 'thinking' && thinking.signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const signature = thinking?.type === 'thinking' ? thinking.signature : '';
    expect(message.content).toEqual([
      { ...ALL_BLOCKS[0], signature },
      ALL_BLOCKS[1],
      ALL_BLOCKS[2],
      { ...ALL_BLOCKS[3], caller: { type: 'direct' } },
      ALL_BLOCKS[4],
      ALL_BLOCKS[5],
      ALL_BLOCKS[6],
      { ...ALL_BLOCKS[7], caller: { type: 'direct' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.stop_details).toBeNull();
    const content = deltas.filter((d) => d.delta.type !== 'signature_delta');
    expect(message.usage).toEqual({
      input_tokens: expect.any(Number),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: content.length,
      service_tier: 'standard',
      server_tool_use: { web_search_requests: 1, web_fetch_requests: 0 },
    });
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    // Every kind of content delta is there, and the record counts them all.
    expect(new Set(deltas.map((d) => d.delta.type))).toEqual(
      new Set(['thinking_delta', 'signature_delta', 'text_delta', 'citations_delta', 'input_json_delta']),
    );
    const record = ctx.sim.requests.find((r) => r.tag === 'all-blocks');
    expect(record).toMatchObject({ outcome: 'completed', deltasSent: content.length, textSent: 'The sea under a blue sky is calm today.' });
  });

  it('sends each citation as a citations_delta where its text ends, one between two text deltas', async () => {
    const { deltas } = await streamed({ blocks: [ALL_BLOCKS[2]] });
    const kinds = deltas.map((d) => d.delta.type);
    // citationA's text is not in the answer: spread to mid-block; citationB follows "blue sky".
    const first = kinds.indexOf('citations_delta');
    expect(kinds[first - 1]).toBe('text_delta');
    expect(kinds[first + 1]).toBe('text_delta');
    const second = kinds.lastIndexOf('citations_delta');
    const textBefore = deltas.slice(0, second).map((d) => (d.delta.type === 'text_delta' ? d.delta.text : '')).join('');
    expect(textBefore.endsWith('blue sky')).toBe(true);
  });

  it('cuts tool input JSON at awkward places: "" first, inside escapes and numbers, after ":"; deterministic', async () => {
    const input = { q: 'café "x" \\ y', n: 123456, list: [true, null] };
    const pieces = async () =>
      (await streamed({ blocks: [{ type: 'tool_use', name: 't', input, id: 'toolu_01A' }] })).deltas.map((d) =>
        d.delta.type === 'input_json_delta' ? d.delta.partial_json : '?');
    const a = await pieces();
    expect(a).toEqual(await pieces());
    expect(a[0]).toBe('');
    const json = a.join('');
    expect(JSON.parse(json)).toEqual(input);
    expect(json).toBe(JSON.stringify(input).replace('é', '\\u00e9'));
    const ends = a.slice(1, -1).map((p) => p.at(-1));
    expect(ends).toContain('\\'); // a cut between a backslash and the character it escapes
    expect(ends).toContain(':');
    expect(a.some((p) => /\\u[0-9a-f]{0,3}$/.test(p))).toBe(true); // inside \u00e9
    expect(a.some((p, i) => /\d$/.test(p) && /^\d/.test(a[i + 1] ?? ''))).toBe(true); // inside 123456
    expect(a.every((p) => !/[\ud800-\udfff]/.test(p))).toBe(true);
  });

  it('`split` gives the exact piece lengths, the rest in the last piece', async () => {
    const input = { a: 'bcd', e: 1 };
    const { deltas, message } = await streamed({ blocks: [{ type: 'tool_use', name: 't', input, split: [0, 3, 0, 5] }] });
    expect(deltas.map((d) => (d.delta.type === 'input_json_delta' ? d.delta.partial_json : '?'))).toEqual(
      ['', '{"a', '', '":"bc', 'd","e":1}'],
    );
    expect(message.content[0]).toMatchObject({ type: 'tool_use', input, id: expect.stringMatching(/^toolu_01\w+$/) });
  });

  it('a thinking block opens empty, streams thinking_deltas, then one signature_delta just before its stop', async () => {
    const { seen } = await events({ blocks: [{ type: 'thinking', thinking: 'a b c', signature: 'given-sig' }] });
    const trace = seen.map((e) => (e.type === 'content_block_delta' ? e.delta.type : e.type));
    expect(trace).toEqual([
      'message_start', 'content_block_start', 'thinking_delta', 'thinking_delta', 'thinking_delta', 'signature_delta',
      'content_block_stop', 'message_delta', 'message_stop',
    ]);
    expect(seen[1]).toMatchObject({ content_block: { type: 'thinking', thinking: '', signature: '' } });
    expect(seen[5]).toMatchObject({ delta: { type: 'signature_delta', signature: 'given-sig' } });
  });

  it('stop_reason overrides: pause_turn, refusal with stop_details, stop_sequence, model_context_window_exceeded', async () => {
    const blocks = [{ type: 'text', text: 'Stopping here.' }];
    const pause = await streamed({ blocks, stop_reason: 'pause_turn' });
    expect(pause.message.stop_reason).toBe('pause_turn');
    const details = { category: 'cyber', explanation: 'Looks like malware.' };
    const refusal = await streamed({ blocks, stop_reason: 'refusal', stop_details: details });
    expect(refusal.message).toMatchObject({ stop_reason: 'refusal', stop_details: { type: 'refusal', ...details } });
    const stop = await streamed({ blocks, stop_reason: 'stop_sequence' }, { stop_sequences: ['END'] });
    expect(stop.message).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'END' });
    const window = await streamed({ blocks, stop_reason: 'model_context_window_exceeded' });
    expect(window.message.stop_reason).toBe('model_context_window_exceeded');
    expect((await streamed({ blocks })).message.stop_reason).toBe('end_turn');
  });

  it('non-streaming answers the complete blocks, tool inputs as objects, with the same usage', async () => {
    const directive = { blocks: ALL_BLOCKS, tokens_per_delta: 2 };
    const { message: s } = await streamed(directive);
    const plain = await ctx.client.messages.create(simRequest(directive));
    expect(plain.content).toEqual(s.content);
    expect(plain.usage).toEqual(s.usage);
    expect(plain.stop_reason).toBe('tool_use');
  });

  it('an unknown or mistyped block field fails loudly with 400', async () => {
    const err = await ctx.client.messages.create(simRequest({ blocks: [{ type: 'tool_use', name: 't', inputs: {} }] })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as APIError).apiMessage).toMatch(/sim directive: blocks\.0/);
  });
});

describe('simulator blocks: max_tokens and faults', () => {
  it('max_tokens cuts inside a tool input: content_block_stop for it, then stop_reason max_tokens', async () => {
    const input = { filename: 'notes.txt', lines: ['one', 'two'] };
    const blocks = [{ type: 'text', text: 'Writing it.' }, { type: 'tool_use', name: 'make_file', input, split: [0, 10, 10] }];
    const { seen } = await events({ blocks }, { max_tokens: 4 });
    const pieces = seen.flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' ? [e.delta.partial_json] : []));
    expect(pieces).toEqual(['', '{"filename']);
    const tail = seen.slice(-3);
    expect(tail[0]).toEqual({ type: 'content_block_stop', index: 1 });
    expect(tail[1]).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 4 } });
    expect(tail[2]).toEqual({ type: 'message_stop' });
    const { message } = await streamed({ blocks }, { max_tokens: 4 });
    expect(message.content[1]).toMatchObject({ type: 'tool_use', input: {} });
    const plain = await ctx.client.messages.create(simRequest({ blocks }, { max_tokens: 4 }));
    expect(plain).toMatchObject({ stop_reason: 'max_tokens', usage: { output_tokens: 4 } });
  });

  it('max_tokens inside a thinking block closes it without a signature and starts no further block', async () => {
    const blocks = [{ type: 'thinking', thinking: 'one two three four' }, { type: 'text', text: 'Never sent.' }];
    const { message, deltas } = await streamed({ blocks }, { max_tokens: 2 });
    expect(deltas.map((d) => d.delta.type)).toEqual(['thinking_delta', 'thinking_delta']);
    expect(message.content).toEqual([{ type: 'thinking', thinking: 'one two', signature: '' }]);
    expect(message.stop_reason).toBe('max_tokens');
  });

  it('drop with fault_after inside a tool input: the socket dies mid-input, the SDK throws', async () => {
    const blocks = [{ type: 'text', text: 'a b' }, { type: 'tool_use', name: 't', input: { k: 'value' }, split: [0, 3, 3, 3] }];
    const { seen, error } = await events({ blocks, fault: 'drop', fault_after: 4, tag: 'drop-tool' });
    expect(error).toBeInstanceOf(Error);
    const last = seen.at(-1);
    expect(last).toMatchObject({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"k' } });
    expect(seen.some((e) => e.type === 'content_block_stop' && e.index === 1)).toBe(false);
    expect(ctx.sim.requests.find((r) => r.tag === 'drop-tool')).toMatchObject({ outcome: 'fault', fault: 'drop', deltasSent: 4 });
  });

  it('error_event inside a thinking block surfaces as the SDK APIError of that type', async () => {
    const blocks = [{ type: 'thinking', thinking: 'w1 w2 w3 w4 w5' }, { type: 'text', text: 'x' }];
    const { seen, error } = await events({ blocks, fault: 'error_event', fault_after: 2, error_type: 'overloaded_error' });
    expect((error as APIError).type).toBe('overloaded_error');
    expect(seen.filter((e) => e.type === 'content_block_delta')).toHaveLength(2);
  });
});

describe('simulator blocks: recorded SSE fixtures', () => {
  /** An SDK client whose fetch answers every request with the fixture's bytes as an event stream. */
  const replay = (body: string) =>
    new Anthropic({
      apiKey: 'k',
      maxRetries: 0,
      fetch: async () => new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } }),
    });

  it('there is one fixture per case, and each is the real wire shape (event and data lines, a ping)', async () => {
    const files = (await readdir(FIXTURE_DIR)).filter((f) => f.endsWith('.sse')).sort();
    expect(files).toEqual(Object.keys(FIXTURES).map((n) => `${n}.sse`).sort());
    for (const file of files) {
      const body = await readFile(new URL(file, FIXTURE_DIR), 'utf8');
      expect(body.endsWith('\n\n'), file).toBe(true);
      const frames = body.slice(0, -2).split('\n\n').map((raw) => /^event: ([a-z_]+)\ndata: (.*)$/.exec(raw));
      expect(frames.every((m) => m !== null && (JSON.parse(m[2] ?? '') as { type: string }).type === m[1]), file).toBe(true);
      expect(frames.some((m) => m?.[1] === 'ping'), file).toBe(true);
    }
  });

  it('every fixture is what the simulator sends for its directive (re-record with record.ts)', async () => {
    const sim = await startSimulator({ secret: FIXTURE_SECRET, defaults: { ttft_ms: 0, tps: 1e6, ping_ms: 3_600_000 } });
    const ids = (s: string) => s.replace(/"msg_01\w+"/, '"msg_"');
    try {
      for (const [name, c] of Object.entries(FIXTURES)) {
        const res = await fetch(`${sim.url}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2026-10-21' },
          body: JSON.stringify(fixtureRequest(name, c)),
        });
        expect(ids(await res.text()), name).toBe(ids(await readFile(new URL(`${name}.sse`, FIXTURE_DIR), 'utf8')));
      }
    } finally {
      await sim.close();
    }
  });

  it.each(Object.keys(FIXTURES).filter((n) => n !== 'error-mid-stream'))(
    '%s.sse parses through the SDK into the Message the simulator answers non-streaming',
    async (name) => {
      const body = await readFile(new URL(`${name}.sse`, FIXTURE_DIR), 'utf8');
      const message = await replay(body).messages.stream({ model: 'm', max_tokens: 1, messages: [] }).finalMessage();
      const sim = await startSimulator({ secret: FIXTURE_SECRET, defaults: { ttft_ms: 0 } });
      const c = FIXTURES[name] ?? { directive: {} };
      const plain = await new Anthropic({ apiKey: 'k', baseURL: sim.url, maxRetries: 0 }).messages
        .create({ ...fixtureRequest(name, c), stream: false } as unknown as Anthropic.MessageCreateParamsNonStreaming);
      await sim.close();
      const { id: _a, parsed_output: _p, ...streamedRest } = message;
      const { id: _b, ...plainRest } = plain;
      if (name === 'max-tokens-mid-tool-input') {
        // The SDK's partial parse of the truncated input keeps what is complete; the plain answer has {}.
        expect(message.content[1]).toMatchObject({ type: 'tool_use', input: { filename: 'notes.txt', lines_of_text: [] } });
        expect(plain.content[1]).toMatchObject({ type: 'tool_use', input: {} });
        expect(message.stop_reason).toBe('max_tokens');
        return;
      }
      expect(streamedRest).toEqual(plainRest);
    },
  );

  it('the fixtures show the cases they are named for', async () => {
    const read = async (name: string) => {
      const body = await readFile(new URL(`${name}.sse`, FIXTURE_DIR), 'utf8');
      return { body, message: await replay(body).messages.stream({ model: 'm', max_tokens: 1, messages: [] }).finalMessage() };
    };
    const cites = await read('text-citations');
    expect(cites.message.content[0]).toMatchObject({ citations: [{ type: 'web_search_result_location' }, { type: 'char_location' }] });
    expect(cites.body).toMatch(/text_delta.*\n\n.*\n.*citations_delta.*\n\n.*\n.*text_delta/);
    const search = await read('server-tool-web-search');
    expect(search.message.content.map((b) => b.type)).toEqual(
      ['text', 'server_tool_use', 'web_search_tool_result', 'text', 'text', 'text'],
    );
    expect(search.message.usage.server_tool_use).toEqual({ web_search_requests: 1, web_fetch_requests: 0 });
    expect((await read('tool-use')).body).toContain('"partial_json":""}');
    expect((await read('parallel-tool-use')).message.content.map((b) => b.type)).toEqual(['text', 'tool_use', 'tool_use']);
    expect((await read('redacted-thinking')).message.content.map((b) => b.type)).toEqual(['thinking', 'redacted_thinking', 'text']);
    expect((await read('pause-turn')).message.stop_reason).toBe('pause_turn');
    expect((await read('refusal')).message.stop_details).toEqual({
      type: 'refusal', category: 'cyber', explanation: 'The request asks for working malware.',
    });
    expect((await read('unknown-block')).message.content[1]).toEqual({ type: 'future_block', foo: 1 });
  });

  it('error-mid-stream.sse rejects finalMessage() with an overloaded_error APIError and has no message_stop', async () => {
    const body = await readFile(new URL('error-mid-stream.sse', FIXTURE_DIR), 'utf8');
    expect(body).not.toContain('message_stop');
    const error = await replay(body).messages.stream({ model: 'm', max_tokens: 1, messages: [] }).finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).type).toBe('overloaded_error');
  });
});
