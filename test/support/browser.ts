import { mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium as playwright, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { findChromium, noChromiumMessage } from './find-chromium.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Where screenshots go: `test-artifacts/` at the repository root (git-ignored), created on demand. */
export const artifactsDir = `${root}test-artifacts`;

/**
 * The Chromium the browser tests drive: `CHROMIUM_PATH`, else Playwright's browser cache (after
 * `npx playwright install chromium`), else the system's (`/usr/bin/chromium`, …): see find-chromium.ts.
 */
export const foundChromium = findChromium({ env: process.env, exists: isFile, playwrightChromium: playwrightChromiumPath() });

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Playwright's own Chromium path (honours `PLAYWRIGHT_BROWSERS_PATH`); `undefined` where it has none. */
function playwrightChromiumPath(): string | undefined {
  try {
    return playwright.executablePath();
  } catch {
    return undefined; // A platform Playwright ships no Chromium for.
  }
}

/**
 * Flags for a quiet, headless, throwaway Chromium. There is no `--user-data-dir` here on purpose:
 * Playwright refuses that flag and instead gives every launch a fresh temporary profile of its own
 * (deleted on close), and every test gets a new context on top of it.
 */
export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** Launches Chromium; throws (tests never skip) when the binary is missing or does not start. */
export async function launchChromium(): Promise<Browser> {
  if (foundChromium.path === undefined) throw new Error(noChromiumMessage(foundChromium));
  return playwright.launch({ executablePath: foundChromium.path, headless: true, args: [...chromiumArgs], timeout: 30_000 });
}

/** What a page reported on its own: uncaught exceptions and console errors (CSP refusals among them). */
export interface PageProblems {
  readonly pageErrors: string[];
  readonly consoleErrors: string[];
}

/** One Chromium for a test file, a fresh context per page, everything closed by the hooks. */
export interface BrowserHarness {
  /** A page in a new, empty context (no cookies, storage or cache shared with any other page). */
  newPage(): Promise<Page>;
  /** Uncaught exceptions and console errors of `page` so far. */
  problems(page: Page): PageProblems;
  /**
   * Saves `test-artifacts/<test name>[.<label>].png` (the current test's full name, made file-safe)
   * and returns its path.
   */
  screenshot(page: Page, label?: string): Promise<string>;
}

/**
 * Registers the hooks of a browser test file: `beforeAll` launches Chromium, `afterEach` closes every
 * context the test opened (after screenshotting its pages as `<test>.failure-<n>.png` when the test
 * failed) and fails a test that left a context behind, `afterAll` closes the browser. Vitest runs
 * `afterEach` hooks in reverse order of registration: call this AFTER registering the hooks that stop
 * servers, so pages are closed before the servers they are connected to.
 */
export function useBrowser(): BrowserHarness {
  let browser: Browser | undefined;
  const contexts = new Set<BrowserContext>();
  const problems = new WeakMap<Page, PageProblems>();

  let launchError: unknown;
  beforeAll(async () => {
    // A launch failure is rethrown by every newPage(), so each test FAILS with it: a throwing
    // beforeAll would have vitest list the tests as skipped.
    try {
      browser = await launchChromium();
    } catch (err) {
      launchError = err;
    }
  });

  afterEach(async (context) => {
    const open = [...contexts];
    contexts.clear();
    if (context.task.result?.state === 'fail') {
      const pages = open.flatMap((ctx) => ctx.pages());
      await Promise.all(pages.map((page, i) => screenshot(page, `failure-${i + 1}`, 5_000).catch(() => undefined)));
    }
    // Each close is bounded and independent: one hung context must not keep the others open.
    await Promise.all(open.map((ctx) => withTimeout(ctx.close(), 10_000, 'closing a browser context').catch(() => undefined)));
    const left = browser?.contexts().length ?? 0;
    if (left > 0) throw new Error(`${left} browser context(s) still open after the test`);
  });

  afterAll(async () => {
    const b = browser;
    browser = undefined;
    if (b === undefined) return;
    // Should close() ever hang, Playwright still kills the Chromium it launched when this test
    // process exits; the timeout makes that a failure instead of a stuck run.
    await withTimeout(b.close(), 15_000, 'closing Chromium');
  });

  async function screenshot(page: Page, label?: string, timeoutMs = 10_000): Promise<string> {
    mkdirSync(artifactsDir, { recursive: true });
    const name = (expect.getState().currentTestName ?? 'unnamed').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '');
    const path = `${artifactsDir}/${name}${label === undefined ? '' : `.${label}`}.png`;
    await page.screenshot({ path, fullPage: true, timeout: timeoutMs });
    return path;
  }

  return {
    async newPage() {
      if (launchError !== undefined) throw launchError;
      if (browser === undefined) throw new Error('useBrowser: Chromium is not running (call it inside a describe, use it inside a test)');
      const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 } });
      contexts.add(ctx);
      const page = await ctx.newPage();
      const seen: PageProblems = { pageErrors: [], consoleErrors: [] };
      problems.set(page, seen);
      page.on('pageerror', (err) => seen.pageErrors.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') seen.consoleErrors.push(msg.text());
      });
      // Playwright's default of 30 s per action would outlive an `eventually`; keep failures quick.
      page.setDefaultTimeout(15_000);
      return page;
    },
    problems(page) {
      return problems.get(page) ?? { pageErrors: [], consoleErrors: [] };
    },
    screenshot,
  };
}

