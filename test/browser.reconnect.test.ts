import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import {
  normaliseText,
  readHistory,
  recordHistory,
  shownText,
  useBrowser,
  waitForData,
  waitForOutputLonger,
} from './support/browser.js';
import { freePort } from './support/free-port.js';
import { startApiProcess, startWorkerProcess, type NodeProcess } from './support/processes.js';
import { redisUrl, uniquePrefix } from './support/redis.js';
import { eventually, getRecord, simPrompt, submitJob } from './support/system.js';

// The API node serving a viewer page is restarted mid-stream on the same address: the page's
// EventSource reconnects with Last-Event-ID and the text carries on with no gap and no repeat.
describe('a viewer page across an API restart', () => {
  let sim: Simulator | undefined;
  const procs: NodeProcess[] = [];
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop('SIGTERM', 5000)));
    await sim?.close();
    sim = undefined;
  });
  // After the servers' hook, so the page closes first (afterEach hooks run in reverse).
  const browser = useBrowser();

  it('shows reconnecting…, then resumes on the restarted API and ends with the record text exactly once', async () => {
    sim = await startSimulator();
    const port = await freePort();
    const env = {
      REDIS_URL: redisUrl(),
      KEY_PREFIX: uniquePrefix('browser-reconnect'),
      ANTHROPIC_BASE_URL: sim.url,
      ANTHROPIC_API_KEY: 'test-key',
    };
    // The port is fixed so the page's EventSource, which reconnects to the URL it was opened on,
    // finds the second API process there.
    const started = await Promise.allSettled([startApiProcess({ ...env, PORT: String(port) }), startWorkerProcess(env)]);
    for (const s of started) if (s.status === 'fulfilled') procs.push(s.value);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    const first = procs[0] as NodeProcess & { url: string };
    expect(first.url).toBe(`http://127.0.0.1:${port}`);

    // Opened before the job exists: a cold context can take seconds on a busy machine.
    const page = await browser.newPage();
    // Distinct words, so any repeated or missing stretch makes the page text differ from the record.
    // 240 deltas at 15/s is 16 s: ample time to stop an API, see the page notice, and start another.
    const text = Array.from({ length: 240 }, (_, i) => `r${i}`).join(' ');
    const { status, json } = await submitJob(first.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ text, tps: 15, tag: 'browser-reconnect' }) }],
    });
    expect(status).toBe(202);
    const id = String(json['id']);
    const viewerUrl = `${first.url}/jobs/${id}?token=${encodeURIComponent(String(json['viewer_token']))}`;

    await recordHistory(page);
    await page.goto(viewerUrl);
    await waitForData(page, '#connection', 'state', 'live', 10_000);
    // A dozen words in ("r0 r1 … r11"), a couple of hundred to go.
    await waitForOutputLonger(page, 35);
    await browser.screenshot(page, 'before');

    // SIGTERM ends the SSE responses cleanly and the process exits; the page is left to reconnect.
    expect(await first.stop('SIGTERM', 15_000)).toBe(0);
    await waitForData(page, '#connection', 'state', 'reconnecting…', 10_000);
    const cutAt = await shownText(page);
    expect(cutAt.length).toBeGreaterThan(0);
    expect(cutAt.length).toBeLessThan(text.length);
    await browser.screenshot(page, 'reconnecting');

    const second = await startApiProcess({ ...env, PORT: String(port) });
    procs.push(second);
    expect(second.url).toBe(first.url);
    // The job went on without the API: still running, so the page resumes a live stream.
    expect((await getRecord(second.url, id))['status']).toBe('running');

    await waitForData(page, '#connection', 'state', 'finished', 30_000);
    const record = await eventually(async () => {
      const r = await getRecord(second.url, id);
      return r['status'] === 'completed' ? r : undefined;
    }, 10_000, 'job completed');
    expect(record['text']).toBe(text);
    // Equality with the record is the no-gap, no-duplicate check: every word r0…r239 once, in order.
    expect(await shownText(page)).toBe(normaliseText(text));
    await expect(page.locator('#status').getAttribute('data-status')).resolves.toBe('completed');

    const history = await readHistory(page);
    const live = history.connection.indexOf('live');
    const reconnecting = history.connection.indexOf('reconnecting…');
    expect(live).toBeGreaterThanOrEqual(0);
    expect(reconnecting).toBeGreaterThan(live);
    // Live again on the second API before the end.
    expect(history.connection.slice(reconnecting)).toContain('live');
    expect(history.connection.at(-1)).toBe('finished');
    expect(browser.problems(page).pageErrors).toEqual([]);
    // One upstream call: the API restart did not touch the generation.
    expect(sim.requests.filter((r) => r.tag === 'browser-reconnect')).toHaveLength(1);
    await browser.screenshot(page, 'after');
  });
});
