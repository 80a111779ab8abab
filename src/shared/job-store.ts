import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.js';
import type { JobError, JobEventType, SequencedEvent, TerminalStatus } from './events.js';
import { conversationKeys, globalKeys, jobKeys, recordFields as F, type JobKeys } from './keys.js';
import { scripts } from './scripts.js';

/** What a job needs at creation; stored on the record. */
export interface NewJob {
  readonly id: string;
  readonly model: string;
  /** The upstream Messages parameters (without `stream` and `messages`: those are the conversation's history), as JSON. */
  readonly params: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly maxDurationMs: number;
  readonly requestHash: string;
  /** Where to POST when the job ends. */
  readonly webhookUrl?: string | undefined;
  readonly priority?: number | undefined;
  /** `json_schema` for structured output (the record then shows `output`). */
  readonly outputFormat?: string | undefined;
  readonly conversationId: string;
  readonly turn: number;
  readonly previousJobId?: string | undefined;
  /** The job a fork continued (it had a continuation already). */
  readonly forkedFrom?: string | undefined;
  /** The upstream gets the conversation's first `historyLen` messages. */
  readonly historyLen: number;
  /** This turn's own messages start at this index of the history. */
  readonly historyFrom: number;
  /** Prompt-cache breakpoints in the history this job's upstream gets. */
  readonly historyBreakpoints?: number | undefined;
  /** The submitting request's W3C `traceparent` (tracing on only). */
  readonly traceparent?: string | undefined;
}

/** A new conversation's own fields, for {@link JobStore.create}. */
export interface NewConversation {
  readonly id: string;
  readonly firstTurn: number;
  /** Its history so far, one JSON message each: a fork's copied prefix, then this turn's messages. */
  readonly history: readonly string[];
  readonly forkedFrom?: string | undefined;
  readonly forkedFromConversation?: string | undefined;
}

/** Outcome of {@link JobStore.continueConversation}. */
export type ContinueOutcome =
  | CreateOutcome
  /** The previous job is unknown or expired. */
  | { readonly kind: 'gone' }
  /** The previous job is not `completed` or `cancelled`. */
  | { readonly kind: 'status'; readonly status: string }
  /** The previous job has a continuation already: start a new conversation (a fork). */
  | { readonly kind: 'fork' };

/** A conversation as stored: its hash, its history and its turns' job ids. */
export interface StoredConversation {
  readonly meta: Readonly<Record<string, string>>;
  readonly history: readonly string[];
  readonly turns: readonly string[];
}

/** The delivery state of a job's webhook, as {@link JobStore.recordWebhook} writes it. */
export interface WebhookDelivery {
  readonly status: 'pending' | 'delivered' | 'failed' | 'gone' | 'refused';
  readonly attempts: number;
  readonly lastStatus: number | undefined;
  readonly lastError: string | undefined;
}

/**
 * One write of an attempt: the attempt's fence and the write's number within it. Redis keeps the id
 * of the last write applied, so a write that ioredis sends again after a reconnect (its reply was
 * lost, but Redis had run it) changes nothing the second time and gets the first answer.
 */
export interface WriteId {
  readonly fence: number;
  readonly op: number;
}

/** Outcome of a fenced write: `ok`, or why it was refused (`not_due`: a deadline not yet passed). */
export type WriteOutcome = 'ok' | 'gone' | 'ended' | 'fenced' | 'not_due';

/** Outcome of `create`. */
export type CreateOutcome =
  /** `queueJobId`: the BullMQ job id to queue it under (unique per record). */
  | { readonly kind: 'created'; readonly createdAt: number; readonly queueJobId: string }
  /** A job with this id and the same request exists; `enqueued` once it reached the queue. */
  | { readonly kind: 'exists'; readonly enqueued: boolean; readonly queueJobId: string }
  /** The id is taken by a different request (an Idempotency-Key reused with another body). */
  | { readonly kind: 'conflict' };

/** Outcome of `start`. */
export type StartOutcome =
  | {
      readonly kind: 'started';
      /** The attempt as counted against `JOB_ATTEMPTS` (a hand-back does not use one up). */
      readonly attempt: number;
      /** Unique per start: every write of this attempt is checked against it. */
      readonly fence: number;
      readonly deadlineAt: number;
      /** Milliseconds left before the deadline, on the Redis clock (arm timers from this, not from `deadlineAt`). */
      readonly remainingMs: number;
      readonly params: string;
      /** The job's turn in its conversation (1: its first). */
      readonly turn: number;
      /** The conversation's messages the upstream gets (JSON each); empty for a job whose params hold them. */
      readonly history: readonly string[];
    }
  | { readonly kind: 'ended'; readonly status: TerminalStatus }
  | { readonly kind: 'gone' }
  /** A replay of this start arrived after a later start (another worker's) replaced it. */
  | { readonly kind: 'superseded' };

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

