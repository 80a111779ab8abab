import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type NodeProcess } from './support/processes.js';
import { metric, startStalledReader } from './support/stalled-reader.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

const VIEWER_BUFFER = 1_048_576;


// A viewer that stops reading while a long job streams is cut off once it owes VIEWER_BUFFER_BYTES;
// the other viewers get everything, and what the API holds for its viewers stays bounded.
describe('a viewer that stops reading', () => {
  let sys: TestSystem;
  let api: NodeProcess & { url: string };
  beforeAll(async () => {
    sys = await startSystem({ name: 'slow-viewer' });
    api = await startApiProcess({
      REDIS_URL: sys.config.redisUrl,
      KEY_PREFIX: sys.config.keyPrefix,
      VIEWER_BUFFER_BYTES: String(VIEWER_BUFFER),
    });
  });
  afterAll(async () => {
    await api.stop();
    await sys.close();
  });

  it('is disconnected; the others receive everything; buffered bytes stay bounded', async () => {
    // 4,000 deltas of 2,000 characters: 8 MB, beyond the kernel's buffers for the stalled socket
    // (its receive buffer is pinned small; the server's send buffer grows to tcp_wmem's 4 MB at most).
    const tokens = 4000;
    const { json } = await submitJob(sys.url, {
      max_tokens: tokens,
      messages: [{ role: 'user', content: simPrompt({ tokens, chunk: 2000, tps: 1000 }) }],
    });
    const id = String(json['id']);
    const slow = startStalledReader(new URL(`${api.url}/v1/jobs/${id}/events`));
    await slow.connected;
    let peakBuffered = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const text = await (await fetch(`${api.url}/metrics`)).text();
        peakBuffered = Math.max(peakBuffered, metric(text, 'genrelay_viewer_buffered_bytes{transport="sse"}'));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const fast = await Promise.all([readSse(`${api.url}/v1/jobs/${id}/events`), readSse(`${api.url}/v1/jobs/${id}/events`)]);
    sampling = false;
    await sampler;

    const record = await getRecord(sys.url, id);
    expect(record['status']).toBe('completed');
    const total = String(record['text']).length;
    expect(total).toBe(tokens * 2000);
    for (const view of fast) {
      checkContiguous(view.events);
      expect(view.events.at(-1)?.event).toBe('done');
      expect(viewerText(view.events)).toBe(record['text']);
    }
    // Let the stalled reader drain what its socket holds: it was cut off long before the end.
    const { bytes, sawDone } = await slow.drain();
    expect(sawDone).toBe(false);
    expect(bytes).toBeLessThan(total / 2);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metric(metrics, 'genrelay_viewer_slow_disconnects_total{transport="sse"}')).toBe(1);
    // At no time did the API hold more for its three viewers than their bounds (plus one event each).
    expect(peakBuffered).toBeGreaterThan(0);
    expect(peakBuffered).toBeLessThan(3 * (VIEWER_BUFFER + 1_048_576));
  });
});
