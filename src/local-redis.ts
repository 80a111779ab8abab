import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Logger } from './shared/logger.js';
import { assertRedisReachable } from './shared/redis.js';

/** A `redis-server` that `npm start` started for the user. */
export interface LocalRedis {
  stop(): Promise<void>;
}

/** Where `redis-server` is looked for after PATH (Debian and source installs). */
export const redisServerSearchDirs = ['/usr/bin', '/usr/sbin', '/usr/local/bin'] as const;

/** Absolute path of the `redis-server` binary on PATH or in the usual dirs, or undefined. */
export function findRedisServerBinary(): string | undefined {
  const pathDirs = (process.env['PATH'] ?? '').split(delimiter).filter((d) => d !== '');
  for (const dir of [...pathDirs, ...redisServerSearchDirs]) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The `npm start` convenience: when REDIS_URL was not set, nothing answers at the default address and
 * `redis-server` is installed, start one (in-memory, on the default port) for this run. Otherwise do
 * nothing and let the usual start-up check report what is missing.
 */
export async function startLocalRedisIfMissing(url: string, isDefault: boolean, logger: Logger): Promise<LocalRedis | undefined> {
  if (!isDefault) return undefined;
  try {
    await assertRedisReachable(url, 1000);
    return undefined;
  } catch {
    // fall through: try to start one
  }
  const binary = findRedisServerBinary();
  if (binary === undefined) return undefined;
  const port = new URL(url).port || '6379';
  const dir = mkdtempSync(join(tmpdir(), 'genrelay-redis-'));
  const child: ChildProcess = spawn(
    binary,
    ['--port', port, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  logger.warn({ binary, port, pid: child.pid }, 'no Redis at REDIS_URL: started a local in-memory redis-server for this run');
  for (let i = 0; i < 50; i += 1) {
    try {
      await assertRedisReachable(url, 500);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
