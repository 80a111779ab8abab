import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SIM_MODEL, simRequest, useSimulatorClient } from './support/simulator-client.js';

const ctx = useSimulatorClient();

interface Frame { event: string | undefined; data: { type: string; [k: string]: unknown }; raw: string }

/** Splits an SSE body into frames, strictly: every frame must be exactly an event line and a data line. */
function parseFrames(body: string): Frame[] {
  expect(body.endsWith('\n\n')).toBe(true);
  return body.slice(0, -2).split('\n\n').map((raw) => {
    const match = /^event: ([a-z_]+)\ndata: (.*)$/.exec(raw);
    expect(match, `malformed frame: ${JSON.stringify(raw)}`).not.toBeNull();
    return { event: match?.[1], data: JSON.parse(match?.[2] ?? 'null') as Frame['data'], raw };
  });
}

async function rawStream(directive: object, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${ctx.sim.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ ...simRequest(directive, extra), stream: true }),
  });
  return { res, frames: parseFrames(await res.text()) };
}

describe('simulator wire format: raw SSE', () => {
  it('sends the exact event order, data.type == event, and the real shapes and headers', async () => {
    const { res, frames } = await rawStream({ text: 'Hello there, world', tag: 'raw-order' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('request-id')).toMatch(/^req_\w+$/);

    const names = frames.map((f) => f.event);
    expect(names.join(' ')).toMatch(
      /^message_start content_block_start ping (content_block_delta )+content_block_stop message_delta message_stop$/,
    );
    for (const f of frames) expect(f.data.type).toBe(f.event);

    expect(frames[0]?.data['message']).toEqual({
      id: expect.stringMatching(/^msg_\w+$/),
      type: 'message',
      role: 'assistant',
      content: [],
      model: SIM_MODEL,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: expect.any(Number), output_tokens: 1 },
    });
    expect(frames[1]?.data).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    const deltas = frames.filter((f) => f.event === 'content_block_delta');
    expect(deltas.map((f) => f.data['delta'])).toEqual([
      { type: 'text_delta', text: 'Hello' },
      { type: 'text_delta', text: ' there,' },
      { type: 'text_delta', text: ' world' },
    ]);
    expect(deltas.every((f) => f.data['index'] === 0)).toBe(true);
    expect(frames.at(-3)?.data).toEqual({ type: 'content_block_stop', index: 0 });
    expect(frames.at(-2)?.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: deltas.length },
    });
    expect(frames.at(-1)?.data).toEqual({ type: 'message_stop' });

    const record = ctx.sim.requests.find((r) => r.tag === 'raw-order');
    expect(record).toMatchObject({ outcome: 'completed', deltasSent: 3, n: 1, id: res.headers.get('request-id') });
  });

  it('generates deterministic text of `tokens` deltas, numeric chunks cutting by code point', async () => {
    const a = await rawStream({ tokens: 7 });
    const b = await rawStream({ tokens: 7 });
    const texts = (frames: Frame[]) =>
      frames.filter((f) => f.event === 'content_block_delta').map((f) => (f.data['delta'] as { text: string }).text);
    expect(texts(a.frames)).toHaveLength(7);
    expect(texts(a.frames)).toEqual(texts(b.frames));
    const c = await rawStream({ text: 'ab😀cd', chunk: 2 });
    expect(texts(c.frames)).toEqual(['ab', '😀c', 'd']);
  });

  it('pings after content_block_start and then every ping_ms while streaming', async () => {
    const { frames } = await rawStream({ tokens: 2, ttft_ms: 250, ping_ms: 10 });
    const names = frames.map((f) => f.event);
    expect(names.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    const beforeFirstDelta = names.slice(0, names.indexOf('content_block_delta'));
    expect(beforeFirstDelta.filter((n) => n === 'ping').length).toBeGreaterThan(1);
  });
});

