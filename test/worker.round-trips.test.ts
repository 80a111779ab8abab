import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore, type JobStore } from '../src/shared/job-store.js';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { runAttempt } from '../src/worker/run-attempt.js';
import { createUpstreamClient } from '../src/worker/upstream-client.js';
import { redisUrl, uniquePrefix } from './support/redis.js';
import { startJob } from './support/store.js';
import { simPrompt } from './support/system.js';

// One Redis round trip per published batch: a paced stream (every delta its own batch) costs one
// append per delta, plus the usage of message_start and message_delta, and nothing more.
describe('round trips per batch', () => {
  let redis: Redis;
  let sim: Simulator;
  let store: JobStore;
  beforeAll(async () => {
    redis = new Redis(redisUrl());
    sim = await startSimulator();
    store = createJobStore(redis, { keyPrefix: uniquePrefix('round-trips'), resultTtlS: 600 });
  });
  afterAll(async () => {
    await redis.quit();
    await sim.close();
  });

  it('appends once per delta event', async () => {
    const started = await startJob(store);
    const { id } = started;
    let appends = 0;
    const counting: JobStore = {
      ...store,
      append: (...args) => {
        appends += 1;
        return store.append(...args);
      },
    };
    const result = await runAttempt(
      { client: createUpstreamClient({ apiKey: 'k', baseUrl: sim.url }), store: counting, upstreamIdleTimeoutMs: 30_000, coalesceWindowMs: 0, redisRetryMs: 30_000, shutdownSignal: new AbortController().signal },
      {
        jobId: id,
        writes: started.writes,
        signal: new AbortController().signal,
        params: {
          model: 'claude-x',
          max_tokens: 100,
          stream: true,
          messages: [{ role: 'user', content: simPrompt({ tokens: 20, tps: 50 }) }],
        },
      },
    );
    expect(result.kind).toBe('completed');
    const deltaEvents = (await store.readEvents(id, 0, 100)).filter((e) => e.type === 'delta').length;
    expect(deltaEvents).toBeGreaterThan(10);
    expect(appends).toBeLessThanOrEqual(deltaEvents + 2);
    expect((await store.read(id))?.hash['output_tokens']).toBe('20');
  });
});
