/**
 * Every Redis key of one job, with its type and lifetime. All of them carry the hash tag `{job:ID}`
 * so the Lua scripts that touch them together stay legal on Redis Cluster.
 */
export interface JobKeys {
  /**
   * hash: the job record (status, attempt, timings, usage, params). No TTL until the job ends, then
   * `RESULT_TTL_S`; a record that never reached the queue has that as a provisional TTL.
   */
  readonly record: string;
  /** stream: the event log; entry id `<seq>-0`, fields `t` (type) and `d` (JSON data). Same lifetime. */
  readonly log: string;
  /** string: the current attempt's output text, grown with APPEND. No TTL until the job ends, then `RESULT_TTL_S`. */
  readonly text: string;
  /** sharded pub/sub channel (SPUBLISH): each appended event as `<seq> <type> <data>`. No lifetime. */
  readonly channel: string;
  /** hash: live viewers per API node, `nodeId → "<count> <expiresAtMs>"`. Expires when no node refreshes it. */
  readonly viewers: string;
}

/**
 * The hash tag of job `id`: the id of its conversation's first job. A conversation's jobs share one
 * Redis Cluster slot with the conversation's own keys, so the scripts that continue a conversation,
 * end a turn or keep its jobs alive touch one slot, atomically. `job_A` is a first turn (tag `job_A`);
 * `job_A.B` a later turn of the conversation that `job_A` began (tag `job_A`).
 */
