import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type NodeProcess } from './support/processes.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { metric, readPaced, startStalledReader } from './support/stalled-reader.js';
import { eventually, getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// Catching up from the log goes at the pace the viewer reads: a healthy client joining a job of
// several megabytes gets all of it (the VIEWER_BUFFER_BYTES cut-off is for viewers that fall behind
// the live stream), and one that stops reading during the catch-up is let go after
// VIEWER_STALL_TIMEOUT_MS.
describe('replay of a large job', () => {
  let sys: TestSystem;
  let api: NodeProcess & { url: string };
  // Lets a reader go after a second without progress: only for the stalled reader (a busy machine can
  // hold a healthy reader up that long).
  let strictApi: NodeProcess & { url: string };
  let id: string;
  let text: string;
  beforeAll(async () => {
    sys = await startSystem({ name: 'replay-pace' });
    [api, strictApi] = await Promise.all([
      startApiProcess({ REDIS_URL: sys.config.redisUrl, KEY_PREFIX: sys.config.keyPrefix }),
      startApiProcess({ REDIS_URL: sys.config.redisUrl, KEY_PREFIX: sys.config.keyPrefix, VIEWER_STALL_TIMEOUT_MS: '1000' }),
    ]);
    // 4,000 deltas of 1,000 characters: 4 MB, four times the default VIEWER_BUFFER_BYTES.
    const { json } = await submitJob(sys.url, {
      max_tokens: 4000,
      messages: [{ role: 'user', content: simPrompt({ tokens: 4000, chunk: 1000, tps: 4000 }) }],
    });
    id = String(json['id']);
    const record = await eventually(async () => {
      const r = await getRecord(sys.url, id);
      return r['status'] === 'completed' ? r : undefined;
    }, 30_000, 'the large job completed');
    text = String(record['text']);
  });
  afterAll(async () => {
    await Promise.all([api.stop(), strictApi.stop()]);
    await sys.close();
  });
  const slowDisconnects = async (url: string) => metric(await (await fetch(`${url}/metrics`)).text(), 'genrelay_viewer_slow_disconnects_total{transport="sse"}');

  it('healthy viewers joining after the end get all of it, done included, and none is cut off', async () => {
    expect(text.length).toBe(4_000_000);
    const views = await Promise.all([0, 1, 2].map(() => readSse(`${sys.url}/v1/jobs/${id}/events`)));
    for (const view of views) {
      checkContiguous(view.events);
      expect(view.events.at(-1)?.event).toBe('done');
      expect(viewerText(view.events)).toBe(text);
    }
    expect(await slowDisconnects(sys.url)).toBe(0);
  });

  it('a viewer reading at a steady few MB/s catches up with all of it, done included', async () => {
    // 12 MB: well past what the kernel's socket buffers absorb (up to 4 MB on the sending side here).
    const { json } = await submitJob(sys.url, {
      max_tokens: 12_000,
      messages: [{ role: 'user', content: simPrompt({ tokens: 12_000, chunk: 1000, tps: 12_000 }) }],
    });
    const big = String(json['id']);
    await eventually(async () => ((await getRecord(sys.url, big))['status'] === 'completed' ? true : undefined), 30_000, 'the 12 MB job');
    // 64 KB every 20 ms: about 3 MB/s, far below what the log can be read at.
    const paced = await readPaced(new URL(`${api.url}/v1/jobs/${big}/events`), { chunkBytes: 65_536, intervalMs: 20 });
    expect(paced).toMatchObject({ sawDone: true, endedCleanly: true });
    expect(paced.bytes).toBeGreaterThan(12_000_000);
    expect(await slowDisconnects(api.url)).toBe(0);
  });

  it('a viewer that stops reading during the catch-up is disconnected after VIEWER_STALL_TIMEOUT_MS', async () => {
    // 8 MB: more than the kernel's buffers hold for the stalled socket (tcp_wmem's 4 MB at most).
    const { json } = await submitJob(sys.url, {
      max_tokens: 8000,
      messages: [{ role: 'user', content: simPrompt({ tokens: 8000, chunk: 1000, tps: 8000 }) }],
    });
    const big = String(json['id']);
    await eventually(async () => ((await getRecord(sys.url, big))['status'] === 'completed' ? true : undefined), 30_000, 'the 8 MB job');
    const stalled = startStalledReader(new URL(`${strictApi.url}/v1/jobs/${big}/events`));
    await stalled.connected;
    await eventually(async () => ((await slowDisconnects(strictApi.url)) === 1 ? true : undefined), 10_000, 'the stalled viewer let go');
    const { bytes, sawDone } = await stalled.drain();
    expect(sawDone).toBe(false);
    expect(bytes).toBeLessThan(8_000_000);
  });
});
