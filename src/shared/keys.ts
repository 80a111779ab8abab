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

/** Keys of job `id` under `prefix`. */
export function jobKeys(prefix: string, id: string): JobKeys {
  const base = `${prefix}:{job:${id}}`;
  return { record: `${base}:rec`, log: `${base}:log`, text: `${base}:text`, channel: `${base}:ch`, viewers: `${base}:viewers` };
}

/** Keys that are not one job's. */
export interface GlobalKeys {
  /** pub/sub channel every worker listens on for control messages (cancel). No lifetime. */
  readonly control: string;
  /** sorted set: running job ids scored by deadline (ms epoch); removed when the job ends. */
  readonly deadlines: string;
  /** string: the viewer-token secret when `VIEWER_TOKEN_SECRET` is unset. No lifetime. */
  readonly tokenSecret: string;
  /** BullMQ prefix; the hash tag keeps every queue key in one Cluster slot. */
  readonly queuePrefix: string;
}

/** Global keys under `prefix`. */
export function globalKeys(prefix: string): GlobalKeys {
  return {
    control: `${prefix}:control`,
    deadlines: `${prefix}:deadlines`,
    tokenSecret: `${prefix}:viewer-token-secret`,
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
  /** The job's webhook URL, and its delivery state (`pending` until the job ends and it lands). */
  webhookUrl: 'webhook_url',
  webhookStatus: 'webhook_status',
  webhookAttempts: 'webhook_attempts',
  webhookLastStatus: 'webhook_last_status',
  webhookLastError: 'webhook_last_error',
} as const;
