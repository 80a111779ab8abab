/**
 * The types that cross the wire between genrelay and its clients: the job request, the answers, the
 * record, problems, webhooks; with the event union of `events.ts`. One module for the server and for
 * `genrelay/client`, so they cannot drift. Types only, and imports nothing with a runtime: safe in a
 * browser bundle.
 */
import type { ContentBlockView } from './content.js';
import type { JobError, JobStatus, TerminalStatus, Usage } from './events.js';
import type { GenerationParams, MessageParam } from './message-params.js';

export type { ContentBlockView, OtherContent, TextContent, ThinkingContent, ToolContent } from './content.js';

export type { DoneData, JobError, JobEvent, JobEventType, JobStatus, TerminalStatus, Usage } from './events.js';
export type * from './message-params.js';

/**
 * The body of `POST /v1/jobs` (API.md §2): Messages parameters for a generation, plus job options.
 * Without `previous_job_id`, `max_tokens` and at least one message are required; with it (continuing
 * that job's conversation, API.md §4.2) both may be left out, and `messages` may be empty.
 */
export type CreateJobBody = GenerationParams & {
  /** Capped by the server's `MAX_DURATION_MS`. */
  readonly max_duration_ms?: number;
  /** String values, stored and returned. */
  readonly metadata?: Readonly<Record<string, string>>;
  /** A signed POST to `url` when the job ends. */
  readonly webhook?: { readonly url: string };
  /** Lower runs first in a backlog (1 is the highest, as in BullMQ); none: after every prioritised job. */
  readonly priority?: number;
} & (
    | { readonly previous_job_id?: never; readonly max_tokens: number; readonly messages: readonly MessageParam[] }
    | {
        /** The job whose conversation this one continues. */
        readonly previous_job_id: string;
        readonly max_tokens?: number;
        readonly messages?: readonly MessageParam[];
      }
  );

/** The answer to `POST /v1/jobs` (202 for a new job, 200 for an Idempotency-Key replay). */
export interface JobSubmission {
  readonly id: string;
  readonly status: JobStatus;
  readonly created_at: string;
  readonly events_url: string;
  readonly viewer_token: string;
}

/** Delivery state of a job's webhook on its record. */
export interface WebhookState {
  /** `pending` until the job ends and a delivery lands or gives up. */
  readonly status: 'pending' | 'delivered' | 'failed' | 'gone' | 'refused';
  /** Delivery attempts made so far. */
  readonly attempts: number;
  /** The receiver's last HTTP status, or null (none yet, or a connection error). */
  readonly last_status: number | null;
  /** Why the last attempt did not deliver, when it did not. */
  readonly last_error: string | null;
}

/** The job record, `GET /v1/jobs/{id}` (API.md §2). */
export interface JobRecordView {
  readonly id: string;
  readonly status: JobStatus;
  readonly model: string;
  readonly attempt: number;
  readonly created_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly cancel_requested_at: string | null;
  readonly deadline_at: string | null;
  readonly text: string;
  readonly partial: boolean;
  readonly stop_reason: string | null;
  /** The stop sequence that ended the output, when one did. */
  readonly stop_sequence: string | null;
  /** The upstream's `stop_details` (a refusal's category and explanation), when it sent them. */
  readonly stop_details: Readonly<Record<string, unknown>> | null;
  /** The code-execution container the upstream used (`{id, expires_at}`); a continuation reuses it. */
  readonly container: Readonly<Record<string, unknown>> | null;
  readonly truncated: boolean;
  /** Every usage counter the upstream reported (cache creation and reads, server tool uses…). */
  readonly usage: Usage;
  /**
   * The assistant message's content blocks (the final attempt's): tool inputs parsed, thinking with
   * its signature, citations on their text block; unfinished blocks marked `incomplete`.
   */
  readonly content: readonly ContentBlockView[];
  /** With a JSON-schema output format: the text parsed as JSON once the job completed, else null. */
  readonly output?: unknown;
  /** Why `output` is null for a completed job: the text did not parse. */
  readonly output_error?: string | null;
  /** The conversation this job is a turn of (its first turn's job began it). */
  readonly conversation_id: string | null;
  /** 1 for a conversation's first turn, 2 for the next… */
  readonly turn: number;
  /** The job this one continued. */
  readonly previous_job_id: string | null;
  /** The job this one continued although it had a continuation already (this job began a new conversation). */
  readonly forked_from?: string;
  readonly error: JobError | null;
  readonly metrics: {
    readonly queue_ms: number | null;
    readonly ttft_ms: number | null;
    readonly duration_ms: number | null;
    readonly output_tokens_per_s: number | null;
  };
  readonly metadata: Record<string, string>;
  /** The job's queue priority: 1 runs first; a job that named none has 2^20 (null: a record without one). */
  readonly priority: number | null;
  readonly viewers: number;
  /** The worker that runs (or last ran) the job: `host:pid:random`. */
  readonly worker: string | null;
  /** Present when the job asked for a webhook. */
  readonly webhook?: WebhookState;
}

/** One turn of a conversation, `GET /v1/conversations/{id}`. */
export interface ConversationTurnView {
  readonly turn: number;
  readonly job_id: string;
  readonly status: JobStatus;
  readonly previous_job_id: string | null;
  /** The messages this turn's request added (after the previous turn's assistant message). */
  readonly messages: readonly unknown[];
  /** The assistant message's content blocks, as the job's record has them. */
  readonly content: readonly ContentBlockView[];
  readonly stop_reason: string | null;
  readonly usage: Usage;
  readonly error: JobError | null;
  readonly created_at: string;
  readonly finished_at: string | null;
}

/** A conversation, `GET /v1/conversations/{id}` (API.md §4.2). */
export interface ConversationView {
  readonly id: string;
  readonly created_at: string;
  /** The job of its last turn: what a continuation names as `previous_job_id`. */
  readonly last_job_id: string;
  /** The job a fork continued, and that job's conversation (null unless this conversation is a fork). */
  readonly forked_from: string | null;
  readonly forked_from_conversation: string | null;
  readonly turns: readonly ConversationTurnView[];
  readonly events_url: string;
}

/** A turn announced in a conversation's event stream (`event: turn`, id `<turn>-0`). */
export interface TurnEventData {
  readonly job_id: string;
  readonly turn: number;
  readonly previous_job_id: string | null;
}

/** `POST /v1/jobs/{id}/viewer-token` (201). */
export interface ViewerTokenGrant {
  readonly token: string;
  readonly expires_at: string;
  readonly viewer_url: string;
  readonly events_url: string;
  readonly record_url: string;
}

/** An RFC 9457 problem document: every error answer. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly { readonly path: string; readonly message: string }[];
}

/** The body of a webhook delivery (Standard Webhooks). */
export interface WebhookPayload {
  readonly type: `job.${TerminalStatus}`;
  /** When the job ended (ISO 8601). */
  readonly timestamp: string;
  readonly data: JobRecordView;
}
