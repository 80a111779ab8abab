import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, startSimulator, type Simulator } from '../src/simulator/index.js';
import { SIM_MODEL } from './support/simulator-client.js';

let sim: Simulator;
let client: Anthropic;
let clock = Date.parse('2026-12-01T10:00:00Z');
beforeAll(async () => {
  sim = await startSimulator({ defaults: { ttft_ms: 1, tps: 1e6 }, cacheMinTokens: 50, now: () => clock });
  client = new Anthropic({ apiKey: 'k', baseURL: sim.url, maxRetries: 0 });
});
afterAll(async () => {
  await sim.close();
});

const ephemeral = { type: 'ephemeral' as const };
const tool = {
  name: 'lookup', description: 'Looks things up. '.repeat(20), input_schema: { type: 'object' as const, properties: {} },
  cache_control: ephemeral,
};
const system = (text: string, ttl?: '5m' | '1h') => [{ type: 'text' as const, text, cache_control: { ...ephemeral, ...(ttl ? { ttl } : {}) } }];
const ask = (text: string) => ({ role: 'user' as const, content: `${text} <<sim {"text":"ok"}>>` });
type Params = Anthropic.MessageStreamParams;
const params = (extra: Partial<Params>): Params => ({ model: SIM_MODEL, max_tokens: 64, messages: [ask('hi')], ...extra });

/** Usage of one streamed request, as the SDK accumulates it, checked against message_start's. */
async function usage(p: Params) {
  const stream = client.messages.stream(p);
  let start: Anthropic.Usage | undefined;
  stream.on('streamEvent', (e) => {
    if (e.type === 'message_start') start = { ...e.message.usage };
  });
  const message = await stream.finalMessage();
  const { input_tokens, cache_creation_input_tokens, cache_read_input_tokens } = message.usage;
  expect(start).toMatchObject({ input_tokens, cache_creation_input_tokens, cache_read_input_tokens, output_tokens: 1, service_tier: 'standard' });
  return { input: input_tokens, creation: cache_creation_input_tokens ?? -1, read: cache_read_input_tokens ?? -1 };
}

const longText = (word: string) => `${word} `.repeat(150);

