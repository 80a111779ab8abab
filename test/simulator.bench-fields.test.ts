import { APIError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { forEachStamp, wallClockMs } from '../src/simulator/index.js';
import { simRequest, useSimulatorClient } from './support/simulator-client.js';

const ctx = useSimulatorClient();

const ask = (directive: object, maxTokens = 1024) => simRequest(directive, { max_tokens: maxTokens });

/** Streams one answer; each text delta with the wall-clock time it was read, plus the final usage. */
async function stream(directive: object, maxTokens?: number) {
  const deltas: { text: string; readAt: number }[] = [];
  let outputTokens = -1;
  let stopReason: string | null = null;
  const events = await ctx.client.messages.create({ ...ask(directive, maxTokens), stream: true });
  for await (const e of events) {
    if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') deltas.push({ text: e.delta.text, readAt: wallClockMs() });
    if (e.type === 'message_delta') {
      outputTokens = e.usage.output_tokens;
      stopReason = e.delta.stop_reason;
    }
  }
  return { deltas, outputTokens, stopReason };
}

describe('simulator benchmark fields', () => {
  it('stamp: true ends every streamed text delta with the wall-clock time of its write', async () => {
    const before = wallClockMs();
    const { deltas } = await stream({ text: 'one two three four', stamp: true, tps: 100 });
    expect(deltas).toHaveLength(4);
    const stamps: number[] = [];
    for (const d of deltas) {
      expect(d.text).toMatch(/^ ?\S+ \u27e8\d+\.\d{3}\u27e9$/u);
      const mine: number[] = [];
      forEachStamp(d.text, (ms) => mine.push(ms));
      expect(mine).toHaveLength(1);
      const ms = mine[0] ?? Number.NaN;
      // Written after the request began and before the SDK read it (same machine, same clock).
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(d.readAt + 1);
      stamps.push(ms);
    }
    // One stamp per write, in write order (the pacing itself is the benchmark's to measure).
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
    expect(deltas.map((d) => d.text.replace(/ \u27e8[^\u27e9]*\u27e9/gu, '')).join('')).toBe('one two three four');
  });

  it('forEachStamp finds every stamp of coalesced deltas, and stamp: false adds none', async () => {
    const found: number[] = [];
    forEachStamp(' a \u27e81795216744469.123\u27e9 b \u27e81795216744470.5\u27e9', (ms) => found.push(ms));
    expect(found).toEqual([1795216744469.123, 1795216744470.5]);
    const { deltas } = await stream({ text: 'plain words' });
    expect(deltas.map((d) => d.text).join('')).toBe('plain words');
  });

  it('tokens_per_delta: k counts k output tokens per text delta in usage and against max_tokens', async () => {
    const full = await stream({ tokens: 6, tokens_per_delta: 5 });
    expect(full.deltas).toHaveLength(6);
    expect(full.outputTokens).toBe(30);
    expect(full.stopReason).toBe('end_turn');
    // 23 tokens buy four whole deltas of five.
    const cut = await stream({ tokens: 6, tokens_per_delta: 5 }, 23);
    expect(cut.deltas).toHaveLength(4);
    expect(cut.outputTokens).toBe(20);
    expect(cut.stopReason).toBe('max_tokens');
    const whole = await ctx.client.messages.create(ask({ tokens: 3, tokens_per_delta: 4 }));
    expect(whole.usage.output_tokens).toBe(12);
    const typo = await ctx.client.messages.create(ask({ tokens_per_delta: 0 })).catch((e: unknown) => e);
    expect((typo as APIError).status).toBe(400);
  });
});
