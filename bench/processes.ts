import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** The repository root (the bench runs every entry point from here). */
export const root = fileURLToPath(new URL('../', import.meta.url));
/** Where `--cpu-prof` writes profiles. */
export const profileDir = fileURLToPath(new URL('./profiles/', import.meta.url));

/** A child process of the benchmark. */
export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last 16 KB of its stdout and stderr. */
  output(): string;
  readonly exited: Promise<void>;
  /** SIGTERM (so `--cpu-prof` writes its profile), SIGKILL after `graceMs`; idempotent. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Proc>();

/** Every process still running, for cleanup. */
export function liveProcesses(): readonly Proc[] {
  return [...live];
}

/** Stops every live process (in reverse start order: clients before servers before Redis). */
export async function stopAll(graceMs = 5000): Promise<void> {
  for (const proc of [...live].reverse()) await proc.stop(graceMs);
}

/** Last resort at exit: SIGKILL whatever is left, synchronously. */
export function killAllNow(): void {
  for (const proc of live) {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  }
}

function track(name: string, child: ChildProcess): Proc {
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // `BENCH_LOG_DIR=/tmp/logs`: each process's whole output also goes to `<dir>/<name>.log` (for
  // `--trace-gc-nvp` and the like through BENCH_WORKER_NODE_FLAGS).
  const logDir = process.env['BENCH_LOG_DIR'];
  if (logDir !== undefined) {
    const log = createWriteStream(`${logDir}/${name}.log`);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  const proc: Proc = {
    name,
    pid: child.pid ?? -1,
    child,
    output: () => out,
    exited,
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await exited;
          clearTimeout(timer);
        }
        live.delete(proc);
      })();
      return stopping;
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/**
 * Node flags for an entry point: tsx, plus `--cpu-prof` into `bench/profiles/<name>-<time>/` when
 * profiling. A directory per process because tsx's loader thread writes a profile too, and Node's
 * default file names tell the threads apart (`CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`, main thread 0).
 */
function nodeArgs(name: string, entry: string, profile: boolean, flags: readonly string[]): string[] {
  const dir = `${profileDir}${name}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const prof = profile ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
  if (process.env['BENCH_BUILD'] === 'dist' && entry.startsWith('src/')) return [...prof, ...flags, builtEntry(entry)];
  return [...prof, ...flags, '--import', 'tsx', entry];
}

/**
 * `src/x/main.ts` as `npm run build` compiles it (`dist/x/main.js`, what the Docker image runs), for
 * `BENCH_BUILD=dist`. Refuses a build older than any file under `src/`.
 */
function builtEntry(entry: string): string {
  const built = entry.replace(/^src\/(.*)\.ts$/, 'dist/$1.js');
  const builtAt = statSync(`${root}${built}`, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const sources = readdirSync(`${root}src`, { recursive: true, encoding: 'utf8' });
  const stale = sources.find((f) => statSync(`${root}src/${f}`).mtimeMs > builtAt);
  if (stale !== undefined) throw new Error(`BENCH_BUILD=dist: ${built} is missing or older than src/${stale}; run npm run build`);
  return built;
}

/**
 * The Node flags an npm script passes before `--import tsx` (`node --max-semi-space-size=64 --import
 * tsx …` gives `['--max-semi-space-size=64']`), so the bench runs a process as its script does.
 */
export function scriptNodeFlags(script: string): string[] {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> };
  // `exec node …`: the script replaces npm's shell with node, so a signal to npm reaches node.
  const words = (pkg.scripts[script] ?? '').split(/\s+/).filter((w, i) => !(i === 0 && w === 'exec'));
  if (words[0] !== 'node') return [];
  const end = words.indexOf('--import');
  return words.slice(1, end === -1 ? undefined : end).filter((w) => w.startsWith('--'));
}

/** Starts a TypeScript entry point with `node --import tsx` (one real process, so its pid is the one to measure). */
export function startNode(
  name: string,
  entry: string,
  env: Record<string, string>,
  options: { profile?: boolean; ipc?: boolean; nodeFlags?: readonly string[] } = {},
): Proc {
  // NODE_OPTIONS and ALLOC_* pass through, so a probe can be preloaded (bench/probes/alloc-sampler.mjs).
  const passed = Object.entries(process.env).filter(([k, v]) => v !== undefined && (k === 'NODE_OPTIONS' || k.startsWith('ALLOC_')));
  const baseEnv = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...Object.fromEntries(passed), ...env };
  const args = nodeArgs(name, entry, options.profile ?? false, options.nodeFlags ?? []);
  const child = options.ipc
    ? fork(args.at(-1) ?? entry, [], { cwd: root, env: baseEnv, execArgv: args.slice(0, -1), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
    : spawn(process.execPath, args, { cwd: root, env: baseEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  return track(name, child);
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `check` every 50 ms until it is true; fails with the process's output after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, proc: Proc | undefined, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc !== undefined && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`${proc.name} exited while waiting for ${what}:\n${proc.output()}`);
    }
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${proc ? `; output:\n${proc.output()}` : ''}`);
    await sleep(50);
  }
}

/** True when `url` answers 200. */
export async function answers(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

/** A private redis-server: no persistence, 127.0.0.1 only. */
export async function startRedisServer(): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', '/tmp'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track('redis', child);
  const url = `redis://127.0.0.1:${port}`;
  await waitFor('redis PING', async () => {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === 'PONG';
    } finally {
      probe.disconnect();
    }
  }, proc);
  return { proc, url };
}