describe('simulator wire format: through the real SDK', () => {
  it('messages.stream() → finalMessage() carries the directive text', async () => {
    const stream = ctx.client.messages.stream(simRequest({ text: 'The quick brown fox.' }));
    let seen = '';
    stream.on('text', (delta) => (seen += delta));
    const message = await stream.finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'The quick brown fox.' }]);
    expect(seen).toBe('The quick brown fox.');
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.output_tokens).toBe(4);
    expect(stream.request_id).toMatch(/^req_/);
  });

  it('messages.create({stream: true}) yields the events in order', async () => {
    const events = await ctx.client.messages.create({ ...simRequest({ text: 'one two three' }), stream: true });
    const types: string[] = [];
    let text = '';
    for await (const event of events) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    }
    expect(text).toBe('one two three');
    expect(types).toEqual([
      'message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta',
      'content_block_stop', 'message_delta', 'message_stop',
    ]);
  });

  it('non-streaming messages.create returns the complete Message', async () => {
    const { data: message, response } = await ctx.client.messages.create(simRequest({ text: 'Plain answer.' })).withResponse();
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: SIM_MODEL,
      content: [{ type: 'text', text: 'Plain answer.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { output_tokens: 2 },
    });
    expect(message.id).toMatch(/^msg_/);
  });

  it('stops at max_tokens with output_tokens == max_tokens, streaming and not', async () => {
    const params = simRequest({ text: 'a b c d e f g h' }, { max_tokens: 5 });
    const streamed = await ctx.client.messages.stream(params).finalMessage();
    const plain = await ctx.client.messages.create(params);
    for (const m of [streamed, plain]) {
      expect(m.stop_reason).toBe('max_tokens');
      expect(m.usage.output_tokens).toBe(5);
      expect(m.content).toEqual([{ type: 'text', text: 'a b c d e' }]);
    }
  });

  it('stops before a stop sequence and names it', async () => {
    const params = simRequest({ text: 'alpha beta STOP gamma' }, { stop_sequences: ['never', 'STOP'] });
    const streamed = await ctx.client.messages.stream(params).finalMessage();
    const plain = await ctx.client.messages.create(params);
    for (const m of [streamed, plain]) {
      expect(m.stop_reason).toBe('stop_sequence');
      expect(m.stop_sequence).toBe('STOP');
      expect(m.content).toEqual([{ type: 'text', text: 'alpha beta ' }]);
    }
  });

  it('emits a thinking block (deltas, signature) at index 0 before the text block at index 1', async () => {
    const params = simRequest({ text: 'Answer.' }, { thinking: { type: 'enabled', budget_tokens: 1024 }, max_tokens: 2048 });
    const events = await ctx.client.messages.create({ ...params, stream: true });
    const trace: string[] = [];
    for await (const e of events) {
      if (e.type === 'content_block_start') trace.push(`start:${e.index}:${e.content_block.type}`);
      else if (e.type === 'content_block_delta') trace.push(`delta:${e.index}:${e.delta.type}`);
      else if (e.type === 'content_block_stop') trace.push(`stop:${e.index}`);
    }
    expect(trace.join(' ')).toMatch(
      /^start:0:thinking (delta:0:thinking_delta )+delta:0:signature_delta stop:0 start:1:text delta:1:text_delta stop:1$/,
    );
    const message = await ctx.client.messages.stream(params).finalMessage();
    expect(message.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const thinking = message.content[0];
    expect(thinking?.type === 'thinking' && thinking.thinking.length > 0 && thinking.signature.length > 0).toBe(true);
    expect(message.content[1]).toEqual({ type: 'text', text: 'Answer.' });
  });

  it('split_utf8 frames cut inside characters arrive intact through the SDK', async () => {
    const text = 'héllo 🌍 世界 👩‍👩‍👧 done';
    const message = await ctx.client.messages.stream(simRequest({ text, chunk: 1, split_utf8: true })).finalMessage();
    expect(message.content).toEqual([{ type: 'text', text }]);
    expect(message.usage.output_tokens).toBe([...text].length);

    // Prove the fault is real: some read of the raw body ends inside a multi-byte character.
    const chunks = await rawChunks(JSON.stringify({ ...simRequest({ text, chunk: 1, split_utf8: true }), stream: true }));
    expect(chunks.some((c) => endsMidCharacter(c))).toBe(true);
    expect(Buffer.concat(chunks).toString('utf8')).toContain('"text":"🌍"');
  });
});

function rawChunks(body: string): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const url = new URL('/v1/messages', ctx.sim.url);
    const req = httpRequest(url, { method: 'POST', headers: { 'x-api-key': 'test', 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(chunks));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** True when the chunk's last bytes are an incomplete UTF-8 sequence. */
function endsMidCharacter(chunk: Buffer): boolean {
  for (let back = 1; back <= Math.min(4, chunk.length); back++) {
    const byte = chunk[chunk.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue;
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back;
  }
  return false;
}