/** How a job ends, for {@link JobStore.finish}. */
export interface JobEnd {
  readonly status: TerminalStatus;
  /** The attempt's write; undefined = unfenced (cancel, the reaper, a failure BullMQ decided). */
  readonly write?: WriteId;
  readonly error?: JobError;
  /** The attempt's last output, written with the ending (a batch Redis refused until now). */
  readonly batch?: AppendBatch;
  /** Only if the job's deadline passed at least this many ms ago on the Redis clock (the reaper). */
  readonly overdueByMs?: number;
}

/** The raw record hash, the current text and the current attempt's events, read together. */
export interface StoredJob {
  readonly hash: Readonly<Record<string, string>>;
  readonly text: string;
  /** The log from the current attempt's `status running` on (what its content is folded from). */
  readonly events: readonly SequencedEvent[];
}

/** Options of {@link createJobStore}. */
export interface JobStoreOptions {
  readonly keyPrefix: string;
  /**
   * Lifetime of a finished job's keys, counted from its end. A job that has not ended keeps its keys
   * (a record that never reached the queue has this as a provisional TTL).
   */
  readonly resultTtlS: number;
}

const codes: Record<number, WriteOutcome> = { [-1]: 'gone', [-2]: 'ended', [-3]: 'fenced', [-4]: 'not_due' };
const outcome = (n: unknown): WriteOutcome => (Number(n) >= 0 ? 'ok' : (codes[Number(n)] ?? 'gone'));
const flat = (fields: Readonly<Record<string, string | number>>): (string | number)[] =>
  Object.entries(fields).flat();
/**
 * Appends a batch to `args` as the scripts take it: text, the number of events, their type/data pairs,
 * then the record's field/value pairs. Pushed, not spread: `append` runs once per delta at low load.
 */
const pushBatch = (args: (string | number)[], batch: AppendBatch): (string | number)[] => {
  args.push(batch.text, batch.events.length);
  for (const e of batch.events) args.push(e.type, e.data);
  for (const [name, value] of Object.entries(batch.fields)) args.push(name, value);
  return args;
};
const noBatch: AppendBatch = { text: '', events: [], fields: {} };

/** Every read and write of a job's keys; the state transitions are the Lua scripts in `lua/`. */
export interface JobStore {
  keys(id: string): JobKeys;
  /**
   * Creates the record and its `status queued` event as the first turn of a new conversation, with a
   * provisional TTL on both until {@link confirm}.
   */
  create(job: NewJob, conversation: NewConversation): Promise<CreateOutcome>;
  /**
   * Creates the record as the next turn after `previous` (whose history had `previous.historyLen`
   * messages), adding `messages` (JSON each) to the conversation's history, if `previous` is still the
   * conversation's last turn.
   */
  continueConversation(job: NewJob, previous: { readonly id: string; readonly historyLen: number }, messages: readonly string[]): Promise<ContinueOutcome>;
  /** A conversation's hash, history and turns, or undefined when it is unknown or expired. */
  readConversation(conversationId: string): Promise<StoredConversation | undefined>;
  /** The job is on the queue: its keys live until it ends. False when the record is gone. */
  confirm(id: string): Promise<boolean>;
  /** Starts the next attempt; past `maxAttempts` counted attempts the job ends `failed` instead. */
  start(id: string, workerId: string, maxAttempts: number): Promise<StartOutcome>;
  append(id: string, write: WriteId, batch: AppendBatch): Promise<WriteOutcome>;
  /** Ends the attempt, not the job; a `handBack` (shutdown) does not count as a used attempt. */
  requeue(id: string, write: WriteId, reason: string, handBack?: boolean): Promise<WriteOutcome>;
  /** The terminal transition. */
  finish(id: string, end: JobEnd): Promise<WriteOutcome>;
  cancel(id: string): Promise<CancelOutcome>;
  /** Writes the webhook's delivery state on the record; false when the record is gone. */
  recordWebhook(id: string, delivery: WebhookDelivery): Promise<boolean>;
  read(id: string): Promise<StoredJob | undefined>;
  /** The record's status, or undefined when the job is unknown or expired. */
  status(id: string): Promise<string | undefined>;
  /** The last sequence number of each of `ids`; undefined for a job with no record (unknown, expired, lost). */
  lastSeqs(ids: readonly string[]): Promise<Map<string, number | undefined>>;
  /** Status and last sequence number, or undefined when the job is unknown or expired. */
  progress(id: string): Promise<{ status: string; seq: number } | undefined>;
  /** Indexes a started job by its deadline, for the reaper (outside the job's slot, so not in start.lua). */
  trackDeadline(id: string, deadlineAt: number): Promise<void>;
  /** Removes a job from the deadline index. */
  untrackDeadline(id: string): Promise<void>;
  /** Ids of jobs whose deadline passed at least `graceMs` ago on the Redis clock, oldest first. */
  dueDeadlines(limit: number, graceMs: number): Promise<string[]>;
  /** Which of `ids` have their cancel flag set (one round trip). */
  cancelRequested(ids: readonly string[]): Promise<string[]>;
  /** Up to `limit` events with sequence numbers above `afterSeq`, in order. */
  readEvents(id: string, afterSeq: number, limit: number): Promise<SequencedEvent[]>;
}

