import Anthropic from '@anthropic-ai/sdk';
import { createParser } from 'eventsource-parser';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { foldContent, type FoldEvent } from '../src/shared/fold-content.js';
import { createStreamTranslator, type TranslationSink } from '../src/worker/translate-stream.js';

// The one translator (SDK raw stream events → genrelay events) and the one fold (events → content),
// from the recorded fixtures of every block type: folding what the translator makes gives exactly
// the message the SDK itself accumulates from the same bytes, and nothing the upstream sent is lost.

const dir = new URL('./fixtures/sse/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.sse')).sort();

/** The raw stream events of a fixture, as `messages.create({stream: true})` yields them, and its error if any. */
function rawEvents(body: string): { events: Anthropic.RawMessageStreamEvent[]; error: string | undefined } {
  const events: Anthropic.RawMessageStreamEvent[] = [];
  let error: string | undefined;
  const parser = createParser({
    onEvent(message) {
      if (message.event === 'ping') return;
      if (message.event === 'error') error = (JSON.parse(message.data) as { error: { type: string } }).error.type;
      else if (error === undefined) events.push(JSON.parse(message.data) as Anthropic.RawMessageStreamEvent);
    },
  });
  parser.feed(body);
  return { events, error };
}

/**
 * A sink that records what the event writer would write: string pieces merged while they are of the
 * same kind and block (as the writer merges what waits for one write), whole events as they come.
 */
function recordingSink() {
  const events: FoldEvent[] = [];
  const fields: Record<string, string | number> = {};
  const piece = (type: string, index: number, key: 'text' | 'partial_json', text: string) => {
    const last = events.at(-1) as { type: string; data: Record<string, unknown> } | undefined;
    if (last?.type === type && last.data['index'] === index) last.data[key] = `${String(last.data[key])}${text}`;
    else events.push({ type, data: { index, [key]: text } });
  };
  const sink: TranslationSink = {
    text: (index, text) => piece('delta', index, 'text', text),
    thinking: (index, text) => piece('thinking', index, 'text', text),
    toolInput: (index, text) => piece('tool_input', index, 'partial_json', text),
    event: (type, data) => void events.push({ type, data: JSON.parse(data) as unknown }),
    fields: (values) => void Object.assign(fields, values),
  };
  return { sink, events, fields };
}

