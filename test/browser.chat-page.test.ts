import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { startApi, type ApiOptions, type ApiServer } from '../src/api/create-api.js';
import { createLogger } from '../src/shared/logger.js';
import { type Dom, normaliseText, readHistory, recordHistory, useBrowser, waitForData } from './support/browser.js';
import { freePort } from './support/free-port.js';
import { simPrompt, startSystem, words, type TestSystem } from './support/system.js';

const KEY = 'chat-key';

// The chat page (`/chat`, `/chat/{conversation_id}`) in a real Chromium under the page's CSP, on the
// socket: turns, Stop, an API restart mid-reply, a second (read-only) page, hostile model output.
describe('the chat page in a browser', () => {
  const systems: TestSystem[] = [];
  const apis: ApiServer[] = [];
  afterEach(async () => {
    await Promise.all(apis.splice(0).map((a) => a.close()));
    await Promise.all(systems.splice(0).map((s) => s.close()));
  });
  // After the servers' hook, so pages close first (afterEach hooks run in reverse).
  const browser = useBrowser();

  /** A system with `API_KEYS` set, unless `env` sets it ('' turns auth off). */
  async function start(name: string, env: Record<string, string> = {}, apiOptions: ApiOptions = {}): Promise<TestSystem> {
    const system = await startSystem({ name, env: { API_KEYS: KEY, ...env }, apiOptions });
    systems.push(system);
    return system;
  }

  /** GETs `path` with the key; the parsed body. */
  async function get(sys: TestSystem, path: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${sys.url}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }

  /** A new chat page at `/chat` with the key entered, as a user does. */
  async function openChat(sys: TestSystem, options: { history?: boolean; key?: string } = {}): Promise<Page> {
    const page = await browser.newPage();
    if (options.history === true) await recordHistory(page);
    const response = await page.goto(`${sys.url}/chat`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('#api-key').fill(options.key ?? KEY);
    return page;
  }

  const turnSel = (n: number) => `article.turn[data-turn="${n}"]`;

  /** Types `text` and sends it; resolves once turn `n` is on the page. */
  async function send(page: Page, text: string, n: number): Promise<void> {
    await page.locator('#message').fill(text);
    await page.locator('#send').click();
    await page.locator(turnSel(n)).waitFor({ state: 'attached', timeout: 15_000 });
  }

  /** The reply text of turn `n` as shown: its text blocks' text, whitespace normalised. */
  async function replyText(page: Page, n: number): Promise<string> {
    const parts = await page.locator(`${turnSel(n)} .msg.assistant .block.text`).evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    return normaliseText(parts.join(''));
  }

  /** Waits until turn `n` ended with `status`; returns its job's record. */
  async function turnEnded(sys: TestSystem, page: Page, n: number, status = 'completed'): Promise<Record<string, unknown>> {
    await waitForData(page, turnSel(n), 'status', status, 30_000);
    const jobId = await page.locator(turnSel(n)).getAttribute('data-job');
    const record = await get(sys, `/v1/jobs/${jobId ?? ''}`);
    expect(record['status']).toBe(status);
    expect(await replyText(page, n)).toBe(normaliseText(String(record['text'])));
    return record;
  }

  /** Waits until turn `n`'s reply shows more than `chars` characters of text. */
  async function replyLonger(page: Page, n: number, chars: number): Promise<void> {
    await page.waitForFunction(
      ([sel, min]) => {
        const { document } = globalThis as unknown as Dom;
        return (document.querySelector(sel)?.textContent?.length ?? 0) > min;
      },
      [`${turnSel(n)} .block.text`, chars] as const,
      { timeout: 15_000, polling: 50 },
    );
  }

  const conversationOf = (page: Page) => decodeURIComponent(new URL(page.url()).pathname.split('/')[2] ?? '');

  it('runs a three-turn chat: tool calls stream, thinking expands, history is right, a reload restores it', async () => {
    const sys = await start('chat-three-turns');
    const page = await openChat(sys);
    await send(page, simPrompt({ text: words(30, 'a'), tps: 100, tag: 'chat-t1' }, 'First question'), 1);
    await turnEnded(sys, page, 1);
    const conversation = conversationOf(page);
    expect(conversation).toMatch(/^conv_/);
    await expect(page.locator('#conversation-id').textContent()).resolves.toBe(conversation);

    // Turn 2 thinks, says a sentence and calls a tool whose input streams in small pieces, slowly.
    const tool = { type: 'tool_use', name: 'get_weather', input: { city: 'Paris', days: 3 }, split: [1, 4, 4, 4, 4, 4, 4] };
    const blocks = [{ type: 'thinking', thinking: 'The user wants the weather.' }, { type: 'text', text: 'Let me look it up.' }, tool];
    await send(page, simPrompt({ blocks, tps: 8, tag: 'chat-t2' }, 'Second question'), 2);
    // The tool call is on the page before its input is whole: it streams.
    await page.waitForFunction(
      (sel) => {
        const { document } = globalThis as unknown as Dom;
        const input = document.querySelector(`${sel} .block.tool[data-state="streaming"] .tool-input`)?.textContent ?? '';
        return input.length > 0 && !input.endsWith('}');
      },
      turnSel(2),
      { timeout: 15_000, polling: 20 },
    );
    await expect(page.locator(`${turnSel(2)} .tool-name`).textContent()).resolves.toBe('get_weather');
    const two = await turnEnded(sys, page, 2);
    expect(two['stop_reason']).toBe('tool_use');
    expect(JSON.parse((await page.locator(`${turnSel(2)} .tool-input`).textContent()) ?? '')).toEqual(tool.input);
    // Thinking is collapsed; opened, it shows its text.
    const thinking = page.locator(`${turnSel(2)} details.thinking`);
    await expect(thinking.getAttribute('open')).resolves.toBeNull();
    await thinking.locator('summary').click();
    await expect(thinking.locator('.thinking-text').textContent()).resolves.toBe('The user wants the weather.');

    // Turn 3 answers the tool call (the page runs none) and goes on.
    await send(page, simPrompt({ text: words(20, 'c'), tps: 100, tag: 'chat-t3' }, 'Third question'), 3);
    await turnEnded(sys, page, 3);
    const upstream = sys.sim.requests.filter((r) => r.tag === 'chat-t3');
    expect(upstream).toHaveLength(1);
    const messages = (upstream[0]?.body as { messages: { role: string; content: unknown }[] }).messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    expect(JSON.stringify(messages[4]?.content)).toContain('tool_result');

    // The history on the page is the server's: the same jobs, in order, each user message as sent.
    const view = await get(sys, `/v1/conversations/${conversation}`);
    const turns = view['turns'] as { job_id: string }[];
    expect(turns).toHaveLength(3);
    const shown = async () => page.locator('article.turn').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset['job']));
    expect(await shown()).toEqual(turns.map((t) => t.job_id));
    await expect(page.locator(`${turnSel(1)} .msg.user .body`).textContent()).resolves.toContain('First question');
    const before = await Promise.all([1, 2, 3].map((n) => replyText(page, n)));

    // A reload rebuilds every turn from the server, tool call and thinking included.
    await page.reload();
    await waitForData(page, turnSel(3), 'status', 'completed', 15_000);
    expect(await shown()).toEqual(turns.map((t) => t.job_id));
    expect(await Promise.all([1, 2, 3].map((n) => replyText(page, n)))).toEqual(before);
    await expect(page.locator(`${turnSel(2)} .tool-name`).textContent()).resolves.toBe('get_weather');
    await expect(page.locator(`${turnSel(3)} .msg.user .body`).textContent()).resolves.toContain('Third question');
    await expect(page.locator('#send').isDisabled()).resolves.toBe(false);
    expect(browser.problems(page).pageErrors).toEqual([]);
    await browser.screenshot(page, 'three-turns');
  });

  it('Stop cancels the reply in flight and keeps what was shown; the next question works', async () => {
    const sys = await start('chat-stop');
    const page = await openChat(sys);
    const full = words(400, 's');
    await send(page, simPrompt({ text: full, tps: 20, tag: 'chat-stop-1' }, 'A long answer please'), 1);
    await replyLonger(page, 1, 20);
    await page.locator('#stop').click();
    const stopped = await turnEnded(sys, page, 1, 'cancelled');
    const kept = String(stopped['text']);
    expect(kept.length).toBeGreaterThan(0);
    expect(full.startsWith(kept)).toBe(true);
    expect(kept.length).toBeLessThan(full.length);
    await expect(page.locator('#stop').isHidden()).resolves.toBe(true);

    await send(page, simPrompt({ text: words(15, 'n'), tps: 100, tag: 'chat-stop-2' }, 'Next question'), 2);
    await turnEnded(sys, page, 2);
    // The stopped reply is still shown as it was, and the upstream got it as the assistant's turn.
    expect(await replyText(page, 1)).toBe(normaliseText(kept));
    const next = sys.sim.requests.filter((r) => r.tag === 'chat-stop-2');
    const messages = (next[0]?.body as { messages: { role: string; content: unknown }[] }).messages;
    expect(JSON.stringify(messages[1]?.content)).toContain(kept.slice(-20));
    expect(browser.problems(page).pageErrors).toEqual([]);
  });

  it('the API node restarted mid-reply: the page reconnects and the reply completes, nothing lost or repeated', async () => {
    const port = await freePort();
    const sys = await start('chat-restart', { PORT: String(port) });
    const page = await openChat(sys, { history: true });
    // Distinct words: a lost or repeated stretch makes the page differ from the record.
    await send(page, simPrompt({ text: words(200, 'r'), tps: 15, tag: 'chat-restart' }, 'Keep talking'), 1);
    await replyLonger(page, 1, 30);

    await sys.api.close();
    await waitForData(page, '#connection', 'state', 'reconnecting…', 10_000);
    const cut = await replyText(page, 1);
    apis.push(await startApi(sys.config, createLogger('silent', 'test')));

    const record = await turnEnded(sys, page, 1);
    expect(cut.length).toBeLessThan(String(record['text']).length);
    const history = await readHistory(page);
    const reconnecting = history.connection.indexOf('reconnecting…');
    expect(reconnecting).toBeGreaterThan(history.connection.indexOf('live'));
    expect(history.connection.slice(reconnecting)).toContain('live');
    // One generation: the restart did not touch it. And the chat goes on over the new node.
    expect(sys.sim.requests.filter((r) => r.tag === 'chat-restart')).toHaveLength(1);
    await send(page, simPrompt({ text: words(10, 'z'), tps: 100 }, 'And after?'), 2);
    await turnEnded(sys, page, 2);
    expect(browser.problems(page).pageErrors).toEqual([]);
  });

  it('two pages on one conversation both see the reply; the read-only share link has no composer', async () => {
    const sys = await start('chat-two-pages');
    const writer = await openChat(sys);
    await send(writer, simPrompt({ text: words(20, 'p'), tps: 100 }, 'Hello'), 1);
    await turnEnded(sys, writer, 1);
    await writer.locator('#share').click();
    const link = writer.locator('#share-link a');
    await link.waitFor({ state: 'attached', timeout: 10_000 });
    const href = (await link.getAttribute('href')) ?? '';
    expect(href).toMatch(new RegExp(`/chat/${conversationOf(writer)}\\?token=.+`));

    const reader = await browser.newPage();
    await reader.goto(href);
    await waitForData(reader, turnSel(1), 'status', 'completed', 15_000);
    await expect(reader.locator('#composer, #api-key, #send').count()).resolves.toBe(0);
    await expect(reader.locator('#mode').isVisible()).resolves.toBe(true);
    expect(await replyText(reader, 1)).toBe(await replyText(writer, 1));

    // A turn sent on one page streams on the other, the user's message with it.
    await send(writer, simPrompt({ text: words(60, 'q'), tps: 40 }, 'Second, seen by both'), 2);
    await reader.locator(turnSel(2)).waitFor({ state: 'attached', timeout: 15_000 });
    const record = await turnEnded(sys, writer, 2);
    await waitForData(reader, turnSel(2), 'status', 'completed', 15_000);
    expect(await replyText(reader, 2)).toBe(normaliseText(String(record['text'])));
    await expect(reader.locator(`${turnSel(2)} .msg.user .body`).textContent()).resolves.toContain('Second, seen by both');

    // The same address without a key asks for one; with the key typed in, the conversation loads.
    const other = await browser.newPage();
    await other.goto(`${sys.url}/chat/${conversationOf(writer)}`);
    await other.locator('#notice', { hasText: 'needs a key' }).waitFor({ timeout: 10_000 });
    await expect(other.locator('article.turn').count()).resolves.toBe(0);
    await other.locator('#api-key').fill(KEY);
    await other.locator('#api-key').press('Tab');
    await waitForData(other, turnSel(2), 'status', 'completed', 15_000);
    expect(await replyText(other, 2)).toBe(await replyText(writer, 2));
    await expect(other.locator('#composer').isVisible()).resolves.toBe(true);
    for (const page of [writer, reader, other]) expect(browser.problems(page).pageErrors).toEqual([]);
  });

  it('asks for the key: a message sent without one is refused and kept in the composer; with the key it goes', async () => {
    // A short auth window, so the keyless socket is refused soon (10 s in production).
    const sys = await start('chat-no-key', {}, { socketAuthWindowMs: 2500 });
    const page = await openChat(sys, { key: '' });
    const message = simPrompt({ text: words(10, 'k'), tps: 100 }, 'Let me in');
    await page.locator('#message').fill(message);
    await page.locator('#send').click();
    await page.locator('#error', { hasText: 'If it needs an API key' }).waitFor({ timeout: 10_000 });
    await page.locator('#error', { hasText: 'The API needs a key' }).waitFor({ timeout: 15_000 });
    await expect(page.locator('#message').inputValue()).resolves.toBe(message);
    await expect(page.locator('.msg.user').count()).resolves.toBe(0);

    await page.locator('#api-key').fill(KEY);
    await page.locator('#send').click();
    await page.locator(turnSel(1)).waitFor({ state: 'attached', timeout: 15_000 });
    await turnEnded(sys, page, 1);
    await expect(page.locator('#error').textContent()).resolves.toBe('');
    expect(browser.problems(page).pageErrors).toEqual([]);
  });

  it('hostile model output stays inert: no script runs, no handler, no javascript: link', async () => {
    // Auth off here: the page works without a key too.
    const sys = await start('chat-hostile', { API_KEYS: '' });
    const page = await openChat(sys, { key: '' });
    const text = [
      '<script>window.__xss=1</script>',
      '',
      '<img src=x onerror="window.__xss=2">',
      '',
      '[click](javascript:window.__xss=3) and <a href="javascript:window.__xss=4">this</a>',
      '',
      '<iframe src="javascript:window.__xss=5"></iframe>',
    ].join('\n');
    const blocks = [
      { type: 'thinking', thinking: '<img src=x onerror="window.__xss=6">' },
      { type: 'text', text },
      { type: 'tool_use', name: 'render', input: { html: '<script>window.__xss=7</script><img src=x onerror="window.__xss=8">' } },
    ];
    await send(page, simPrompt({ blocks, tps: 50 }, '<img src=x onerror="window.__xss=9"> hi'), 1);
    await waitForData(page, turnSel(1), 'status', 'completed', 20_000);
    await page.locator(`${turnSel(1)} details.thinking summary`).click();
    // Should a renderer keep an <img> (sanitised), its load or error has happened before the checks.
    await page.waitForFunction(() => {
      const { document } = globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ complete: boolean }> } };
      return Array.from(document.querySelectorAll('#transcript img')).every((img) => img.complete);
    });

    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
    const transcript = page.locator('#transcript');
    await expect(transcript.locator('script, iframe, object, embed').count()).resolves.toBe(0);
    const handlers = await transcript.locator('*').evaluateAll((els) =>
      els.flatMap((e) => (e as unknown as { getAttributeNames(): string[] }).getAttributeNames().filter((a) => a.startsWith('on'))),
    );
    expect(handlers).toEqual([]);
    const hrefs = await transcript.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''));
    expect(hrefs.filter((h) => /^\s*javascript:/i.test(h))).toEqual([]);
    // Where the page shows model output as text, the markup is there as the text it is.
    await expect(page.locator(`${turnSel(1)} .thinking-text`).textContent()).resolves.toBe('<img src=x onerror="window.__xss=6">');
    await expect(page.locator(`${turnSel(1)} .tool-input`).textContent()).resolves.toContain('<script>window.__xss=7</script>');
    await expect(page.locator(`${turnSel(1)} .msg.user .body`).textContent()).resolves.toContain('<img src=x onerror="window.__xss=9">');
    expect(browser.problems(page).pageErrors).toEqual([]);
    await browser.screenshot(page, 'hostile');
  });
});
