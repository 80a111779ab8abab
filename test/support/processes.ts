import { readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { redisUrl, uniquePrefix } from './redis.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A genrelay entry point running as its own OS process. */
export interface NodeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything it logged (stdout and stderr). */
  output(): string;
  /** Resolves with the first parsed JSON log line for which `match` is true. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a signal; resolves with the exit code once it exited (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

/**
 * Starts `src/<entry>` with tsx, the environment given on top of PATH/HOME only; `nodeArgs` go to node
 * before the entry (e.g. `clockOffsetArgs`).
 */
export function startNode(
  entry: 'api/main.ts' | 'worker/main.ts' | 'main.ts' | 'simulator/main.ts',
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
  options: { cwd?: string } = {},
): NodeProcess {
  // From another working directory (one with its own .env), tsx and the entry are found by path.
  const tsx = options.cwd === undefined ? 'tsx' : import.meta.resolve('tsx');
  const child = spawn(process.execPath, [...nodeArgs, '--import', tsx, `${root}src/${entry}`], {
    cwd: options.cwd ?? root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child, entry);
}

/** Runs `npm run <script>` (`start`: `npm start`) in the repository, with `env` on top of PATH/HOME. */
export function startNpm(script: string, env: Record<string, string>): NodeProcess {
  const child = spawn('npm', script === 'start' ? ['start', '--silent'] : ['run', script, '--silent'], {
    cwd: root,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child, `npm ${script}`);
}

function track(child: ChildProcess, entry: string): NodeProcess {
  let out = '';
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    out += text;
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a partial line: the full output is still in `out`
      }
    }
    for (const w of waiters) w();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid ?? -1,
    exited,
    output: () => out,
    waitForLog(match, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching log line from ${entry} within ${timeoutMs} ms; output:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        void exited.then(() => {
          if (waiters.has(check)) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`${entry} exited; output:\n${out}`));
          }
        });
        check();
      });
    },
    async stop(signal = 'SIGTERM', timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Starts an API process and resolves once it listens; its URL is read from its log. */
export async function startApiProcess(env: Record<string, string>): Promise<NodeProcess & { url: string }> {
  const proc = startNode('api/main.ts', { PORT: '0', ...env });
  const line = await proc.waitForLog((l) => l['msg'] === 'api listening');
  return Object.assign(proc, { url: String(line['url']) });
}

/**
 * Node arguments that preload `clock-offset.mjs`: with `CLOCK_OFFSET_MS` in the process's environment,
 * its clock (`Date`) runs that many ms ahead (negative: behind) of the host's.
 */
export function clockOffsetArgs(): string[] {
  return ['--import', fileURLToPath(new URL('./clock-offset.mjs', import.meta.url))];
}

/** Starts a worker process and resolves once it takes jobs. */
export async function startWorkerProcess(env: Record<string, string>, nodeArgs: readonly string[] = []): Promise<NodeProcess> {
  const proc = startNode('worker/main.ts', env, nodeArgs);
  await proc.waitForLog((l) => l['msg'] === 'worker started');
  return proc;
}

/** Several genrelay processes sharing one Redis prefix and one in-test simulated upstream. */
export interface Cluster {
  readonly sim: Simulator;
  /** The environment every process gets (Redis, prefix, upstream). */
  readonly env: Readonly<Record<string, string>>;
  /** Starts an API process; it is tracked from the spawn on, so `stop()` ends it even if it never got ready. */
  api(extra?: Record<string, string>): Promise<NodeProcess & { url: string }>;
  /** Starts a worker process (tracked the same way). */
  worker(extra?: Record<string, string>): Promise<NodeProcess>;
  /** Log lines with this `msg` from every process of the cluster. */
  logs(msg: string): Promise<Record<string, unknown>[]>;
  /** Stops every process (SIGTERM, SIGKILL after 5 s) and the simulator. */
  stop(): Promise<void>;
}

/** Starts a simulator for a cluster of processes on a fresh key prefix; processes come on demand. */
export async function startCluster(name: string, env: Record<string, string> = {}): Promise<Cluster> {
  const sim = await startSimulator();
  const shared = {
    REDIS_URL: redisUrl(),
    KEY_PREFIX: uniquePrefix(name),
    ANTHROPIC_BASE_URL: sim.url,
    ANTHROPIC_API_KEY: 'test-key',
    ...env,
  };
  const procs: NodeProcess[] = [];
  const spawnTracked = (entry: 'api/main.ts' | 'worker/main.ts', extra: Record<string, string>) => {
    const proc = startNode(entry, { ...shared, ...extra });
    procs.push(proc);
    return proc;
  };
  return {
    sim,
    env: shared,
    async api(extra = {}) {
      const proc = spawnTracked('api/main.ts', { PORT: '0', ...extra });
      const line = await proc.waitForLog((l) => l['msg'] === 'api listening');
      return Object.assign(proc, { url: String(line['url']) });
    },
    async worker(extra = {}) {
      const proc = spawnTracked('worker/main.ts', extra);
      await proc.waitForLog((l) => l['msg'] === 'worker started');
      return proc;
    },
    async logs(msg) {
      const found = await Promise.all(
        procs.map((p) => p.waitForLog((l) => l['msg'] === msg, 1).catch(() => undefined)),
      );
      return found.filter((l): l is Record<string, unknown> => l !== undefined);
    },
    async stop() {
      await Promise.all(procs.splice(0).map((p) => p.stop('SIGTERM', 5000)));
      await sim.close();
    },
  };
}

/** CPU seconds (user + system) `pid` has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after "pid (comm) "; USER_HZ is 100.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
