import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findRedisServerBinary, redisServerSearchDirs } from '../../src/local-redis.js';
import { freePort } from './free-port.js';

export { findRedisServerBinary };

/** Options of `startRedisServer`. */
export interface RedisServerOptions {
  /** Port to listen on (127.0.0.1 only). Default: a free port. */
  readonly port?: number;
  /** Turn on the append-only file, so data survives `kill()` + `restart()`. Default false. */
  readonly appendonly?: boolean;
  /** Working directory (AOF, log). Default: a new temp dir, removed when the process exits. */
  readonly dir?: string;
  /** More `redis-server` arguments (e.g. `--cluster-enabled yes`), kept across `restart()`. */
  readonly extraArgs?: readonly string[];
  /**
   * TLS only: the server listens with TLS on `port` (no plain port; on a cluster node its bus too)
   * with this certificate, and clients are not asked for one. PING waits then trust `caFile`.
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

/** A private `redis-server` process, for tests that kill or restart Redis under a running system. */
export interface RedisServerHandle {
  /** `redis://127.0.0.1:PORT`. Stays the same across `restart()`. */
  readonly url: string;
  /** The port; stays the same across `restart()`. */
  readonly port: number;
  /** Pid of the current (or last) process; changes on `restart()`. */
  readonly pid: number;
  /** Working directory: the AOF and `redis.log` live here. */
  readonly dir: string;
  /**
   * The end of this server: SIGTERM, wait for the exit (SIGKILL after 10 s), remove the temp dir it
   * created (not a `dir` you passed). Idempotent. For a server that comes back, use `kill()` or `restart()`.
   */
  stop(): Promise<void>;
  /** SIGKILL, wait for the exit: a crash, nothing flushed at shutdown; the dir stays. Idempotent. */
  kill(): Promise<void>;
  /**
   * Start again on the same port and dir (SIGTERM first if still running, so the AOF is flushed);
   * resolves on PONG. Rejects after `stop()`.
   */
  restart(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 10_000;

/**
 * Spawns `redis-server` bound to 127.0.0.1 with `--save ""`, waits until it answers PING and returns
 * its handle. Call `stop()` in `afterEach`/`afterAll`: vitest ends its forks with SIGTERM, which runs no
 * exit hook, so a server never stopped outlives the test run.
 */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const bin = findRedisServerBinary();
  if (bin === undefined) {
    throw new Error(
      `redis-server not found on PATH or in ${redisServerSearchDirs.join(', ')}: install it (apt-get install -y redis-server)`,
    );
  }
  let dir = opts.dir;
  if (dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'genrelay-redis-'));
    ownedDirs.add(dir);
  } else {
    await mkdir(dir, { recursive: true });
  }
  const appendonly = opts.appendonly ?? false;
  const tls = opts.tls;
  const extraArgs = [...(opts.extraArgs ?? []), ...(tls === undefined ? [] : tlsArgs(tls))];

