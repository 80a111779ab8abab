import type { RedisClient } from '../shared/redis.js';
import type { Logger } from '../shared/logger.js';

/** Live viewer counts across every API node, kept in Redis. */
export interface Presence {
  /** This node now has `count` viewers of `jobId` (written to Redis within `flushMs`). */
  set(jobId: string, count: number): void;
  /** Viewers of `jobId` on every node whose entry has not expired. */
  count(jobId: string): Promise<number>;
  /** Removes this node's entries; idempotent. */
  close(): Promise<void>;
}

/** Dependencies of {@link createPresence}. */
export interface PresenceDeps {
  readonly redis: RedisClient;
  /** The presence hash of a job (one field per API node). */
  readonly keyOf: (jobId: string) => string;
  readonly nodeId: string;
  readonly logger: Logger;
  /** An entry not refreshed for this long no longer counts (a node that died). Default 15000. */
  readonly ttlMs?: number;
  /** Changes are batched for this long, so a crowd arriving costs one write per job. Default 250. */
  readonly flushMs?: number;
}

/**
 * Each node writes `field = nodeId, value = "<count> <expiresAtMs>"` into the job's presence hash and
 * refreshes its entries every `ttlMs / 3`; readers sum the entries that have not expired. A node that
 * dies stops refreshing, so its viewers stop counting after `ttlMs` without anyone cleaning up.
 */
export function createPresence(deps: PresenceDeps): Presence {
  const ttlMs = deps.ttlMs ?? 15_000;
  const local = new Map<string, number>();
  const dirty = new Set<string>();

  // One command per job, sent together (the keys live in many Cluster slots; auto-pipelining still
  // writes them in one go per node).
  const write = async (jobIds: Iterable<string>) => {
    const expiresAt = Date.now() + ttlMs;
    const writes: Promise<unknown>[] = [];
    for (const jobId of jobIds) {
      const key = deps.keyOf(jobId);
      const count = local.get(jobId) ?? 0;
      if (count > 0) {
        writes.push(deps.redis.hset(key, deps.nodeId, `${count} ${expiresAt}`), deps.redis.pexpire(key, ttlMs * 2));
      } else {
        writes.push(deps.redis.hdel(key, deps.nodeId));
        local.delete(jobId);
      }
    }
    await Promise.all(writes);
  };
  const flush = () => {
    if (dirty.size === 0) return;
    const ids = [...dirty];
    dirty.clear();
    write(ids).catch((err: unknown) => deps.logger.warn({ err }, 'presence write failed'));
  };
  const flushTimer = setInterval(flush, deps.flushMs ?? 250);
  const refreshTimer = setInterval(() => {
    write([...local.keys()]).catch((err: unknown) => deps.logger.warn({ err }, 'presence refresh failed'));
  }, Math.max(100, Math.floor(ttlMs / 3)));
  flushTimer.unref();
  refreshTimer.unref();

  let closing: Promise<void> | undefined;
  return {
    set(jobId, count) {
      local.set(jobId, count);
      dirty.add(jobId);
    },
    async count(jobId) {
      const entries = await deps.redis.hvals(deps.keyOf(jobId));
      const now = Date.now();
      let total = 0;
      for (const entry of entries) {
        const [count, expiresAt] = entry.split(' ').map(Number);
        if (count !== undefined && expiresAt !== undefined && expiresAt > now) total += count;
      }
      return total;
    },
    close() {
      closing ??= (async () => {
        clearInterval(flushTimer);
        clearInterval(refreshTimer);
        for (const jobId of local.keys()) local.set(jobId, 0);
        await write([...local.keys()]).catch(() => {});
      })();
      return closing;
    },
  };
}
