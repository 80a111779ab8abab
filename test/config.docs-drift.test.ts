import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readmeEnd, readmeStart, renderEnvExample, renderReadmeTable } from '../scripts/config-docs.js';
import { loadConfig } from '../src/shared/config.js';
import { configTable, otherVariables, type ConfigVariable } from '../src/shared/config-table.js';

const root = join(import.meta.dirname, '..');
const entries = Object.entries(configTable) as [string, ConfigVariable<unknown, unknown>][];

/** Every `.ts`/`.js` file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/**
 * Names of environment variables a source reads: `process.env.X`, `env['X']`, commander's
 * `.env('X')`, and, in a file that reads the environment, a call whose first argument is an
 * `UPPER_SNAKE` name (a helper such as the simulator's `number('SIM_PORT', …)`).
 */
function variablesRead(source: string): string[] {
  const patterns = [/process\.env\.([A-Z][A-Z0-9_]*)/g, /env\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g, /\.env\(\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\)/g];
  if (/process\.env|\benv\[/.test(source)) patterns.push(/\w\(\s*['"]([A-Z][A-Z0-9]*_[A-Z0-9_]+)['"]/g);
  return patterns.flatMap((re) => [...source.matchAll(re)].map((m) => m[1] as string));
}

describe('the configuration docs come from the table', () => {
  it("README.md's table between the markers is the generated one (run `npm run docs:config`)", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const start = readme.indexOf(readmeStart);
    const end = readme.indexOf(readmeEnd);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start, end + readmeEnd.length)).toBe(renderReadmeTable());
  });

  it('.env.example is the generated one (run `npm run docs:config`)', () => {
    expect(readFileSync(join(root, '.env.example'), 'utf8')).toBe(renderEnvExample());
  });

  it('every variable read in src/ is in the table or the list of other variables', () => {
    const known = new Set(entries.map(([, v]) => v.name));
    const families = otherVariables.filter((o) => o.name.endsWith('*')).map((o) => o.name.slice(0, -1));
    for (const o of otherVariables) known.add(o.name);
    const read = new Map<string, string>();
    for (const file of sources(join(root, 'src'))) {
      for (const name of variablesRead(readFileSync(file, 'utf8'))) read.set(name, file);
    }
    // The scan itself works: the CLI's and the simulator's variables are found.
    expect([...read.keys()]).toEqual(expect.arrayContaining(['GENRELAY_API_KEY', 'GENRELAY_URL', 'SIM_PORT', 'REDIS_URL']));
    const unknown = [...read].filter(([name]) => !known.has(name) && !families.some((f) => name.startsWith(f)));
    expect(unknown.map(([name, file]) => `${name} (${file})`)).toEqual([]);
  });

  it('each default, written as the variable, reads back as the default', () => {
    for (const [key, v] of entries) {
      expect(v.description, v.name).not.toBe('');
      if (v.default === undefined) continue;
      const text = v.parser.format(v.default);
      if (text === undefined) continue;
      expect((loadConfig({ [v.name]: text }) as unknown as Record<string, unknown>)[key], v.name).toEqual(v.default);
    }
  });

  it('every name is unique', () => {
    const names = [...entries.map(([, v]) => v.name), ...otherVariables.map((o) => o.name)];
    expect(new Set(names).size).toBe(names.length);
  });
});
