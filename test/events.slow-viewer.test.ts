import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type NodeProcess } from './support/processes.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

const VIEWER_BUFFER = 1_048_576;

/** One value of a Prometheus text exposition. */
const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

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
    // 8,000 deltas of 3,000 characters: 24 MB, far beyond the kernel's socket buffers.
    const tokens = 8000;
    const { json } = await submitJob(sys.url, {
      max_tokens: tokens,
      messages: [{ role: 'user', content: simPrompt({ tokens, chunk: 3000, tps: 2000 }) }],
    });
    const id = String(json['id']);
    const u = new URL(api.url);
    const slow: Socket = connect(Number(u.port), u.hostname);
    await new Promise<void>((r) => slow.once('connect', () => r()));
    slow.write(`GET /v1/jobs/${id}/events HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`);
    // Read the response head, then never read again.
    await new Promise<void>((r) => slow.once('data', () => r()));
    slow.pause();
    let closed = false;
    slow.on('close', () => (closed = true));

    let peakBuffered = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const text = await (await fetch(`${api.url}/metrics`)).text();
        peakBuffered = Math.max(peakBuffered, metric(text, 'genrelay_sse_buffered_bytes'));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const fast = await Promise.all([readSse(`${api.url}/v1/jobs/${id}/events`), readSse(`${api.url}/v1/jobs/${id}/events`)]);
    sampling = false;
    await sampler;

    const record = await getRecord(sys.url, id);
    expect(record['status']).toBe('completed');
    const total = String(record['text']).length;
    expect(total).toBe(tokens * 3000);
    for (const view of fast) {
      checkContiguous(view.events);
      expect(view.events.at(-1)?.event).toBe('done');
      expect(viewerText(view.events)).toBe(record['text']);
    }
    // Drain what the slow socket holds: it was cut off long before the end.
    let received = 0;
    let sawDone = false;
    slow.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (chunk.includes('event: done')) sawDone = true;
    });
    slow.on('error', () => {});
    slow.resume();
    await new Promise<void>((r) => (closed ? r() : slow.once('close', () => r())));
    expect(sawDone).toBe(false);
    expect(received).toBeLessThan(total / 2);
    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(metric(metrics, 'genrelay_sse_slow_disconnects_total')).toBe(1);
    // At no time did the API hold more for its three viewers than their bounds (plus one event each).
    expect(peakBuffered).toBeGreaterThan(0);
    expect(peakBuffered).toBeLessThan(3 * (VIEWER_BUFFER + 1_048_576));
  });
});
