import type { Redis } from 'ioredis';
import type { JobError, JobEventType, SequencedEvent, TerminalStatus } from './events.js';
import { globalKeys, jobKeys, recordFields as F, type JobKeys } from './keys.js';
import { scripts } from './scripts.js';

/** What a job needs at creation; stored on the record. */
export interface NewJob {
  readonly id: string;
  readonly model: string;
  /** The upstream Messages parameters (without `stream`), as JSON. */
  readonly params: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly maxDurationMs: number;
  readonly requestHash: string;
}

/** Outcome of a fenced write: `ok`, or why it was refused. */
export type WriteOutcome = 'ok' | 'gone' | 'ended' | 'fenced';

/** Outcome of `start`. */
export type StartOutcome =
  | { readonly kind: 'started'; readonly attempt: number; readonly deadlineAt: number; readonly params: string }
  | { readonly kind: 'ended'; readonly status: TerminalStatus }
  | { readonly kind: 'gone' };

/** Outcome of `cancel`. */
export type CancelOutcome = 'gone' | 'already_ended' | 'cancelled' | 'requested';

/** One batch of an attempt's output, written in one round trip. */
export interface AppendBatch {
  /** Output text to add to the record's `text`. */
  readonly text: string;
  readonly events: readonly { readonly type: JobEventType; readonly data: string }[];
  /** Record fields to set (usage, stop reason). */
  readonly fields: Readonly<Record<string, string | number>>;
}

/** The raw record hash plus the current text, read together. */
export interface StoredJob {
  readonly hash: Readonly<Record<string, string>>;
  readonly text: string;
}

/** Options of {@link createJobStore}. */
export interface JobStoreOptions {
  readonly keyPrefix: string;
  /** Lifetime of a finished job's keys. */
  readonly resultTtlS: number;
  /** Longest any job may run; the keys of a running job live `resultTtlS` beyond it. */
  readonly maxDurationMs: number;
}

const codes: Record<number, WriteOutcome> = { [-1]: 'gone', [-2]: 'ended', [-3]: 'fenced' };
const outcome = (n: unknown): WriteOutcome => (Number(n) >= 0 ? 'ok' : (codes[Number(n)] ?? 'gone'));
const flat = (fields: Readonly<Record<string, string | number>>): (string | number)[] =>
  Object.entries(fields).flat();

/** Every read and write of a job's keys; the state transitions are the Lua scripts in `lua/`. */
export interface JobStore {
  keys(id: string): JobKeys;
  /** Creates the record and its `status queued` event; the created_at ms, or undefined if it exists. */
  create(job: NewJob): Promise<number | undefined>;
  start(id: string, workerId: string): Promise<StartOutcome>;
  append(id: string, attempt: number, batch: AppendBatch): Promise<WriteOutcome>;
  requeue(id: string, attempt: number, reason: string): Promise<WriteOutcome>;
  /** The terminal transition; `attempt` undefined = unfenced (cancel, reaper). */
  finish(
    id: string,
    end: { status: TerminalStatus; attempt?: number; error?: JobError; fields?: Readonly<Record<string, string | number>> },
  ): Promise<WriteOutcome>;
  cancel(id: string): Promise<CancelOutcome>;
  read(id: string): Promise<StoredJob | undefined>;
  /** The record's status, or undefined when the job is unknown or expired. */
  status(id: string): Promise<string | undefined>;
  /** Status and last sequence number, or undefined when the job is unknown or expired. */
  progress(id: string): Promise<{ status: string; seq: number } | undefined>;
  /** Indexes a started job by its deadline, for the reaper (outside the job's slot, so not in start.lua). */
  trackDeadline(id: string, deadlineAt: number): Promise<void>;
  /** Removes a job from the deadline index. */
  untrackDeadline(id: string): Promise<void>;
  /** Ids of jobs whose deadline is at or before `now`, oldest first. */
  dueDeadlines(now: number, limit: number): Promise<string[]>;
  /** Which of `ids` have their cancel flag set (one round trip). */
  cancelRequested(ids: readonly string[]): Promise<string[]>;
  /** Up to `limit` events with sequence numbers above `afterSeq`, in order. */
  readEvents(id: string, afterSeq: number, limit: number): Promise<SequencedEvent[]>;
}

