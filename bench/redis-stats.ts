import type { Redis } from 'ioredis';

/** Calls per command name from `INFO commandstats` (commands run inside scripts included). */
export type CommandCalls = Readonly<Record<string, number>>;

/** Reads `INFO commandstats` into calls per command (lower-case names, e.g. `evalsha`, `publish`). */
export async function commandCalls(redis: Redis): Promise<CommandCalls> {
  const info = await redis.info('commandstats');
  const calls: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1] ?? ''] = Number(match[2]);
  return calls;
}

/** Calls per command between two snapshots (commands absent before count from zero). */
export function diffCalls(before: CommandCalls, after: CommandCalls): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of Object.entries(after)) {
    const d = n - (before[name] ?? 0);
    if (d > 0) out[name] = d;
  }
  return out;
}

/** Sum of every command's calls. */
export function totalCalls(calls: Readonly<Record<string, number>>): number {
  let total = 0;
  for (const n of Object.values(calls)) total += n;
  return total;
}

/**
 * `total_reads_processed` from `INFO stats`: socket reads Redis served, from every client. A pipelined
 * burst of commands is one read, so over a window this bounds the round trips clients made.
 */
export async function readsProcessed(redis: Redis): Promise<number> {
  return Number(/^total_reads_processed:(\d+)/m.exec(await redis.info('stats'))?.[1] ?? Number.NaN);
}

/** `redis_version` from `INFO server`. */
export async function redisVersion(redis: Redis): Promise<string> {
  return /^redis_version:(\S+)/m.exec(await redis.info('server'))?.[1] ?? 'unknown';
}
