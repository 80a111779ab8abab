import { describe, expect, it } from 'vitest';
import { findChromium, noChromiumMessage, systemChromiumPaths } from './support/find-chromium.js';

const registry = '/home/u/.cache/ms-playwright';
const pwChromium = `${registry}/chromium-1248/chrome-linux64/chrome`;
const pwShell = `${registry}/chromium_headless_shell-1248/chrome-headless-shell-linux64/chrome-headless-shell`;

/** A file system holding exactly `files`. */
const only = (...files: string[]) => (path: string) => files.includes(path);

describe('the browser tests find a Chromium as a user has one', () => {
  it('CHROMIUM_PATH first, over the cache and the system', () => {
    const found = findChromium({ env: { CHROMIUM_PATH: '/opt/c/chrome' }, exists: only('/opt/c/chrome', pwChromium, '/usr/bin/chromium'), playwrightChromium: pwChromium });
    expect(found).toEqual({ path: '/opt/c/chrome', source: 'CHROMIUM_PATH' });
  });

  it('a CHROMIUM_PATH naming no file is said, not passed over', () => {
    const found = findChromium({ env: { CHROMIUM_PATH: '/opt/none' }, exists: only('/usr/bin/chromium'), playwrightChromium: pwChromium });
    expect(found.path).toBeUndefined();
    expect(noChromiumMessage(found as Extract<typeof found, { path: undefined }>)).toContain('CHROMIUM_PATH is /opt/none');
  });

  it("then Playwright's cache after `npx playwright install chromium`: the Chromium, then the headless shell", () => {
    expect(findChromium({ env: {}, exists: only(pwChromium, pwShell, '/usr/bin/chromium'), playwrightChromium: pwChromium })).toEqual({ path: pwChromium, source: 'playwright' });
    expect(findChromium({ env: {}, exists: only(pwShell, '/usr/bin/chromium'), playwrightChromium: pwChromium })).toEqual({ path: pwShell, source: 'playwright' });
  });

  it('then the system paths, in order', () => {
    expect(findChromium({ env: { CHROMIUM_PATH: ' ' }, exists: only('/usr/bin/google-chrome', '/usr/bin/chromium-browser'), playwrightChromium: pwChromium })).toEqual({ path: '/usr/bin/chromium-browser', source: 'system' });
    expect(findChromium({ env: {}, exists: only('/usr/bin/chromium'), playwrightChromium: undefined })).toEqual({ path: '/usr/bin/chromium', source: 'system' });
  });

  it('none found: every place looked at, and both ways to get one', () => {
    const found = findChromium({ env: {}, exists: only(), playwrightChromium: pwChromium });
    if (found.path !== undefined) throw new Error('found a Chromium on an empty file system');
    expect(found.tried).toEqual([pwChromium, pwShell, ...systemChromiumPaths]);
    const message = noChromiumMessage(found);
    expect(message).toContain('npx playwright install chromium');
    expect(message).toContain('apt-get install chromium');
    expect(message).not.toMatch(/not the way/);
    for (const path of found.tried) expect(message).toContain(path);
  });
});
