import { dirname, join } from 'node:path';

/**
 * Where the browser tests find a Chromium, the way a user's machine has one: `CHROMIUM_PATH` when set;
 * else Playwright's own browser cache (after `npx playwright install chromium`: the full Chromium, then
 * the headless shell of the same revision); else the usual system paths. Pure, so a unit test can
 * hold the order: the caller passes the environment, a file test and Playwright's
 * `chromium.executablePath()` (which honours `PLAYWRIGHT_BROWSERS_PATH`).
 */
export interface ChromiumSearch {
  /** The environment (`CHROMIUM_PATH`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether a file exists (and is worth launching). */
  readonly exists: (path: string) => boolean;
  /** Playwright's path of its Chromium, e.g. `<registry>/chromium-1248/chrome-linux64/chrome`; `undefined` when it names none. */
  readonly playwrightChromium: string | undefined;
}

/** A Chromium found, or every place looked at. */
export type ChromiumFound =
  | { readonly path: string; readonly source: 'CHROMIUM_PATH' | 'playwright' | 'system' }
  | { readonly path: undefined; readonly tried: readonly string[]; readonly reason: string };

/** System Chromium and Chrome binaries, Linux first, then macOS. */
export const systemChromiumPaths = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
] as const;

/**
 * Playwright's Chromium and, beside it in the same registry, the headless shell of the same revision
 * (`chromium-1248/chrome-linux64/chrome` → `chromium_headless_shell-1248/chrome-headless-shell-linux64/chrome-headless-shell`).
 */
export function playwrightCandidates(chromiumPath: string | undefined): string[] {
  if (chromiumPath === undefined) return [];
  const revisionDir = dirname(dirname(chromiumPath));
  const revision = /^chromium-(\d+)$/.exec(revisionDir.split(/[\\/]/).at(-1) ?? '')?.[1];
  if (revision === undefined) return [chromiumPath];
  const shellDir = join(dirname(revisionDir), `chromium_headless_shell-${revision}`);
  return [chromiumPath, join(shellDir, 'chrome-headless-shell-linux64', 'chrome-headless-shell')];
}

/** The first Chromium in the order above. A `CHROMIUM_PATH` that names no file is an error, not skipped. */
export function findChromium({ env, exists, playwrightChromium }: ChromiumSearch): ChromiumFound {
  const explicit = env['CHROMIUM_PATH']?.trim();
  if (explicit !== undefined && explicit !== '') {
    return exists(explicit)
      ? { path: explicit, source: 'CHROMIUM_PATH' }
      : { path: undefined, tried: [explicit], reason: `CHROMIUM_PATH is ${explicit}, and there is no file there.` };
  }
  const cached = playwrightCandidates(playwrightChromium);
  const inCache = cached.find(exists);
  if (inCache !== undefined) return { path: inCache, source: 'playwright' };
  const system = systemChromiumPaths.find(exists);
  if (system !== undefined) return { path: system, source: 'system' };
  return { path: undefined, tried: [...cached, ...systemChromiumPaths], reason: 'No Chromium was found.' };
}

/** What a run without a Chromium says: where it looked, and both ways to get one. */
export function noChromiumMessage(found: Extract<ChromiumFound, { path: undefined }>): string {
  return [
    '',
    '==================== NO CHROMIUM FOR THE BROWSER TESTS ====================',
    `${found.reason} The browser tests need one and do not skip without it. Looked at:`,
    ...found.tried.map((p) => `  ${p}`),
    'Get one either way:',
    "  - Playwright's own:   npx playwright install chromium",
    '  - a system package:   sudo apt-get install chromium   (Debian/Ubuntu; on macOS: brew install --cask chromium)',
    'or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    '===========================================================================',
  ].join('\n');
}