/** Creates the job store over one Redis connection (commands only, no blocking calls). */
export function createJobStore(redis: RedisClient, options: JobStoreOptions): JobStore {
  const { keyPrefix, resultTtlS } = options;
  const keys = (id: string) => jobKeys(keyPrefix, id);
  const all = (k: JobKeys) => [k.record, k.log, k.text, k.channel];
  const deadlines = globalKeys(keyPrefix).deadlines;

  return {
    keys,
    async create(job, conversation) {
      const token = randomBytes(9).toString('base64url');
      const meta = flat({
        id: conversation.id,
        turns: 1,
        first_turn: conversation.firstTurn,
        last_job_id: job.id,
        ...(conversation.forkedFrom === undefined ? {} : { forked_from: conversation.forkedFrom }),
        ...(conversation.forkedFromConversation === undefined ? {} : { forked_from_conversation: conversation.forkedFromConversation }),
      });
      const res = (await scripts.create.run(redis, all(keys(job.id)), [
        resultTtlS,
        job.requestHash,
        token,
        `${job.id}.${token}`,
        conversation.history.length,
        ...conversation.history,
        meta.length / 2,
        ...meta,
        ...recordFields(job),
      ])) as unknown[];
      return createOutcome(res);
    },
    async continueConversation(job, previous, messages) {
      const token = randomBytes(9).toString('base64url');
      const res = (await scripts.continue.run(redis, all(keys(job.id)), [
        resultTtlS,
        job.requestHash,
        token,
        `${job.id}.${token}`,
        previous.id,
        previous.historyLen,
        messages.length,
        ...messages,
        ...recordFields(job),
      ])) as unknown[];
      const kind = String(res[0]);
      if (kind === 'gone' || kind === 'fork') return { kind };
      if (kind === 'status') return { kind, status: String(res[1]) };
      return createOutcome(res);
    },
    async readConversation(conversationId) {
      const k = conversationKeys(keyPrefix, conversationId);
      const [meta, history, turns] = (await scripts.readConversation.run(redis, [k.meta, k.history, k.turns], [])) as [
        string[],
        string[],
        string[],
      ];
      if (meta.length === 0) return undefined;
      return { meta: pairs(meta), history, turns };
    },
    async confirm(id) {
      return Number(await scripts.confirm.run(redis, all(keys(id)), [])) === 1;
    },
    async start(id, workerId, maxAttempts) {
      // The token tells a replay of this very call (same arguments, resent by ioredis) from a new start.
      const token = randomBytes(9).toString('base64url');
      const res = (await scripts.start.run(redis, all(keys(id)), [workerId, token, maxAttempts, resultTtlS])) as unknown[];
      const kind = String(res[0]);
      if (kind === 'started') {
        return {
          kind,
          attempt: Number(res[1]),
          fence: Number(res[2]),
          deadlineAt: Number(res[3]),
          remainingMs: Number(res[4]),
          params: String(res[5]),
          turn: Number(res[6]),
          history: res.slice(7).map(String),
        };
      }
      if (kind === 'ended') return { kind, status: String(res[1]) as TerminalStatus };
      if (kind === 'superseded') return { kind };
      return { kind: 'gone' };
    },
    append(id, write, batch) {
      return scripts.append.run(redis, all(keys(id)), pushBatch([write.fence, write.op], batch)).then(outcome);
    },
    async requeue(id, write, reason, handBack = false) {
      return outcome(await scripts.requeue.run(redis, all(keys(id)), [write.fence, write.op, reason, handBack ? 1 : 0]));
    },
    async finish(id, end) {
      const args = pushBatch(
        [
          end.write?.fence ?? '',
          end.write?.op ?? '',
          end.status,
          end.error === undefined ? '' : JSON.stringify(end.error),
          resultTtlS,
          end.overdueByMs ?? '',
        ],
        end.batch ?? noBatch,
      );
      return outcome(await scripts.finish.run(redis, all(keys(id)), args));
    },
    async recordWebhook(id, d) {
      const args = [d.status, d.attempts, d.lastStatus ?? '', d.lastError ?? ''];
      return Number(await scripts.webhook.run(redis, all(keys(id)), args)) === 1;
    },
    async cancel(id) {
      const res = (await scripts.cancel.run(redis, all(keys(id)), [resultTtlS])) as unknown[];
      const kind = String(res[0]);
      return kind === 'ended' ? 'already_ended' : (kind as CancelOutcome);
    },
    async read(id) {
      const k = keys(id);
      const [flatHash, text, entries] = (await scripts.read.run(redis, [k.record, k.text, k.log], [])) as [
        string[],
        string | null,
        [string, string[]][],
      ];
      if (flatHash.length === 0) return undefined;
      return { hash: pairs(flatHash), text: text ?? '', events: entries.map(toEvent) };
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
    async dueDeadlines(limit, graceMs) {
      return (await scripts.dueDeadlines.run(redis, [deadlines], [limit, graceMs])) as string[];
    },
    // One command per job, sent together: the keys live in many slots (a Cluster has no cross-slot
    // pipeline), and auto-pipelining still puts them in one write per node.
    async cancelRequested(ids) {
      const flags = await Promise.all(ids.map((id) => redis.hget(keys(id).record, F.cancelRequestedAt)));
      return ids.filter((_, i) => {
        const value = flags[i];
        return typeof value === 'string' && value !== '';
      });
    },
    async lastSeqs(ids) {
      const seqs = await Promise.all(ids.map((id) => redis.hget(keys(id).record, F.seq)));
      return new Map(ids.map((id, i) => [id, seqs[i] === null || seqs[i] === undefined ? undefined : Number(seqs[i])]));
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
      return entries.map(toEvent);
    },
  };
}

/** A log entry (`<seq>-0`, fields `t` and `d`) as an event. */
const toEvent = ([entryId, fields]: [string, string[]]): SequencedEvent => ({
  seq: Number(entryId.slice(0, entryId.indexOf('-'))),
  type: fields[1] as JobEventType,
  data: fields[3] ?? '',
});

/** A flat field/value list (HGETALL) as an object. */
function pairs(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i] as string] = list[i + 1] as string;
  return out;
}

