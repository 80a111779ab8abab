import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { SIM_MODEL, simRequest, useSimulatorClient } from './support/simulator-client.js';

const ctx = useSimulatorClient();

type Params = Anthropic.MessageCreateParamsNonStreaming;
const directive = (d: object) => `<<sim ${JSON.stringify(d)}>>`;
const user = (content: unknown) => ({ role: 'user', content });
const assistant = (content: unknown) => ({ role: 'assistant', content });

/** A non-streaming request through the SDK (API version 2026-10-21), untyped so any body can be sent. */
const send = (body: Record<string, unknown>, client: Anthropic = ctx.client) =>
  client.messages.create({ model: SIM_MODEL, max_tokens: 1024, ...body } as unknown as Params);
/** The 400's message, or 'ok' when the request was answered. */
const outcome = async (body: Record<string, unknown>, client?: Anthropic): Promise<string> => {
  try {
    await send(body, client);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as APIError).type).toBe('invalid_request_error');
    return (error as APIError).apiMessage ?? '';
  }
};
/** A client that sends `anthropic-version: 2023-06-01`, like a 0.x SDK. */
const oldVersion = () =>
  new Anthropic({ apiKey: 'k', baseURL: ctx.sim.url, maxRetries: 0, defaultHeaders: { 'anthropic-version': '2023-06-01' } });

