import { afterEach, describe, expect, it } from 'vitest';
import { type Dom, normaliseText, readHistory, recordHistory, shownText, useBrowser, waitForData } from './support/browser.js';
import { globalKeys } from '../src/shared/keys.js';
import { signViewerToken } from '../src/shared/viewer-token.js';
import { eventually, getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// The viewer page (`/jobs/{id}?token=…`) in a real Chromium, under the page's real CSP: what two
// people watching one job see, and what model output can and cannot do to the page.
describe('the viewer page in a browser', () => {
  const systems: TestSystem[] = [];
  afterEach(async () => {
    await Promise.all(systems.splice(0).map((s) => s.close()));
  });
  // After the servers' hook, so pages close first (afterEach hooks run in reverse).
  const browser = useBrowser();

  async function start(options: Parameters<typeof startSystem>[0]): Promise<TestSystem> {
    const system = await startSystem(options);
    systems.push(system);
    return system;
  }

  /** Submits `content` over HTTP; returns the job id and its viewer page URL. */
  async function submit(sys: TestSystem, content: string): Promise<{ id: string; viewerUrl: string }> {
    const { status, json } = await submitJob(sys.url, { max_tokens: 1000, messages: [{ role: 'user', content }] });
    expect(status).toBe(202);
    const id = String(json['id']);
    const token = String(json['viewer_token']);
    return { id, viewerUrl: `${sys.url}/jobs/${id}?token=${encodeURIComponent(token)}` };
  }

  async function completedRecord(sys: TestSystem, id: string): Promise<Record<string, unknown>> {
    return eventually(async () => {
      const r = await getRecord(sys.url, id);
      return r['status'] === 'completed' ? r : undefined;
    }, 20_000, `job ${id} completed`);
  }

  it('two pages watching one running job both finish with the record text and count each other', async () => {
    // No worker yet: the job waits in the queue until both pages are attached, so the pages see the
    // whole run however long Chromium takes to open them.
    const system = await start({ name: 'browser-two-viewers', workers: 0 });
    // Plain words, no Markdown syntax: the page renders them as one paragraph whose textContent is
    // the text itself. 150 deltas at 30/s is 5 s of streaming: more than two rounds of the pages'
    // 2-second counters poll (/stats), so the viewer count is read at least once while the job runs.
    const text = Array.from({ length: 150 }, (_, i) => `w${i}`).join(' ');
    const pages = await Promise.all([browser.newPage(), browser.newPage()]);
    await Promise.all(pages.map((p) => recordHistory(p)));
    const { id, viewerUrl } = await submit(system, simPrompt({ text, tps: 30, tag: 'two-viewers' }));
    await Promise.all(pages.map((p) => p.goto(viewerUrl)));
    await expect(pages[0].locator('#job-id').textContent()).resolves.toBe(id);
    for (const page of pages) {
      await waitForData(page, '#connection', 'state', 'live', 10_000);
      await waitForData(page, '#status', 'status', 'queued', 10_000);
    }

    // A worker on the same prefix (its own API is not used) takes the job.
    await start({ name: 'browser-two-viewers-worker', env: { KEY_PREFIX: system.config.keyPrefix }, sim: system.sim });
    // Presence across pages: while the job runs, a page shows both viewers (one poll sets both fields).
    await pages[0].waitForFunction(
      () => {
        const { document } = globalThis as unknown as Dom;
        return (
          document.getElementById('viewers')?.textContent === '2' &&
          document.getElementById('status')?.dataset['status'] === 'running'
        );
      },
      undefined,
      { timeout: 15_000, polling: 50 },
    );

    await Promise.all(pages.map((p) => waitForData(p, '#connection', 'state', 'finished', 20_000)));
    const record = await completedRecord(system, id);
    expect(record['text']).toBe(text);

    const shown = await Promise.all(pages.map((p) => shownText(p)));
    expect(shown[0]).toBe(normaliseText(String(record['text'])));
    expect(shown[1]).toBe(shown[0]);
    for (const page of pages) {
      await expect(page.locator('#status').getAttribute('data-status')).resolves.toBe('completed');
      // One paragraph of plain words: nothing was read as Markdown.
      await expect(page.locator('#output > *').count()).resolves.toBe(1);
      await expect(page.locator('#output > p').count()).resolves.toBe(1);
      const history = await readHistory(page);
      expect(history.connection[0]).toBe('connecting…');
      expect(history.connection).toContain('live');
      expect(history.connection).not.toContain('reconnecting…');
      expect(history.connection.at(-1)).toBe('finished');
      expect(history.status[0]).toBe('queued');
      expect(history.status).toContain('running');
      expect(history.status.at(-1)).toBe('completed');
      // Streamed in front of the viewer, not shown at the end in one piece.
      expect(history.outputLengths).toBeGreaterThan(10);
      expect(browser.problems(page)).toEqual({ pageErrors: [], consoleErrors: [] });
    }
    // Two pages, two viewers: never more (a page is counted once, however many polls it makes).
    expect((await readHistory(pages[0])).maxViewers).toBe(2);
    expect(system.sim.requests.filter((r) => r.tag === 'two-viewers')).toHaveLength(1);

    await browser.screenshot(pages[0], 'viewer-1');
    await browser.screenshot(pages[1], 'viewer-2');
  });

  it('renders model output as Markdown built from text nodes: markup in it shows as text and runs nothing', async () => {
    const system = await start({ name: 'browser-markdown' });
    const text = [
      '# Heading one',
      '',
      'Some **bold words** and `inline code` here.',
      '',
      '- first item',
      '- second item',
      '',
      '```js',
      'const answer = 42;',
      '```',
      '',
      '<img src=x onerror="window.__xss=1">',
      '',
      '<script>window.__xss=2</script>',
      '',
      '[x](javascript:window.__xss=3)',
      '',
      'The end.',
    ].join('\n');
    // Streamed a word at a time, so the page also renders every half-written state on the way.
    const { id, viewerUrl } = await submit(system, simPrompt({ text, tps: 60, tag: 'markdown' }));
    const page = await browser.newPage();
    const response = await page.goto(viewerUrl);
    // The second line of defence, should the renderer ever fail: no inline script may run at all.
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await waitForData(page, '#connection', 'state', 'finished', 20_000);
    const record = await completedRecord(system, id);
    expect(record['text']).toBe(text);

    const output = page.locator('#output');
    // Nothing ran: not the onerror handler, not the script, not the javascript: URL.
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    await expect(output.locator('img, script, iframe, object, embed, svg').count()).resolves.toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as Dom).document.images.length)).toBe(0);
    const hrefs = await output.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(hrefs.filter((h) => /^\s*javascript:/i.test(h))).toEqual([]);
    // The markup is shown as the text it is.
    await page.getByText('<img src=x onerror="window.__xss=1">').waitFor({ state: 'visible', timeout: 5_000 });
    await page.getByText('<script>window.__xss=2</script>').waitFor({ state: 'visible', timeout: 5_000 });
    await page.getByText('[x](javascript:window.__xss=3)').waitFor({ state: 'visible', timeout: 5_000 });

    // The Markdown around it is rendered as elements.
    await expect(output.locator('h1').textContent()).resolves.toBe('Heading one');
    await expect(output.locator('strong').textContent()).resolves.toBe('bold words');
    await expect(output.locator('p > code').textContent()).resolves.toBe('inline code');
    await expect(output.locator('li').allTextContents()).resolves.toEqual(['first item', 'second item']);
    await expect(output.locator('pre > code').textContent()).resolves.toBe('const answer = 42;');
    await expect(output.locator('pre > code').getAttribute('data-lang')).resolves.toBe('js');
    await expect(output.locator('pre.open').count()).resolves.toBe(0);

    // Neither the renderer nor the CSP had anything to refuse.
    expect(browser.problems(page)).toEqual({ pageErrors: [], consoleErrors: [] });
    await browser.screenshot(page);
  });

  it('shows a table from a streamed answer, and reads its counters from /stats, never the record', async () => {
    const system = await start({ name: 'browser-table' });
    const text = [
      'Here are the numbers:',
      '',
      '| fruit | count |',
      '| --- | ---: |',
      '| apples | 3 |',
      '| pears | 12 |',
      '',
      'That is all.',
    ].join('\n');
    // Cut into 4-character deltas: the table arrives row by row, half-rows included.
    const { id, viewerUrl } = await submit(system, simPrompt({ text, chunk: 4, tps: 40, tag: 'table' }));
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await page.goto(viewerUrl);
    await waitForData(page, '#connection', 'state', 'finished', 20_000);
    await completedRecord(system, id);

    const output = page.locator('#output');
    await expect(output.locator('table thead th').allTextContents()).resolves.toEqual(['fruit', 'count']);
    await expect(output.locator('table tbody td').allTextContents()).resolves.toEqual(['apples', '3', 'pears', '12']);
    await expect(output.locator('> *').evaluateAll((els) => els.map((e) => e.tagName))).resolves.toEqual(['P', 'TABLE', 'P']);
    // The counters came from the light endpoint; the record (text included) was never fetched.
    await page.waitForFunction(() => (globalThis as unknown as Dom).document.getElementById('tokens')?.textContent !== '0', undefined, { timeout: 10_000 });
    expect(requested).toContain(`/v1/jobs/${id}/stats`);
    expect(requested).not.toContain(`/v1/jobs/${id}`);
    expect(requested).toEqual(expect.arrayContaining(['/assets/markdown-view.js', '/assets/vendor/marked.js', '/assets/vendor/dompurify.js']));
    expect(browser.problems(page)).toEqual({ pageErrors: [], consoleErrors: [] });
    await browser.screenshot(page);
  });

  it('a broken share link says what is wrong: an altered or expired token, a job that does not exist', async () => {
    const system = await start({ name: 'browser-broken-links' });
    const { id, viewerUrl } = await submit(system, simPrompt({ text: 'fine', tag: 'broken-links' }));
    const secret = String(await system.redis.get(globalKeys(system.config.keyPrefix).tokenSecret));
    const expired = signViewerToken(secret, { subject: id, expiresAt: Date.now() - 1000 });
    const altered = viewerUrl.replace(/token=([^&]+)/, (_, t: string) => `token=${t.slice(0, -2)}xx`);
    const cases = [
      [altered, 'link expired', 'This link has expired or is not valid'],
      [`${system.url}/jobs/${id}?token=${encodeURIComponent(expired)}`, 'link expired', 'This link has expired or is not valid'],
      [`${system.url}/jobs/job_AAAAAAAAAAAAAAAAAAAAAA`, 'not found', 'No such job, or its result has expired.'],
    ] as const;
    for (const [url, pill, message] of cases) {
      const page = await browser.newPage();
      await page.goto(url);
      await waitForData(page, '#status', 'status', 'refused', 10_000);
      await expect(page.locator('#status').textContent()).resolves.toBe(pill);
      await expect(page.locator('#notice').textContent()).resolves.toContain(message);
      await expect(page.locator('#connection').getAttribute('data-state')).resolves.toBe('stopped');
      // Not "Waiting for the first tokens…" forever.
      const placeholder = await page.locator('#output').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }).getComputedStyle(el, '::before').content);
      expect(placeholder).toBe('"Nothing to show."');
      await browser.screenshot(page, pill.replace(' ', '-'));
      await page.close();
    }
  });

  it('with auth off, a viewer page opened without ?token= streams the job', async () => {
    const system = await start({ name: 'browser-no-token' });
    const text = Array.from({ length: 40 }, (_, i) => `n${i}`).join(' ');
    const { id } = await submit(system, simPrompt({ text, tps: 40, tag: 'no-token' }));
    const page = await browser.newPage();
    await page.goto(`${system.url}/jobs/${id}`);
    await waitForData(page, '#connection', 'state', 'finished', 20_000);
    expect(await shownText(page)).toBe(normaliseText(text));
    await expect(page.locator('#status').getAttribute('data-status')).resolves.toBe('completed');
    // After the end nobody watches live: no stale count.
    await expect(page.locator('#viewers').textContent()).resolves.toBe('0');
    expect(browser.problems(page)).toEqual({ pageErrors: [], consoleErrors: [] });
  });
});