/** What the SDK accumulates from the fixture's bytes (`messages.stream` → `finalMessage`). */
async function sdkMessage(body: string): Promise<Anthropic.Message> {
  const client = new Anthropic({
    apiKey: 'k',
    fetch: async () => new Response(body, { headers: { 'content-type': 'text/event-stream; charset=utf-8' } }),
  });
  return client.messages.stream({ model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
}

describe('the stream translator and the content fold, on every recorded fixture', () => {
  it('has fixtures of every block type to run on', () => {
    for (const name of ['text', 'text-citations', 'thinking-signature', 'redacted-thinking', 'tool-use', 'parallel-tool-use', 'server-tool-web-search', 'max-tokens-mid-tool-input', 'pause-turn', 'refusal', 'error-mid-stream', 'unknown-block']) {
      expect(fixtures).toContain(`${name}.sse`);
    }
  });

  for (const file of fixtures) {
    it(`${file}: the fold of the translated events is the message the SDK builds, nothing dropped`, async () => {
      const body = readFileSync(new URL(file, dir), 'utf8');
      const { events: raw, error } = rawEvents(body);
      const { sink, events, fields } = recordingSink();
      const translator = createStreamTranslator(sink);
      for (const event of raw) translator.translate(event);
      const content = foldContent(events);

      // Every event of a block carries its index.
      for (const e of events) expect(typeof (e.data as { index?: unknown }).index).toBe('number');
      // Every tool input piece the upstream sent, in order.
      const sentJson = raw.flatMap((e) => (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta' ? [[e.index, e.delta.partial_json] as const] : []));
      for (const index of new Set(sentJson.map(([i]) => i))) {
        const whole = sentJson.filter(([i]) => i === index).map(([, j]) => j).join('');
        const got = events.filter((e) => e.type === 'tool_input' && (e.data as { index: number }).index === index).map((e) => (e.data as { partial_json: string }).partial_json).join('');
        expect(got).toBe(whole);
      }
      // Every usage counter the upstream reported reaches the record's fields.
      const start = raw.find((e) => e.type === 'message_start');
      if (start?.type === 'message_start') {
        const more = JSON.parse(String(fields['usage_more'] ?? '{}')) as Record<string, unknown>;
        for (const [key, value] of Object.entries(start.message.usage)) {
          if (value === null || key === 'input_tokens' || key === 'output_tokens') continue;
          expect(more[key], key).toBeDefined();
        }
      }

      if (error !== undefined) {
        // A stream cut by an error event: what came before it is kept, unfinished blocks marked.
        expect(translator.sawStop).toBe(false);
        expect(content.length).toBeGreaterThan(0);
        expect(content.at(-1)?.incomplete).toBe(true);
        return;
      }
      expect(translator.sawStop).toBe(true);
      const message = await sdkMessage(body);
      expect(fields['stop_reason']).toBe(message.stop_reason);
      expect(fields['output_tokens']).toBe(message.usage.output_tokens);
      if (message.stop_details !== null && message.stop_details !== undefined) expect(JSON.parse(String(fields['stop_details']))).toEqual(message.stop_details);
      expect(content).toHaveLength(message.content.length);
      for (const [i, block] of message.content.entries()) {
        const folded = content[i] as Record<string, unknown>;
        if (folded['incomplete'] === true) {
          // The SDK guesses an input from truncated JSON; the record keeps only the raw text, never a guess.
          expect(block.type).toBe('tool_use');
          expect(folded['partial_json']).toBe(sentJson.filter(([j]) => j === i).map(([, j]) => j).join(''));
          expect(folded['input']).toBeUndefined();
          expect(String(folded['input_error'])).toMatch(/not valid JSON/);
          const { input: _input, ...rest } = block as unknown as Record<string, unknown>;
          expect({ ...folded, partial_json: undefined, input_error: undefined, incomplete: undefined }).toEqual({ ...rest, partial_json: undefined, input_error: undefined, incomplete: undefined });
        } else {
          expect(folded).toEqual({ ...block });
        }
      }
    });
  }
});

describe('the content fold', () => {
  it('keeps only the final attempt after a reset, and marks what the job ended inside of as incomplete', () => {
    const content = foldContent([
      { type: 'block_start', data: { index: 0, block: { type: 'text', text: '' } } },
      { type: 'delta', data: { index: 0, text: 'first attempt' } },
      { type: 'reset', data: { attempt: 2, reason: 'dropped' } },
      { type: 'block_start', data: { index: 0, block: { type: 'thinking', thinking: '', signature: '' } } },
      { type: 'thinking', data: { index: 0, text: 'hmm' } },
      { type: 'block_stop', data: { index: 0, block: { type: 'thinking', signature: 'sig' } } },
      { type: 'block_start', data: { index: 1, block: { type: 'tool_use', id: 'toolu_1', name: 'f' } } },
      { type: 'tool_input', data: { index: 1, partial_json: '{"a":' } },
    ]);
    expect(content).toEqual([
      { type: 'thinking', thinking: 'hmm', signature: 'sig' },
      { type: 'tool_use', id: 'toolu_1', name: 'f', partial_json: '{"a":', incomplete: true },
    ]);
  });

  it('reads logs written before content blocks (no index): one thinking and one text block, finished by done', () => {
    expect(
      foldContent([
        { type: 'status', data: { status: 'running', attempt: 1 } },
        { type: 'thinking', data: { text: 'a' } },
        { type: 'delta', data: { text: 'b' } },
        { type: 'delta', data: { text: 'c' } },
        { type: 'done', data: {} },
      ]),
    ).toEqual([
      { type: 'thinking', thinking: 'a', signature: '' },
      { type: 'text', text: 'bc' },
    ]);
  });
});