export function jobTag(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

/** Keys of job `id` under `prefix` (`<prefix>:{job:<tag>}<rest of the id>:…`). */
export function jobKeys(prefix: string, id: string): JobKeys {
  const tag = jobTag(id);
  const base = `${prefix}:{job:${tag}}${id.slice(tag.length)}`;
  return { record: `${base}:rec`, log: `${base}:log`, text: `${base}:text`, channel: `${base}:ch`, viewers: `${base}:viewers` };
}

/**
 * Every key of one conversation, in the slot of its first job (see {@link jobTag}). They live as its
 * jobs do: no TTL while a turn is queued or running, `RESULT_TTL_S` from the end of its last turn.
 */
export interface ConversationKeys {
  /** hash: `id`, `created_at`, `turns`, `first_turn`, `last_job_id`, `forked_from` (job id), `forked_from_conversation`. */
  readonly meta: string;
  /** list: the conversation's messages as the upstream got them, one JSON message each, in order. */
  readonly history: string;
  /** list: the job id of each turn, from `first_turn` on. */
  readonly turns: string;
  /** sharded pub/sub channel: `<turn> <job id>` when a turn is created, for the conversation's stream. */
  readonly channel: string;
}

/** The conversation id of the conversation whose first job is `rootJobId`: `conv_` and its random part. */
export function conversationIdOf(rootJobId: string): string {
  return `conv_${rootJobId.slice('job_'.length)}`;
}

/** Keys of conversation `conversationId` under `prefix`. */
export function conversationKeys(prefix: string, conversationId: string): ConversationKeys {
  const base = `${prefix}:{job:job_${conversationId.slice('conv_'.length)}}`;
  return { meta: `${base}:conv`, history: `${base}:hist`, turns: `${base}:turns`, channel: `${base}:cch` };
}

/** Keys that are not one job's. */
export interface GlobalKeys {
  /** pub/sub channel every worker listens on for control messages (cancel). No lifetime. */
  readonly control: string;
  /** sorted set: running job ids scored by deadline (ms epoch); removed when the job ends. */
  readonly deadlines: string;
  /** string: the viewer-token secret when `VIEWER_TOKEN_SECRET` is unset. No lifetime. */
  readonly tokenSecret: string;
  /** string: the Idempotency-Key secret when `IDEMPOTENCY_SECRET` is unset. No lifetime. */
  readonly idempotencySecret: string;
  /** BullMQ prefix; the hash tag keeps every queue key in one Cluster slot. */
  readonly queuePrefix: string;
}

/** Global keys under `prefix`. */
export function globalKeys(prefix: string): GlobalKeys {
  return {
    control: `${prefix}:control`,
    deadlines: `${prefix}:deadlines`,
    tokenSecret: `${prefix}:viewer-token-secret`,
    idempotencySecret: `${prefix}:idempotency-secret`,
    queuePrefix: `{${prefix}}`,
  };
}

/** Name of the BullMQ queue that carries generation jobs. */
export const queueName = 'generations';

/** The record field names, in one place so the Lua scripts and the readers agree. */
export const recordFields = {
  id: 'id',
  status: 'status',
  attempt: 'attempt',
  seq: 'seq',
  model: 'model',
  params: 'params',
  metadata: 'metadata',
  createdAt: 'created_at',
  startedAt: 'started_at',
  attemptStartedAt: 'attempt_started_at',
  firstTokenAt: 'first_token_at',
  finishedAt: 'finished_at',
  cancelRequestedAt: 'cancel_requested_at',
  deadlineAt: 'deadline_at',
  maxDurationMs: 'max_duration_ms',
  stopReason: 'stop_reason',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  error: 'error',
  lastError: 'last_error',
  truncated: 'truncated',
  hasOutput: 'has_output',
  requestHash: 'request_hash',
  priority: 'priority',
  worker: 'worker',
  /** Internal: the current attempt's fence (every start takes a new one). */
  fence: 'fence',
  /** Internal: the replay guard, the last write applied (`fence:op`) and its result. */
  op: 'op',
  opRet: 'op_ret',
  /** Internal: the token of the create call that made the record (its replay guard). */
  createToken: 'create_token',
  /** Internal: the BullMQ job id the record is queued under, `<id>.<create token>`. */
  queueJobId: 'queue_job_id',
  /** Internal: the token of the start call that began the current attempt (its replay guard). */
  startToken: 'start_token',
  /** Internal: every start token so far, space-separated (a replay that comes after a later start is refused). */
  startTokens: 'start_tokens',
  /** Internal: the last attempt was handed back by a worker shutting down; the next start does not count. */
  handedBack: 'handed_back',
  /** Internal: the job reached the queue (create's provisional TTL is gone). */
  enqueued: 'enqueued',
  /** The record's content is the fold of the log from this event on (the current attempt's `status running`). */
  attemptSeq: 'attempt_seq',
  /** JSON object: the upstream's usage counters other than input and output tokens. */
  usageMore: 'usage_more',
  stopSequence: 'stop_sequence',
  /** JSON: the upstream's `stop_details` (a refusal's category and explanation). */
  stopDetails: 'stop_details',
  /** JSON: the code-execution container the upstream used (`{id, expires_at}`). */
  container: 'container',
  /** `json_schema` when the job asked for structured output: the record then shows `output`. */
  outputFormat: 'output_format',
  conversationId: 'conversation_id',
  turn: 'turn',
  previousJobId: 'previous_job_id',
  /** The job this one continued although it had a continuation already: it began a new conversation. */
  forkedFrom: 'forked_from',
  /** The conversation's history the upstream gets: its first `history_len` messages. */
  historyLen: 'history_len',
  /** Where this turn's own messages begin in the conversation's history. */
  historyFrom: 'history_from',
  /** Prompt-cache breakpoints in the conversation's history up to this job (the upstream takes 4 in all). */
  historyBreakpoints: 'history_breakpoints',
  /** The job's webhook URL, and its delivery state (`pending` until the job ends and it lands). */
  webhookUrl: 'webhook_url',
  webhookStatus: 'webhook_status',
  webhookAttempts: 'webhook_attempts',
  webhookLastStatus: 'webhook_last_status',
  webhookLastError: 'webhook_last_error',
  /** Internal: the W3C `traceparent` of the request that submitted the job (only while tracing is on): viewers' delivery spans link to it. */
  traceparent: 'traceparent',
} as const;
