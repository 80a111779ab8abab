import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/shared/config.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => readFileSync(join(root, file), 'utf8');

interface Service {
  readonly command?: string | readonly string[];
  readonly environment?: Record<string, string | number>;
  readonly depends_on?: Record<string, unknown>;
  readonly profiles?: readonly string[];
}

/**
 * Compose's interpolation of `text` with `env` (no Docker engine here): `${VAR}`, `${VAR:-default}`,
 * `${VAR-default}`, `${VAR:?error}` (throws, as compose refuses), and `$$` for a literal `$`.
 */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g, (all, name: string | undefined, op: string | undefined, arg: string | undefined) => {
    if (all === '$$') return '$';
    const value = env[name ?? ''];
    const empty = value === undefined || (op?.startsWith(':') === true && value === '');
    if (op?.endsWith('?') === true && empty) throw new Error(`compose refuses: ${name ?? ''} ${arg ?? ''}`);
    if (op?.endsWith('-') === true && empty) return arg ?? '';
    return value ?? '';
  });
}

/** Interpolates every string in a parsed YAML tree (compose interpolates values, after parsing). */
function interpolateTree(node: unknown, env: Record<string, string>): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, env));
  if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, env)]));
  return node;
}

/** docker-compose.yml as `docker compose config` would see it with `env` as the shell's environment. */
function composeWith(env: Record<string, string>): Record<string, Service> {
  const parsed = parse(read('docker-compose.yml'), { merge: true }) as unknown;
  return (interpolateTree(parsed, env) as { services: Record<string, Service> }).services;
}

/** What a service's command leaves in the environment of the node it execs (`exec node` run as `exec env`). */
function workerEnvironment(service: Service): Record<string, string> {
  const command = service.command;
  if (!Array.isArray(command) || command[0] !== 'sh') throw new Error('the worker runs through sh -c');
  const script = String(command[2]).replace(/exec node .*$/, 'exec env');
  const env = Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
  const out = execFileSync('sh', ['-c', script], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** The worker's own rule at start (src/worker/main.ts): a key, or a base URL outside production. */
function workerStarts(env: Record<string, string>): boolean {
  const config = loadConfig(env);
  return config.anthropicApiKey !== undefined || (config.anthropicBaseUrl !== undefined && !config.production);
}

describe('docker compose and the image', () => {
  it('every variable docker-compose.yml reads has a default: no command is refused for a missing one', () => {
    const refs = [...read('docker-compose.yml').replaceAll('$$', '').matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1] ?? '');
    expect(refs.length).toBeGreaterThan(5);
    expect(refs.filter((r) => !/^[A-Za-z_][A-Za-z0-9_]*:?-/.test(r))).toEqual([]);
    expect(() => composeWith({})).not.toThrow();
  });

  it('without ANTHROPIC_API_KEY the workers start on the simulator service (a keyless demo)', () => {
    const services = composeWith({});
    for (const [worker, simulator] of [['worker', 'simulator'], ['worker-cluster', 'simulator-cluster']] as const) {
      const env = workerEnvironment(services[worker] ?? {});
      expect(env).toMatchObject({ ANTHROPIC_BASE_URL: `http://${simulator}:4010`, NODE_ENV: 'development', ANTHROPIC_API_KEY: '' });
      expect(workerStarts(env)).toBe(true);
      expect(Object.keys(services[worker]?.depends_on ?? {})).toContain(simulator);
      const sim = services[simulator] ?? {};
      expect(sim.command).toEqual(['node', 'dist/simulator/main.js']);
      expect(sim.environment).toMatchObject({ SIM_HOST: '0.0.0.0', SIM_PORT: 4010 });
      expect(sim.profiles ?? []).toEqual(services[worker]?.profiles ?? []);
    }
    // The simulator the image runs is built by `npm run build`, like the rest of dist/.
    expect(existsSync(join(root, 'dist/simulator/main.js'))).toBe(true);
  });

  it('with ANTHROPIC_API_KEY the workers use Claude, in production', () => {
    const env = workerEnvironment(composeWith({ ANTHROPIC_API_KEY: 'sk-ant-test' }).worker ?? {});
    expect(env).toMatchObject({ ANTHROPIC_API_KEY: 'sk-ant-test', NODE_ENV: 'production', ANTHROPIC_BASE_URL: '' });
    expect(loadConfig(env).anthropicBaseUrl).toBeUndefined();
    expect(workerStarts(env)).toBe(true);
  });

  it('.dockerignore keeps installs, outputs, secrets and history out of the build context', () => {
    const ignored = read('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.env', 'dist', 'test-artifacts', 'bench/results', '.git']));
    // What the Dockerfile copies is not ignored.
    for (const copied of ['package.json', 'package-lock.json', 'tsconfig.json', 'src']) expect(ignored).not.toContain(copied);
  });

  it("the image is built on the Node major .ci/run tests and package.json's engines allows", () => {
    const froms = [...read('Dockerfile').matchAll(/^FROM node:(\d+)-bookworm-slim/gm)].map((m) => Number(m[1]));
    expect(froms).toEqual([24, 24]);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('^20.19.0 || ^22.12.0 || ^24.11.0');
    // Every major engines names is one .ci/run tests (the machine's 20, and 24 and 22 from the registry).
    expect(read('.ci/run')).toMatch(/^NODE24_VERSION=24\.\d+\.\d+$/m);
    expect(read('.ci/run')).toMatch(/^NODE22_VERSION=22\.\d+\.\d+$/m);
  });
});
