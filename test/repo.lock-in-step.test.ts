import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const json = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8')) as Record<string, unknown>;

// `npm install` on a fresh clone rewrites package-lock.json's root entry from package.json: when the
// two differ (a lock without the root `bin`, an `engines` changed in one only), the first command a
// newcomer runs leaves the tree dirty. `npm ci` does not notice these fields, so this test does.
describe('package-lock.json is in step with package.json', () => {
  it("the lock's root entry says what package.json says", () => {
    const pkg = json('package.json');
    const lock = json('package-lock.json') as { name: string; version: string; lockfileVersion: number; packages: Record<string, Record<string, unknown>> };
    expect(lock.lockfileVersion).toBe(3);
    expect({ name: lock.name, version: lock.version }).toEqual({ name: pkg['name'], version: pkg['version'] });
    const rootEntry = lock.packages[''] ?? {};
    for (const field of ['name', 'version', 'bin', 'engines', 'dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies', 'license']) {
      expect(rootEntry[field], field).toEqual(pkg[field]);
    }
  });

  it('has no libc fields, which npm 10 (Node 20) drops and npm 11 (Node 24) keeps as it finds them', () => {
    // With them, `npm install` on Node 20's own npm rewrites the lock; without them, both npm 10 and
    // npm 11 leave it as it is (checked on fresh clones: npm 10.8.2 and 11.19.1). The cost: npm 11
    // cannot tell glibc from musl for two optional dev binaries (rolldown, lightningcss) and installs both.
    const lock = json('package-lock.json') as { packages: Record<string, Record<string, unknown>> };
    expect(Object.entries(lock.packages).filter(([, entry]) => 'libc' in entry).map(([path]) => path)).toEqual([]);
  });

  it('every dependency is locked at the version package.json pins', () => {
    const pkg = json('package.json') as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const lock = json('package-lock.json') as { packages: Record<string, { version?: string }> };
    for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(lock.packages[`node_modules/${name}`]?.version, name).toBe(version);
    }
  });
});
