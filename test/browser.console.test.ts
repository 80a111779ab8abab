import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  normaliseText,
  outputLength,
  readHistory,
  recordHistory,
  shownText,
  useBrowser,
  waitForData,
  waitForOutputLonger,
} from './support/browser.js';
import { eventually, simPrompt, startSystem, type TestSystem } from './support/system.js';

// The console (`GET /`) in a real Chromium: submit from the form, watch, cancel, and the API key field.
describe('the console in a browser', () => {
  let system: TestSystem | undefined;
  afterEach(async () => {
    await system?.close();
    system = undefined;
  });
  // After the server's hook, so pages close first (afterEach hooks run in reverse).
  const browser = useBrowser();

  /** A job record read over HTTP, with `key` as the bearer key when given. */
  async function record(sys: TestSystem, id: string, key?: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${sys.url}/v1/jobs/${id}`, { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });
    if (!res.ok) throw new Error(`GET record ${id}: ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }

  /** The job id in the console's share link, once the link is there. */
  async function sharedJobId(page: Page): Promise<{ id: string; href: string }> {
    const link = page.locator('#share a');
    await link.waitFor({ state: 'attached', timeout: 10_000 });
    const href = (await link.getAttribute('href')) ?? '';
    const match = /^\/jobs\/([^/?]+)\?token=(.+)$/.exec(href);
    expect(match, `share link ${href}`).not.toBeNull();
    return { id: decodeURIComponent(match?.[1] ?? ''), href };
  }

  it('submits, streams, and cancels a job; the page ends with the record text', async () => {
    system = await startSystem({ name: 'browser-console-cancel' });
    const page = await browser.newPage();
    await recordHistory(page);
    await page.goto(`${system.url}/`);
    await expect(page.locator('#status').textContent()).resolves.toBe('idle');
    // Nothing submitted yet: the output area says what to do, not that tokens are on their way.
    const placeholder = () =>
      page.locator('#output').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }).getComputedStyle(el, '::before').content);
    expect(await placeholder()).toContain('Submit a prompt');

    // 400 generated words at 20/s: 20 s, far longer than the test needs before it cancels.
    await page.locator('#prompt').fill(simPrompt({ tokens: 400, tps: 20, tag: 'console-cancel' }, 'Write a long answer.'));
    await page.locator('#max-tokens').fill('1000');
    await page.locator('#submit').click();
    const { id, href } = await sharedJobId(page);

    // It streams: the text is there and then grows.
    await waitForOutputLonger(page, 0);
    await waitForOutputLonger(page, await outputLength(page));
    await expect(page.locator('#connection').getAttribute('data-state')).resolves.toBe('live');
    await expect(page.locator('#status').getAttribute('data-status')).resolves.toBe('running');
    await browser.screenshot(page, 'streaming');

    await expect(page.locator('#cancel').isEnabled()).resolves.toBe(true);
    await page.locator('#cancel').click();
    await waitForData(page, '#status', 'status', 'cancelled', 15_000);
    await waitForData(page, '#connection', 'state', 'finished', 15_000);
    // The job has ended: no stale viewer count (the page itself was the one viewer).
    await expect(page.locator('#viewers').textContent()).resolves.toBe('0');
    await expect(page.locator('#cancel').isDisabled()).resolves.toBe(true);
    await expect(page.locator('#error').textContent()).resolves.toBe('');

    const rec = await eventually(async () => {
      const r = await record(system!, id);
      return r['status'] === 'cancelled' ? r : undefined;
    }, 10_000, 'record cancelled');
    const text = String(rec['text']);
    expect(text.length).toBeGreaterThan(0);
    // Cut short: the 400 words were not all generated.
    expect(text.split(' ').length).toBeLessThan(400);
    expect(await shownText(page)).toBe(normaliseText(text));
    expect((await readHistory(page)).status).toContain('running');
    expect(browser.problems(page)).toEqual({ pageErrors: [], consoleErrors: [] });
    await browser.screenshot(page, 'cancelled');

    // The share link opens the viewer page of the same job, which shows the same ending.
    const viewer = await browser.newPage();
    await viewer.goto(`${system.url}${href}`);
    await waitForData(viewer, '#connection', 'state', 'finished', 15_000);
    await expect(viewer.locator('#status').getAttribute('data-status')).resolves.toBe('cancelled');
    expect(await shownText(viewer)).toBe(normaliseText(text));
    expect(system.sim.requests.filter((r) => r.tag === 'console-cancel')).toHaveLength(1);
  });

  it("the model field shows the server's DEFAULT_MODEL, and a blank field runs the job on it", async () => {
    // Quotes and an ampersand: the name reaches the page as an attribute value, escaped.
    const model = 'claude-test-"model"&1';
    system = await startSystem({ name: 'browser-console-model', env: { DEFAULT_MODEL: model } });
    const page = await browser.newPage();
    await page.goto(`${system.url}/`);
    expect(await page.locator('#model').getAttribute('placeholder')).toBe(model);
    expect(await page.locator('#model').inputValue()).toBe('');
    await page.locator('#prompt').fill(simPrompt({ tokens: 5, tps: 200 }, 'Short.'));
    await page.locator('#submit').click();
    const { id } = await sharedJobId(page);
    const sys = system;
    await eventually(async () => ((await record(sys, id))['status'] === 'completed' ? true : undefined));
    expect(await record(sys, id)).toMatchObject({ model });
    expect(browser.problems(page)).toEqual({ pageErrors: [], consoleErrors: [] });
  });

  it('with API_KEYS set, shows the refusal without a key and runs the job with one', async () => {
    system = await startSystem({ name: 'browser-console-key', env: { API_KEYS: 'k1' } });
    const page = await browser.newPage();
    await page.goto(`${system.url}/`);
    await page.locator('#prompt').fill(simPrompt({ tokens: 30, tps: 100, tag: 'console-key' }, 'Say something short.'));

    await page.locator('#submit').click();
    await expect.poll(() => page.locator('#error').textContent(), { timeout: 10_000, interval: 50 }).not.toBe('');
    const refusal = (await page.locator('#error').textContent()) ?? '';
    expect(refusal).toMatch(/API key/);
    await expect(page.locator('#share').textContent()).resolves.toBe('');
    await expect(page.locator('#status').textContent()).resolves.toBe('idle');
    await expect(page.locator('#submit').isEnabled()).resolves.toBe(true);
    await browser.screenshot(page, 'refused');

    await page.locator('#api-key').fill('k1');
    await page.locator('#submit').click();
    const { id } = await sharedJobId(page);
    await expect(page.locator('#error').textContent()).resolves.toBe('');
    await waitForData(page, '#connection', 'state', 'finished', 15_000);
    await expect(page.locator('#status').getAttribute('data-status')).resolves.toBe('completed');
    const rec = await record(system, id, 'k1');
    expect(rec['status']).toBe('completed');
    expect(await shownText(page)).toBe(normaliseText(String(rec['text'])));
    expect(String(rec['text']).split(' ')).toHaveLength(30);
    // The refused attempt never became a job: the upstream saw one request.
    expect(system.sim.requests.filter((r) => r.tag === 'console-key')).toHaveLength(1);
    // The one console error is Chromium reporting the 401 of the refused POST.
    expect(browser.problems(page).pageErrors).toEqual([]);
    expect(browser.problems(page).consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
    await browser.screenshot(page, 'accepted');
  });
});