describe('simulator prompt cache', () => {
  it('a breakpoint writes its prefix; the same prefix is read the next time, the rest is input', async () => {
    const sys = system(longText('policy'));
    const first = await usage(params({ system: sys }));
    expect(first.read).toBe(0);
    // Tokens: a quarter of the canonical JSON of everything up to the breakpoint, then the rest.
    const unit = (block: unknown, wrapper: object) => canonicalJson({ ...wrapper, block }).length;
    const prefix = unit(sys[0], { at: 'system' });
    const all = prefix + unit({ type: 'text', text: ask('hi').content }, { at: 'messages', message: 0, role: 'user' });
    expect(first).toEqual({ read: 0, creation: Math.ceil(prefix / 4), input: Math.ceil(all / 4) - Math.ceil(prefix / 4) });
    const second = await usage(params({ system: sys, messages: [ask('a different question')] }));
    expect(second.read).toBe(first.creation);
    expect(second.creation).toBe(0);
    const plain = await client.messages.create(params({ system: sys }) as Anthropic.MessageCreateParamsNonStreaming);
    expect(plain.usage).toMatchObject({ cache_read_input_tokens: first.creation, cache_creation_input_tokens: 0, input_tokens: first.input });
  });

  it('one breakpoint at the end of each turn reads the turn before (the API looks back about 20 blocks)', async () => {
    const turn = (n: number) => ({ role: 'user' as const, content: [{ type: 'text' as const, text: `${longText(`turn${n}`)} <<sim {"text":"ok"}>>` }] });
    const mark = (m: ReturnType<typeof turn>) => ({ ...m, content: m.content.map((b) => ({ ...b, cache_control: ephemeral })) });
    const answer = { role: 'assistant' as const, content: [{ type: 'text' as const, text: 'ok' }] };
    const one = await usage(params({ messages: [mark(turn(1))] }));
    expect(one).toMatchObject({ read: 0, creation: expect.any(Number) });
    const two = await usage(params({ messages: [turn(1), answer, mark(turn(2))] }));
    expect(two.read).toBe(one.creation);
    expect(two.creation).toBeGreaterThan(0);
    const three = await usage(params({ messages: [turn(1), answer, turn(2), answer, mark(turn(3))] }));
    expect(three.read).toBe(one.creation + two.creation);
    // Further back than the lookback, nothing is found.
    const far = Array.from({ length: 24 }, () => answer);
    const miss = await usage(params({ messages: [turn(1), answer, turn(2), ...far, mark(turn(4))] }));
    expect(miss.read).toBe(0);
  });

  it('reads the longest cached prefix and writes the later breakpoints (tools, system, messages order)', async () => {
    const sys = system(longText('rules'));
    const turn = (text: string) => [{ role: 'user' as const, content: [{ type: 'text' as const, text: `${longText(text)} <<sim {"text":"ok"}>>`, cache_control: ephemeral }] }];
    const first = await usage(params({ tools: [tool], system: sys, messages: turn('alpha') }));
    expect(first.read).toBe(0);
    const again = await usage(params({ tools: [tool], system: sys, messages: turn('alpha') }));
    expect(again).toEqual({ read: first.creation, creation: 0, input: first.input });
    const changedLast = await usage(params({ tools: [tool], system: sys, messages: turn('gamma') }));
    expect(changedLast.read).toBeGreaterThan(0);
    expect(changedLast.read).toBeLessThan(first.creation);
    expect(changedLast.read + changedLast.creation).toBe(first.creation);
    const changedSystem = await usage(params({ tools: [tool], system: system(longText('other')), messages: turn('gamma') }));
    expect(changedSystem.read).toBeGreaterThan(0); // the tools prefix still hits
    expect(changedSystem.read).toBeLessThan(changedLast.read);
    const otherModel = await usage(params({ model: 'claude-opus-4-8', tools: [tool], system: sys, messages: turn('alpha') }));
    expect(otherModel.read).toBe(0);
  });

  it('entries live 5 minutes, or an hour with ttl 1h, and a hit refreshes them', async () => {
    const five = system(longText('five'));
    const hour = system(longText('hour'), '1h');
    expect((await usage(params({ system: five }))).read).toBe(0);
    expect((await usage(params({ system: hour }))).read).toBe(0);
    clock += 4 * 60_000;
    expect((await usage(params({ system: five }))).read).toBeGreaterThan(0); // hit at 4 min: refreshed
    clock += 4 * 60_000;
    expect((await usage(params({ system: five }))).read).toBeGreaterThan(0); // 8 min after writing, 4 after the hit
    clock += 5 * 60_000 + 1;
    expect((await usage(params({ system: five }))).read).toBe(0); // expired, written again
    expect((await usage(params({ system: hour }))).read).toBeGreaterThan(0); // 13 min: the hour entry lives
    clock += 61 * 60_000;
    expect((await usage(params({ system: hour }))).read).toBe(0);
  });

  it('a prefix under cacheMinTokens is neither written nor read, yet usage reports every counter', async () => {
    const short = system('short');
    const first = await usage(params({ system: short }));
    const second = await usage(params({ system: short }));
    expect(first).toEqual({ read: 0, creation: 0, input: first.input });
    expect(second).toEqual(first);
  });

  it('refuses more than 4 breakpoints, as the API does', async () => {
    const blocks = Array.from({ length: 5 }, (_, i) => ({ type: 'text' as const, text: `part ${i}`, cache_control: ephemeral }));
    const error = await client.messages.create(params({ system: blocks }) as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as APIError).apiMessage).toBe('A maximum of 4 blocks with cache_control may be provided. Found 5.');
  });

  it('without breakpoints a plain answer keeps its original usage shape', async () => {
    const message = await client.messages.stream(params({})).finalMessage();
    expect(message.usage).toEqual({ input_tokens: expect.any(Number), output_tokens: 1 });
  });
});