/**
 * The slice of the DOM that functions run in a page use. The test tsconfig has Node's types and no
 * DOM lib (adding it would retype timers and fetch for every file), so in-page code starts with
 * `const { document } = globalThis as unknown as Dom;`: Playwright sends the function's source to the
 * page, where `globalThis.document` is the real thing.
 */
export interface Dom {
  readonly document: {
    getElementById(id: string): DomElement | null;
    querySelector(selector: string): DomElement | null;
    readonly images: { readonly length: number };
  };
}

/** An element as in-page code here uses it. */
export interface DomElement {
  readonly textContent: string | null;
  readonly dataset: Record<string, string | undefined>;
  getAttribute(name: string): string | null;
}

/** `#output` as a reader sees it: its text with runs of whitespace collapsed and the ends trimmed. */
export function normaliseText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The normalised text content of `selector` in `page`. */
export async function shownText(page: Page, selector = '#output'): Promise<string> {
  return normaliseText((await page.locator(selector).textContent()) ?? '');
}

/** Waits (bounded) until `selector`'s `data-<attr>` is `value`, e.g. `#connection` state `finished`. */
export async function waitForData(page: Page, selector: string, attr: string, value: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction(
    ([sel, key, want]) => {
      const { document } = globalThis as unknown as Dom;
      return document.querySelector(sel)?.dataset[key] === want;
    },
    [selector, attr, value] as const,
    { timeout: timeoutMs, polling: 50 },
  );
}

/**
 * Records in the page, from its first paint, what {@link History} lists (with a MutationObserver, so a
 * state that lasts one frame is not missed). Call it before `page.goto`; read with {@link readHistory}.
 */
export async function recordHistory(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = globalThis as unknown as Dom & {
      __history: History;
      MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
    };
    const { document } = w;
    const history: History = { connection: [], status: [], maxViewers: 0, outputLengths: 0 };
    let lastLength = 0;
    w.__history = history;
    const push = (list: string[], value: string | undefined) => {
      if (value !== undefined && list.at(-1) !== value) list.push(value);
    };
    const sample = () => {
      push(history.connection, document.getElementById('connection')?.dataset['state']);
      push(history.status, document.getElementById('status')?.dataset['status']);
      const viewers = Number(document.getElementById('viewers')?.textContent);
      if (Number.isFinite(viewers) && viewers > history.maxViewers) history.maxViewers = viewers;
      const length = document.getElementById('output')?.textContent?.length ?? 0;
      if (length !== lastLength) history.outputLengths += 1;
      lastLength = length;
    };
    new w.MutationObserver(sample).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

/** What {@link recordHistory} keeps. */
export interface History {
  /** Each `#connection[data-state]` in the order shown, repeats folded. */
  readonly connection: string[];
  /** Each `#status[data-status]` in the order shown, repeats folded. */
  readonly status: string[];
  /** The highest number `#viewers` showed. */
  maxViewers: number;
  /** How many times `#output`'s text length changed: many for a stream, one for text shown at once. */
  outputLengths: number;
}

/** What {@link recordHistory} saw so far. */
export async function readHistory(page: Page): Promise<History> {
  return page.evaluate(() => (globalThis as unknown as { __history: History }).__history);
}

/** The length of `#output`'s text content right now (unnormalised). */
export async function outputLength(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as Dom).document.getElementById('output')?.textContent?.length ?? 0);
}

/** Waits (bounded) until `#output`'s text content is longer than `chars` characters. */
export async function waitForOutputLonger(page: Page, chars: number, timeoutMs = 10_000): Promise<void> {
  await page.waitForFunction(
    (n) => ((globalThis as unknown as Dom).document.getElementById('output')?.textContent?.length ?? 0) > n,
    chars,
    { timeout: timeoutMs, polling: 50 },
  );
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
