import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { useBrowser } from './support/browser.js';
import { jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** Every module specifier a built file imports (static imports and re-exports). */
function specifiers(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1] ?? '');
}

/** Serves the built client, eventsource-parser and a page, as a site that uses the client would. */
async function startSite(): Promise<{ url: string; page: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file =
      path === '/' ? undefined : path.startsWith('/dist/client/') || path.startsWith('/dist/shared/') || path.startsWith('/node_modules/eventsource-parser/dist/') ? path : null;
    if (file === null) {
      res.writeHead(404).end();
      return;
    }
    if (file === undefined) {
      res.writeHead(200, { 'content-type': 'text/html' }).end(site.page);
      return;
    }
    readFile(`${root}${file.slice(1)}`).then(
      (body) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  const site = { url: '', page: '', close: () => new Promise<void>((r) => server.close(() => r())) };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  site.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return site;
}

// genrelay/client is usable from a browser: nothing in its import graph but its own modules, the
// shared wire modules and eventsource-parser, and in Chromium it follows a job with a viewer token.
describe('genrelay/client in a browser', () => {
  let sys: TestSystem | undefined;
  let site: { close(): Promise<void> } | undefined;
  afterEach(async () => {
    await site?.close();
    await sys?.close();
  });
  const browser = useBrowser();

  it('imports nothing of Node or of the server', async () => {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const visit = async (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const spec of specifiers(await readFile(file, 'utf8'))) {
        if (spec.startsWith('.')) await visit(fileURLToPath(new URL(spec, `file://${file}`)));
        else bare.add(spec);
      }
    };
    await visit(`${root}dist/client/index.js`);
    expect([...bare]).toEqual(['eventsource-parser']);
    const files = [...seen].map((f) => f.slice(root.length)).sort();
    const shared = ['dist/shared/events.js', 'dist/shared/content.js', 'dist/shared/fold-content.js'];
    expect(files.filter((f) => !f.startsWith('dist/client/') && !shared.includes(f))).toEqual([]);
  });

  it('follows a job with a viewer token in Chromium: the record text, every event once', async () => {
    const page = await browser.newPage();
    // The site's origin must be allowed to read from the API.
    const served = await startSite();
    site = served;
    sys = await startSystem({ name: 'client-browser', env: { CORS_ORIGINS: served.url } });
    const text = words(40, 'b');
    const { json } = await submitJob(sys.url, { max_tokens: 200, messages: [{ role: 'user', content: simPrompt({ text, tps: 40 }) }] });
    const id = String(json['id']);
    served.page = `<!doctype html><script type="importmap">{"imports":{"eventsource-parser":"/node_modules/eventsource-parser/dist/index.js"}}</script>
<script type="module">
import { createClient, collectText } from '/dist/client/index.js';
const client = createClient({ baseUrl: ${JSON.stringify(sys.url)}, token: ${JSON.stringify(String(json['viewer_token']))} });
const events = [];
try {
  for await (const e of client.jobs.follow(${JSON.stringify(id)})) events.push(e);
  const record = await client.jobs.get(${JSON.stringify(id)});
  window.__result = { text: collectText(events), ids: events.map((e) => e.id), status: record.status, recordText: record.text };
} catch (err) { window.__result = { error: String(err) }; }
</script>`;
    const siteUrl = served.url;
    await page.goto(`${siteUrl}/`);
    const result = (await page.waitForFunction(() => (globalThis as unknown as { __result?: unknown }).__result, undefined, { timeout: 20_000 })).jsonValue();
    const r = (await result) as { text?: string; ids?: number[]; status?: string; recordText?: string; error?: string };
    expect(r.error).toBeUndefined();
    expect(r.status).toBe('completed');
    expect(r.text).toBe(text);
    expect(r.recordText).toBe(text);
    expect(r.ids).toEqual(r.ids?.map((_, i) => i + 1));
    expect((await jobEnded(sys.url, id))['text']).toBe(text);
  });
});