/** Creates the job store over one Redis connection (commands only, no blocking calls). */
export function createJobStore(redis: Redis, options: JobStoreOptions): JobStore {
  const { keyPrefix, resultTtlS } = options;
  const runningTtlS = resultTtlS + Math.ceil(options.maxDurationMs / 1000);
  const keys = (id: string) => jobKeys(keyPrefix, id);
  const all = (k: JobKeys) => [k.record, k.log, k.text, k.channel];
  const deadlines = globalKeys(keyPrefix).deadlines;

  return {
    keys,
    async create(job) {
      const res = await scripts.create.run(redis, all(keys(job.id)), [
        resultTtlS,
        ...flat({
          [F.id]: job.id,
          [F.model]: job.model,
          [F.params]: job.params,
          [F.metadata]: JSON.stringify(job.metadata),
          [F.maxDurationMs]: job.maxDurationMs,
          [F.requestHash]: job.requestHash,
        }),
      ]);
      return Number(res) > 0 ? Number(res) : undefined;
    },
    async start(id, workerId) {
      const res = (await scripts.start.run(redis, all(keys(id)), [workerId, runningTtlS, resultTtlS])) as unknown[];
      const kind = String(res[0]);
      if (kind === 'started') {
        return { kind, attempt: Number(res[1]), deadlineAt: Number(res[2]), params: String(res[3]) };
      }
      if (kind === 'ended') return { kind, status: String(res[1]) as TerminalStatus };
      return { kind: 'gone' };
    },
    async append(id, attempt, batch) {
      const events = batch.events.flatMap((e) => [e.type, e.data]);
      const args = [attempt, batch.text, batch.events.length, ...events, ...flat(batch.fields)];
      return outcome(await scripts.append.run(redis, all(keys(id)), args));
    },
    async requeue(id, attempt, reason) {
      return outcome(await scripts.requeue.run(redis, all(keys(id)), [attempt, reason]));
    },
    async finish(id, end) {
      const args = [
        end.attempt ?? '',
        end.status,
        end.error === undefined ? '' : JSON.stringify(end.error),
        resultTtlS,
        ...flat(end.fields ?? {}),
      ];
      return outcome(await scripts.finish.run(redis, all(keys(id)), args));
    },
    async cancel(id) {
      const res = (await scripts.cancel.run(redis, all(keys(id)), [resultTtlS])) as unknown[];
      const kind = String(res[0]);
      return kind === 'ended' ? 'already_ended' : (kind as CancelOutcome);
    },
    async read(id) {
      const k = keys(id);
      const [[, hash], [, text]] = (await redis.multi().hgetall(k.record).get(k.text).exec()) as [
        [unknown, Record<string, string>],
        [unknown, string | null],
      ];
      if (hash === null || Object.keys(hash).length === 0) return undefined;
      return { hash, text: text ?? '' };
    },
    async status(id) {
      return (await redis.hget(keys(id).record, F.status)) ?? undefined;
    },
    async trackDeadline(id, deadlineAt) {
      await redis.zadd(deadlines, deadlineAt, id);
    },
    async untrackDeadline(id) {
      await redis.zrem(deadlines, id);
    },
    async dueDeadlines(now, limit) {
      return redis.zrangebyscore(deadlines, '-inf', now, 'LIMIT', 0, limit);
    },
    async cancelRequested(ids) {
      if (ids.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hget(keys(id).record, F.cancelRequestedAt);
      const replies = (await pipeline.exec()) ?? [];
      return ids.filter((_, i) => {
        const value = replies[i]?.[1];
        return typeof value === 'string' && value !== '';
      });
    },
    async progress(id) {
      const [status, seq] = await redis.hmget(keys(id).record, F.status, F.seq);
      return status === null || status === undefined ? undefined : { status, seq: Number(seq ?? 0) };
    },
    async readEvents(id, afterSeq, limit) {
      const entries = (await redis.xrange(keys(id).log, `${afterSeq + 1}-0`, '+', 'COUNT', limit)) as [
        string,
        string[],
      ][];
      return entries.map(([entryId, fields]) => ({
        seq: Number(entryId.slice(0, entryId.indexOf('-'))),
        type: fields[1] as JobEventType,
        data: fields[3] ?? '',
      }));
    },
  };
}