describe('simulator validation: API version 2026-10-21', () => {
  it('refuses temperature, top_p and top_k (any value, even 1.0), naming the field; 2023-06-01 accepts them', async () => {
    const base = { messages: [user('hi')] };
    expect(await outcome({ ...base, temperature: 1.0 })).toBe('temperature: Extra inputs are not permitted');
    expect(await outcome({ ...base, top_p: 0.9 })).toBe('top_p: Extra inputs are not permitted');
    expect(await outcome({ ...base, top_k: 5 })).toBe('top_k: Extra inputs are not permitted');
    expect(await outcome({ ...base, temperature: 0.5, top_p: 0.9 }, oldVersion())).toBe('ok');
    const record = ctx.sim.requests.at(-2);
    expect(record?.headers['anthropic-version']).toBe('2026-10-21');
    expect(record).toMatchObject({ status: 400, outcome: 'rejected' });
  });

  it('refuses a document block in an assistant message and citations on a user text block', async () => {
    const doc = { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' } };
    const withDoc = { messages: [user('hi'), assistant([doc]), user('go on')] };
    expect(await outcome(withDoc)).toMatch(/^messages\.1\.content\.0: .*`document`.*`assistant`/);
    expect(await outcome(withDoc, oldVersion())).toBe('ok');
    const cite = { type: 'char_location', cited_text: 'x', document_index: 0, document_title: null, start_char_index: 0, end_char_index: 1 };
    const cited = { messages: [user([{ type: 'text', text: 'hi', citations: [cite] }])] };
    expect(await outcome(cited)).toMatch(/^messages\.0\.content\.0: .*`citations`/);
    expect(await outcome({ messages: [user([{ type: 'text', text: 'hi', citations: [] }])] })).toBe('ok');
    expect(await outcome(cited, oldVersion())).toBe('ok');
  });
});

describe('simulator validation: conversations', () => {
  const toolUse = (id: string) => ({ type: 'tool_use', id, name: 'get_weather', input: { city: 'Oslo' } });
  const toolResult = (id: string, content: unknown = 'Sunny') => ({ type: 'tool_result', tool_use_id: id, content });

  it('every tool_use needs a tool_result in the next message, and every tool_result a tool_use', async () => {
    expect(await outcome({ messages: [user('hi'), assistant([toolUse('toolu_01A'), toolUse('toolu_01B')]), user([toolResult('toolu_01A')])] }))
      .toBe(
        'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_01B. ' +
        'Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
      );
    expect(await outcome({ messages: [user('hi'), assistant([toolUse('toolu_01A')]), user('no result')] })).toMatch(/^messages\.1: `tool_use` ids/);
    expect(await outcome({ messages: [user('hi'), assistant([toolUse('toolu_01A')])] })).toMatch(/^messages\.1: `tool_use` ids/);
    expect(await outcome({ messages: [user('hi'), assistant([toolUse('toolu_01A')]), user([toolResult('toolu_01A'), toolResult('toolu_01Z')])] }))
      .toBe(
        'messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_01Z. ' +
        'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
      );
  });

  it('consecutive messages with the same role are combined, as the API does', async () => {
    const messages = [
      user('hi'), user('there'),
      assistant('Let me check.'), assistant([toolUse('toolu_01A')]),
      user([toolResult('toolu_01A')]), user('thanks'),
    ];
    expect(await outcome({ messages })).toBe('ok');
  });

  it('a tool_result carries the next turn\'s directive, round-tripped through the SDK', async () => {
    const ask = simRequest({
      blocks: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', name: 'get_weather', input: { city: 'Oslo' } }],
    });
    const first = await ctx.client.messages.stream(ask).finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const call = first.content[1];
    if (call?.type !== 'tool_use') throw new Error('expected a tool_use');
    const next = directive({ text: 'It is sunny in Oslo.', tag: 'turn-2' });
    const history: Anthropic.MessageParam[] = [
      ...ask.messages,
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: [{ type: 'text', text: `Sunny ${next}` }] }] },
    ];
    const second = await ctx.client.messages.stream({ model: SIM_MODEL, max_tokens: 1024, messages: history }).finalMessage();
    expect(second.content).toEqual([{ type: 'text', text: 'It is sunny in Oslo.' }]);
    expect(second.stop_reason).toBe('end_turn');
    expect(ctx.sim.requests.find((r) => r.tag === 'turn-2')?.status).toBe(200);
  });

  it('thinking blocks must come back with the signature issued for exactly their text', async () => {
    const thinking = 'Weigh both options, then pick one.';
    const turn = await ctx.client.messages.stream(simRequest({ blocks: [{ type: 'thinking', thinking }, { type: 'text', text: 'B.' }] })).finalMessage();
    const back = (content: unknown) => ({ messages: [user('q'), assistant(content), user('and now?')] });
    expect(await outcome(back(turn.content))).toBe('ok');
    const block = turn.content[0] as Anthropic.ThinkingBlock;
    expect(await outcome(back([{ ...block, thinking: `${thinking} ` }, turn.content[1]]))).toBe(
      'messages.1.content.0: Invalid `signature` in `thinking` block',
    );
    const tampered = `${block.signature.startsWith('A') ? 'B' : 'A'}${block.signature.slice(1)}`;
    expect(await outcome(back([{ ...block, signature: tampered }]))).toMatch(/Invalid `signature`/);
    expect(await outcome(back([{ type: 'thinking', thinking, signature: '' }]))).toMatch(/Invalid `signature`/);
    // A directive-given signature is remembered for its text.
    const given = await ctx.client.messages.create(simRequest({ blocks: [{ type: 'thinking', thinking: 'x y', signature: 'EsigGiven==' }] }));
    expect(await outcome(back(given.content))).toBe('ok');
    // So is the thinking block of a plain thinking request.
    const plain = await ctx.client.messages.create(simRequest({ text: 'ok' }, { thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 2048 }));
    expect(plain.content[0]?.type).toBe('thinking');
    expect(await outcome(back(plain.content))).toBe('ok');
  });

  it('redacted_thinking data must be data the simulator issued', async () => {
    const issued = await ctx.client.messages.create(simRequest({
      blocks: [{ type: 'redacted_thinking' }, { type: 'redacted_thinking', data: 'EmwKGivenData' }, { type: 'text', text: 'ok' }],
    }));
    const back = (content: unknown) => ({ messages: [user('q'), assistant(content), user('more')] });
    expect(await outcome(back(issued.content))).toBe('ok');
    expect(await outcome(back([{ type: 'redacted_thinking', data: 'EmwKForged' }]))).toBe(
      'messages.1.content.0: Invalid `data` in `redacted_thinking` block',
    );
  });

  it('cache_control on a thinking or redacted_thinking block is refused', async () => {
    const turn = await ctx.client.messages.create(simRequest({ blocks: [{ type: 'thinking', thinking: 't' }, { type: 'text', text: 'a' }] }));
    const marked = [{ ...turn.content[0], cache_control: { type: 'ephemeral' } }, turn.content[1]];
    expect(await outcome({ messages: [user('q'), assistant(marked), user('more')] })).toBe(
      'messages.1.content.0.thinking.cache_control: Extra inputs are not permitted',
    );
  });
});

describe('simulator records', () => {
  it('keep the raw request body, byte for byte, and the tag of a refused request', async () => {
    const raw = `{ "model": "${SIM_MODEL}",  "max_tokens": 5, "temperature": 1,\n "messages": [{"role": "user", "content": "é ${directive({ tag: 'raw' }).replaceAll('"', '\\"')}"}] }`;
    const res = await fetch(`${ctx.sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2026-10-21' },
      body: raw,
    });
    expect(res.status).toBe(400);
    const record = ctx.sim.requests.find((r) => r.tag === 'raw');
    expect(record?.raw).toBe(raw);
    expect(record).toMatchObject({ outcome: 'rejected', status: 400, n: 0 });
    const listed = (await (await fetch(`${ctx.sim.url}/_sim/requests?tag=raw`)).json()) as { raw: string }[];
    expect(listed[0]?.raw).toBe(raw);
  });
});
