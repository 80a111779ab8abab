import { describe, expect, it } from 'vitest';
import { startNpm } from './support/processes.js';
import { redisUrl, uniquePrefix } from './support/redis.js';

// `npm run start:worker` alone has no simulated upstream of its own (only `npm start` does): without
// a key or ANTHROPIC_BASE_URL it must refuse to start and say what to set, rather than start, take
// jobs and fail them, or leave them queued behind a /readyz that says ready.
describe('a worker started alone', () => {
  it('without ANTHROPIC_API_KEY or ANTHROPIC_BASE_URL refuses, naming both and the simulator', async () => {
    const p = startNpm('start:worker', { REDIS_URL: redisUrl(), KEY_PREFIX: uniquePrefix('worker-alone') });
    expect(await p.exited).toBe(1);
    const out = p.output();
    expect(out).toMatch(/ANTHROPIC_API_KEY is not set\. A worker needs it \(or ANTHROPIC_BASE_URL pointing at a simulated upstream, e\.g\. `npm run simulator`\)/);
    expect(out).not.toMatch(/worker started|\n\s+at /);
  });

  it('in production, ANTHROPIC_BASE_URL without a key is refused too', async () => {
    const p = startNpm('start:worker', { REDIS_URL: redisUrl(), KEY_PREFIX: uniquePrefix('worker-prod'), NODE_ENV: 'production', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1' });
    expect(await p.exited).toBe(1);
    expect(p.output()).toMatch(/ANTHROPIC_API_KEY is not set/);
  });
});
