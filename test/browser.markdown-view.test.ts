import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { pageRoutes, securityHeaders } from '../src/api/routes/pages.js';
import { generateMarkdown } from '../src/simulator/text.js';
import { useBrowser } from './support/browser.js';

/** The page's globals that the in-page code below uses (the test tsconfig has no DOM lib). */
type Win = Record<string, any>;

/** The API's page routes on an ephemeral port, plus `/blank`: an empty page under the pages' CSP. */
async function startPages(): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.use(pageRoutes({ defaultModel: 'claude-test' }));
  app.get('/blank', securityHeaders, (_req, res) => {
    res.type('html').send('<!doctype html><title>markdown</title><article class="output" id="out"></article>');
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// MarkdownView (src/api/public/markdown-view.js) in Chromium, loaded as the pages load it: an ES
// module importing marked and DOMPurify from /assets/vendor/, under the pages' CSP.
describe('MarkdownView, the incremental Markdown renderer', () => {
  let site: { url: string; close(): Promise<void> } | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });
  const browser = useBrowser();

  /** A blank page with `window.view` a MarkdownView of `#out`, and `window.MarkdownView`. */
  async function open(): Promise<Page> {
    site = await startPages();
    const page = await browser.newPage();
    await page.goto(`${site.url}/blank`);
    // A string, not a function: vitest would rewrite a function's `import()` into its own loader.
    await page.evaluate(
      "import('/assets/markdown-view.js').then(({ MarkdownView }) => {" +
        " window.MarkdownView = MarkdownView; window.view = new MarkdownView(document.getElementById('out')); })",
    );
    return page;
  }
  const update = (page: Page, text: string) => page.evaluate((t) => (globalThis as Win)['view'].update(t), text);

  it('serves marked and DOMPurify as ES modules from the installed packages, and nothing else', async () => {
    site = await startPages();
    for (const file of ['marked.js', 'dompurify.js']) {
      const res = await fetch(`${site.url}/assets/vendor/${file}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      const source = await res.text();
      expect(source).toMatch(/\bexport\s*\{/);
      // Self-contained: no bare import a browser could not resolve without a bundler.
      expect(source).not.toMatch(/^\s*import\s/m);
    }
    for (const file of ['nope.js', 'constructor', '..%2Fpackage.json']) {
      expect((await fetch(`${site.url}/assets/vendor/${file}`)).status).toBe(404);
    }
  });

  it('keeps finished blocks as the same elements while the last block streams', async () => {
    const page = await open();
    await update(page, '# Title\n\nFirst para');
    await page.evaluate(() => {
      const w = globalThis as Win;
      w['h1'] = w['document'].querySelector('#out h1');
    });
    await update(page, '# Title\n\nFirst paragraph.\n\n- one\n- tw');
    await page.evaluate(() => {
      const w = globalThis as Win;
      w['p'] = w['document'].querySelector('#out p');
    });
    for (const text of ['# Title\n\nFirst paragraph.\n\n- one\n- two\n\nMore', '# Title\n\nFirst paragraph.\n\n- one\n- two\n\nMore text.\n\n## Next']) {
      await update(page, text);
    }
    const same = await page.evaluate(() => {
      const w = globalThis as Win;
      const d = w['document'];
      return {
        h1: w['h1'] === d.querySelector('#out h1') && w['h1'].isConnected,
        p: w['p'] === d.querySelector('#out p') && w['p'].textContent === 'First paragraph.',
        tags: [...d.getElementById('out').children].map((e: Win) => e['tagName']),
      };
    });
    expect(same).toEqual({ h1: true, p: true, tags: ['H1', 'P', 'UL', 'P', 'H2'] });
  });

  it("keeps a reader's selection in a finished block while more text streams in", async () => {
    const page = await open();
    let text = 'Intro paragraph that a reader selects.\n\nSecond block';
    await update(page, text);
    const selected = await page.evaluate(() => {
      const w = globalThis as Win;
      const d = w['document'];
      const textNode = d.querySelector('#out p').firstChild;
      const range = d.createRange();
      range.setStart(textNode, 6);
      range.setEnd(textNode, 15);
      w['getSelection']().removeAllRanges();
      w['getSelection']().addRange(range);
      return String(w['getSelection']());
    });
    expect(selected).toBe('paragraph');
    for (let i = 0; i < 30; i++) {
      text += i % 10 === 9 ? '\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\nNext' : ` word${i}`;
      await update(page, text);
    }
    const after = await page.evaluate(() => {
      const w = globalThis as Win;
      const s = w['getSelection']();
      return { text: String(s), ranges: s.rangeCount, connected: s.anchorNode?.isConnected === true };
    });
    expect(after).toEqual({ text: 'paragraph', ranges: 1, connected: true });
  });

  it('renders GFM tables as tables, with their alignment', async () => {
    const page = await open();
    await update(page, 'Numbers:\n\n| name | count |\n| :-- | --: |\n| apples | 3 |\n| pears | 12 |\n\nDone.');
    const table = await page.evaluate(() => {
      const d = (globalThis as Win)['document'];
      const t = d.querySelector('#out table');
      return {
        head: [...t.querySelectorAll('thead th')].map((e: Win) => e['textContent']),
        rows: [...t.querySelectorAll('tbody tr')].map((r: Win) => [...r['querySelectorAll']('td')].map((e: Win) => e['textContent'])),
        align: t.querySelector('tbody td:last-child').getAttribute('align'),
      };
    });
    expect(table).toEqual({ head: ['name', 'count'], rows: [['apples', '3'], ['pears', '12']], align: 'right' });
  });

  it('keeps hostile model output inert: raw HTML shown as text, only http(s) and mailto links', async () => {
    const page = await open();
    const text = [
      '<script>window.__xss=1</script>',
      '',
      '<img src=x onerror="window.__xss=2">',
      '',
      'Inline <img src=y onerror="window.__xss=3"> and <a href="javascript:window.__xss=4">a</a> markup.',
      '',
      '[bad](javascript:window.__xss=5) [data](data:text/html,hi) ![pic](javascript:window.__xss=6)',
      '',
      '[good](https://example.com/a) <https://example.org> [mail](mailto:a@example.com) ![img](https://example.com/i.png)',
    ].join('\n');
    // Streamed a character at a time: every half-written state is rendered too.
    for (let i = 1; i <= text.length; i += 7) await update(page, text.slice(0, i));
    await update(page, text);
    await page.evaluate(() => (globalThis as Win)['view'].finish());
    const seen = await page.evaluate(() => {
      const w = globalThis as Win;
      const out = w['document'].getElementById('out');
      return {
        xss: w['__xss'] ?? null,
        active: out.querySelectorAll('script, img, iframe, svg, object, embed, [onerror], [style]').length,
        links: [...out.querySelectorAll('a')].map((a: Win) => [a['getAttribute']('href'), a['getAttribute']('rel'), a['textContent']]),
        text: out.textContent,
      };
    });
    expect(seen.xss).toBeNull();
    expect(seen.active).toBe(0);
    expect(seen.links).toEqual([
      ['https://example.com/a', 'noopener noreferrer', 'good'],
      ['https://example.org', 'noopener noreferrer', 'https://example.org'],
      ['mailto:a@example.com', 'noopener noreferrer', 'mail'],
      ['https://example.com/i.png', 'noopener noreferrer', 'img'],
    ]);
    for (const shown of ['<script>window.__xss=1</script>', '<img src=x onerror="window.__xss=2">', '<a href="javascript:window.__xss=4">', '[bad](javascript:window.__xss=5)', '![pic](javascript:window.__xss=6)']) {
      expect(seen.text).toContain(shown);
    }
    expect(browser.problems(page)).toEqual({ pageErrors: [], consoleErrors: [] });
  });

  it('streamed in pieces, ends exactly as the whole text rendered at once; a text that starts over is redrawn', async () => {
    const page = await open();
    const text = `${generateMarkdown(7, 400)}\n\n[ref]: https://example.com/r\n\nSee [the ref][ref].\n\n\`\`\`\nopen fence`;
    const result = await page.evaluate((t) => {
      const w = globalThis as Win;
      const d = w['document'];
      const view = w['view'];
      let openFenceSeen = false;
      for (let i = 1; i <= t.length; i += 3) {
        view.update(t.slice(0, i));
        if (i > t.length - 4) openFenceSeen ||= d.querySelector('#out pre.open') !== null;
      }
      view.update(t);
      view.finish();
      const whole = d.createElement('div');
      const once = new w['MarkdownView'](whole);
      once.update(t);
      once.finish();
      const streamed = d.getElementById('out').innerHTML;
      view.update('Another attempt.');
      return { same: streamed === whole.innerHTML, tables: whole.querySelectorAll('table').length, openFenceSeen, openAfter: streamed.includes('class="open"'), restarted: d.getElementById('out').innerHTML };
    }, text);
    expect(result.tables).toBeGreaterThan(0);
    expect(result.same).toBe(true);
    expect(result.openFenceSeen).toBe(true);
    expect(result.openAfter).toBe(false);
    expect(result.restarted).toBe('<p>Another attempt.</p>\n');
  });
});