  // A port from freePort() can be taken before redis binds it; only then is a fresh one worth trying.
  let port = opts.port ?? (await freePort());
  let proc: RedisProcess;
  for (let attempt = 1; ; attempt++) {
    try {
      proc = await spawnRedis(bin, port, dir, appendonly, extraArgs, tls?.caFile);
      break;
    } catch (err) {
      if (opts.port === undefined && attempt < 5 && err instanceof AddressInUseError) {
        port = await freePort();
        continue;
      }
      // The error already quotes the log, so the temp dir has nothing left to tell.
      if (ownedDirs.delete(dir)) await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  const settledDir = dir;
  let stopped: Promise<void> | undefined;
  const handle: RedisServerHandle = {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return proc.pid;
    },
    dir: settledDir,
    stop() {
      // The temp dir goes here, not at exit: vitest ends its forks with SIGTERM, so no 'exit' hook runs.
      stopped ??= (async () => {
        await proc.stop();
        if (ownedDirs.delete(settledDir)) await rm(settledDir, { recursive: true, force: true });
      })();
      return stopped;
    },
    kill: () => proc.kill(),
    async restart() {
      if (stopped !== undefined) {
        throw new Error(`redis-server on port ${port} was stop()ped for good: use kill() or restart() to bring it back`);
      }
      await proc.stop();
      // After a SIGKILL the kernel frees the listening socket at once, but give a straggler a moment.
      for (let attempt = 1; ; attempt++) {
        try {
          proc = await spawnRedis(bin, port, settledDir, appendonly, extraArgs, tls?.caFile);
          return;
        } catch (err) {
          if (attempt >= 20 || !(err instanceof AddressInUseError)) throw err;
          await sleep(100);
        }
      }
    },
  };
  return handle;
}

/** The port (or, on a cluster node, its bus port: port + 10000) was taken. */
export class AddressInUseError extends Error {}

interface RedisProcess {
  readonly pid: number;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** Arguments that move a server's port (and a cluster node's bus) to TLS. */
function tlsArgs(tls: NonNullable<RedisServerOptions['tls']>): string[] {
  return [
    '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-ca-cert-file', tls.caFile,
    '--tls-auth-clients', 'no', '--tls-cluster', 'yes', '--tls-replication', 'yes',
  ];
}

async function spawnRedis(bin: string, port: number, dir: string, appendonly: boolean, extraArgs: readonly string[], tlsCaFile?: string): Promise<RedisProcess> {
  const logFile = join(dir, 'redis.log');
  const args = [
    ...(tlsCaFile === undefined ? ['--port', String(port)] : ['--port', '0', '--tls-port', String(port)]),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', appendonly ? 'yes' : 'no',
    '--dir', dir,
    '--logfile', logFile,
    '--daemonize', 'no',
    ...extraArgs,
  ];
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4096);
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });
  const exited = new Promise<void>((resolve) => {
    if (hasExited(child)) resolve();
    else child.once('exit', () => resolve());
  });
  child.once('exit', () => liveChildren.delete(child));
  liveChildren.add(child);
  ensureExitHook();

  const describe = (what: string): string => {
    const log = tail(logFile);
    return [
      `redis-server on port ${port} ${what}`,
      `  command: ${bin} ${args.map((a) => (a === '' ? '""' : a)).join(' ')}`,
      stderr.trim() !== '' ? `  stderr: ${stderr.trim()}` : '',
      log !== '' ? `  ${logFile} (tail):\n${log}` : '',
    ].filter((l) => l !== '').join('\n');
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (spawnError !== undefined) throw new Error(describe(`failed to spawn: ${spawnError.message}`));
    if (hasExited(child)) {
      const message = describe(`exited during start-up (code ${child.exitCode}, signal ${child.signalCode})`);
      throw /Address already in use/i.test(message) ? new AddressInUseError(message) : new Error(message);
    }
    if (await ping(port, tlsCaFile)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(describe(`did not answer PING within ${READY_TIMEOUT_MS} ms`));
    }
    await sleep(25);
  }

  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid ?? -1,
    stop() {
      stopping ??= (async () => {
        if (hasExited(child)) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
    async kill() {
      if (!hasExited(child)) child.kill('SIGKILL');
      await exited;
    },
  };
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** True when something on 127.0.0.1:port answers a RESP PING with +PONG (not -LOADING). */
/** PONG, or NOAUTH from a server with a password: either way it answers. */
async function ping(port: number, tlsCaFile?: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket =
      tlsCaFile === undefined
        ? connect({ port, host: '127.0.0.1' })
        : tlsConnect({ port, host: '127.0.0.1', ca: readFileSync(tlsCaFile), servername: 'localhost' });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
    socket.once(tlsCaFile === undefined ? 'connect' : 'secureConnect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH'));
    });
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-15).map((l) => `    ${l}`).join('\n');
  } catch {
    return '';
  }
}

// Safety net for a script or test that forgets stop(): kill its servers and remove temp dirs when the
// process exits normally (not on a signal, which is how vitest ends its forks).
const liveChildren = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let exitHookInstalled = false;
function ensureExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of liveChildren) child.kill('SIGKILL');
    for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  });
}
