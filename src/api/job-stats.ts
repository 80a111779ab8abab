import type { RedisClient } from '../shared/redis.js';
import type { JobStore } from '../shared/job-store.js';
import { toRecordView, type JobRecordView } from '../shared/job-record.js';
import { recordFields as F } from '../shared/keys.js';
import type { Presence } from './presence.js';

/** A job's counters as `GET /v1/jobs/{id}/stats` shows them: the record's small fields, no text. */
export type JobStats = Pick<JobRecordView, 'id' | 'status' | 'attempt' | 'usage' | 'metrics' | 'viewers'>;

/** The record fields the counters are built from (one HMGET; the text and the event log are not read). */
const fields = [
  F.id, F.status, F.attempt, F.createdAt, F.startedAt, F.attemptStartedAt, F.firstTokenAt, F.finishedAt,
  F.inputTokens, F.outputTokens, F.usageMore,
] as const;

/** Dependencies of {@link createStatsReader}. */
export interface StatsReaderDeps {
  readonly redis: RedisClient;
  readonly store: JobStore;
  readonly presence: Presence;
  /** How long one node reuses a job's counters for every viewer asking. Default 1000. */
  readonly cacheMs?: number;
}

/** Above this many cached jobs, expired entries are swept on the next read. */
const sweepAbove = 1000;

/**
 * Reads a job's counters (undefined for an unknown or expired job) with two small commands, an
 * HMGET of the record and an HVALS of its presence hash. Every request for the same job within
 * `cacheMs` on this node shares one read, in flight or done, so N pages polling one job cost this
 * node one read per `cacheMs`, not N. Unknown jobs are not cached (the job may appear a moment later).
 */
export function createStatsReader(deps: StatsReaderDeps): (id: string) => Promise<JobStats | undefined> {
  const cacheMs = deps.cacheMs ?? 1000;
  const cache = new Map<string, { readonly expiresAt: number; readonly stats: Promise<JobStats | undefined> }>();

  const read = async (id: string): Promise<JobStats | undefined> => {
    const [values, viewers] = await Promise.all([deps.redis.hmget(deps.store.keys(id).record, ...fields), deps.presence.count(id)]);
    const hash: Record<string, string> = {};
    fields.forEach((field, i) => {
      const value = values[i];
      if (typeof value === 'string') hash[field] = value;
    });
    if (hash[F.status] === undefined) return undefined;
    // The record's own builder, so the counters are computed exactly as the record shows them.
    const { id: jobId, status, attempt, usage, metrics } = toRecordView({ hash, text: '', events: [] }, viewers);
    return { id: jobId, status, attempt, usage, metrics, viewers };
  };

  return (id) => {
    const now = Date.now();
    const cached = cache.get(id);
    if (cached !== undefined && cached.expiresAt > now) return cached.stats;
    if (cache.size > sweepAbove) {
      for (const [key, entry] of cache) if (entry.expiresAt <= now) cache.delete(key);
    }
    const stats = read(id);
    const entry = { expiresAt: now + cacheMs, stats };
    cache.set(id, entry);
    const forget = () => {
      if (cache.get(id) === entry) cache.delete(id);
    };
    stats.then((s) => (s === undefined ? forget() : undefined), forget);
    return stats;
  };
}
