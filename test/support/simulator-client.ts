import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';

/** The model the simulator tests name (the simulator accepts any `claude…`). */
export const SIM_MODEL = 'claude-sonnet-4-6';

/** A Messages request whose prompt carries `directive`; `extra` adds or overrides parameters. */
export function simRequest(directive: object, extra: Record<string, unknown> = {}) {
  return {
    model: SIM_MODEL,
    max_tokens: 1024,
    messages: [{ role: 'user' as const, content: `Say something. <<sim ${JSON.stringify(directive)}>>` }],
    ...extra,
  };
}

/**
 * One simulator for the test file (fast defaults: TTFT 5 ms, 1,000 tokens/s) and a real SDK client on
 * it without retries; both are set in `beforeAll` and the simulator is closed in `afterAll`.
 */
export function useSimulatorClient(): { readonly sim: Simulator; readonly client: Anthropic } {
  const ctx = {} as { sim: Simulator; client: Anthropic };
  beforeAll(async () => {
    ctx.sim = await startSimulator({ defaults: { ttft_ms: 5, tps: 1000 } });
    ctx.client = new Anthropic({ apiKey: 'test', baseURL: ctx.sim.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await ctx.sim.close();
  });
  return ctx;
}