/** What `create` and `continue` answer. */
function createOutcome(res: readonly unknown[]): CreateOutcome {
  const kind = String(res[0]);
  if (kind === 'created') return { kind, createdAt: Number(res[1]), queueJobId: String(res[2]) };
  if (kind === 'exists') return { kind, enqueued: Number(res[1]) === 1, queueJobId: String(res[2]) };
  return { kind: 'conflict' };
}

/** The record fields of a new job, as field/value pairs for the scripts. */
function recordFields(job: NewJob): (string | number)[] {
  return flat({
    [F.id]: job.id,
    [F.model]: job.model,
    [F.params]: job.params,
    [F.metadata]: JSON.stringify(job.metadata),
    [F.maxDurationMs]: job.maxDurationMs,
    [F.conversationId]: job.conversationId,
    [F.turn]: job.turn,
    [F.historyLen]: job.historyLen,
    [F.historyFrom]: job.historyFrom,
    ...(job.historyBreakpoints === undefined ? {} : { [F.historyBreakpoints]: job.historyBreakpoints }),
    ...(job.previousJobId === undefined ? {} : { [F.previousJobId]: job.previousJobId }),
    ...(job.forkedFrom === undefined ? {} : { [F.forkedFrom]: job.forkedFrom }),
    ...(job.outputFormat === undefined ? {} : { [F.outputFormat]: job.outputFormat }),
    ...(job.priority === undefined ? {} : { [F.priority]: job.priority }),
    ...(job.traceparent === undefined ? {} : { [F.traceparent]: job.traceparent }),
    ...(job.webhookUrl === undefined ? {} : { [F.webhookUrl]: job.webhookUrl, [F.webhookStatus]: 'pending', [F.webhookAttempts]: 0 }),
  });
}
