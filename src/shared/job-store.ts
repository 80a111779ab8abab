import { randomBytes } from 'node:crypto';
import type { RedisClient } from './redis.js';
import type { JobEventType, SequencedEvent, TerminalStatus } from './events.js';
import { conversationKeys, globalKeys, jobKeys, recordFields as F, type JobKeys } from './keys.js';
import { scripts } from './scripts.js';
import { appendAlone, createAppendBatcher, type AppendSender } from './append-batcher.js';
import type {
  NewJob,
  NewConversation,
  ContinueOutcome,
  StoredConversation,
  WebhookDelivery,
  WriteId,
  WriteOutcome,
  CreateOutcome,
  StartOutcome,
  CancelOutcome,
  AppendBatch,
  JobEnd,
  StoredJob,
  JobStoreOptions,
} from './job-store-types.js';

// The shapes live in job-store-types.ts; importers keep importing them from here.
export type * from './job-store-types.js';

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
  const sendAppend: AppendSender = options.batchAppends === true ? createAppendBatcher(redis) : appendAlone(redis);

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
      return sendAppend(all(keys(id)), pushBatch([write.fence, write.op], batch)).then(outcome);
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
