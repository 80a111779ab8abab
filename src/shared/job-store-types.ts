/** The shapes the job store takes and answers (see job-store.ts). */
import type { JobError, JobEventType, SequencedEvent, TerminalStatus } from './events.js';

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
  /**
   * Batch the appends of different jobs made in one event-loop turn into one script call (the worker
   * does; see append-batcher.ts). Default false: each append is its own call.
   */
  readonly batchAppends?: boolean;
}
