import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstreamClient } from '../src/worker/upstream-client.js';
import { createWorker } from '../src/worker/create-worker.js';
import { createLogger } from '../src/shared/logger.js';
import { readSse } from './support/sse.js';
import { eventually, getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// A queued job is cancelled without any upstream call, even when a worker picks it up later.
describe('cancelling a queued job', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'cancel-queued', workers: 0 });
  });
  afterAll(async () => {
    await sys.close();
  });

  it('ends cancelled at once, and no worker ever calls the upstream for it', async () => {
    const { json } = await submitJob(sys.url, {
      max_tokens: 50,
      messages: [{ role: 'user', content: simPrompt({ tokens: 5, tag: 'never' }) }],
    });
    const id = String(json['id']);
    const res = await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(200);
    const record = (await res.json()) as Record<string, unknown>;
    expect(record).toMatchObject({ status: 'cancelled', attempt: 0, text: '', partial: true });
    expect(record['cancel_requested_at']).not.toBeNull();
    const view = await readSse(`${sys.url}/v1/jobs/${id}/events`);
    expect(view.events.map((e) => e.event)).toEqual(['status', 'done']);
    expect(JSON.parse(view.events[1]?.data ?? '{}')).toMatchObject({ status: 'cancelled', error: { type: 'cancelled' } });

    // A worker now takes the queued BullMQ job: it must see the job ended and not call upstream.
    const worker = await createWorker({
      config: sys.config,
      logger: createLogger('silent', 'test'),
      client: createUpstreamClient({ apiKey: 'k', baseUrl: sys.sim.url }),
    });
    try {
      const { json: next } = await submitJob(sys.url, { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ tokens: 2 }) }] });
      // The later job completing proves the worker has passed the cancelled one in the queue.
      await eventually(async () => ((await getRecord(sys.url, String(next['id'])))['status'] === 'completed' ? true : undefined));
      expect(sys.sim.requests.filter((r) => r.tag === 'never')).toHaveLength(0);
      expect((await getRecord(sys.url, id))['status']).toBe('cancelled');
    } finally {
      await worker.close(1000);
    }
  });
});
