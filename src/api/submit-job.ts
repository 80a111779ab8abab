import type { Queue } from 'bullmq';
import { AppError } from '../shared/errors.js';
import { hashJson, idempotentJobId, isJobId, jobIdPart, newJobId, turnJobId } from '../shared/ids.js';
import type { CreateOutcome, JobStore, NewJob } from '../shared/job-store.js';
import { conversationIdOf, jobTag } from '../shared/keys.js';
import { checkBreakpoints, checkToolResults, previousTurn } from './conversation-turn.js';
import { countCacheBreakpoints, type CacheableRequest } from './request-schema/cache-breakpoints.js';
import { defaultPriority, jobOptions, webhookJobOptions, type QueueJobData, type WebhookJobData } from '../shared/queue.js';
import type { JobRequest } from './job-request.js';
import type { TraceCarrier } from '../shared/trace-context.js';

/** Dependencies of {@link createJobSubmitter}. */
export interface SubmitDeps {
  readonly store: JobStore;
  readonly queue: Queue<QueueJobData>;
  /** Where a job's webhook delivery is queued. */
  readonly webhookQueue: Queue<WebhookJobData>;
  readonly webhookRetryDelaysMs: readonly number[];
  /** The secret Idempotency-Keys are turned into job ids with (`IDEMPOTENCY_SECRET`, never the viewer-token secret). */
  readonly secret: () => string;
  readonly keyPrefix: string;
  readonly defaultModel: string;
  readonly maxDurationMs: number;
  readonly jobAttempts: number;
}

/** The result of a submission: a new job, or the one an earlier request with the same key created. */
export type Submission =
  | { readonly id: string; readonly created: true; readonly createdAt: number }
  | { readonly id: string; readonly created: false };

/** Submits jobs: record, queue, confirm; `trace` (tracing on) goes with the job to its attempts and viewers. */
export type JobSubmitter = (request: JobRequest, idempotencyKey: string | undefined, trace?: TraceCarrier) => Promise<Submission>;

/** A validated request, with what a continuation may leave out left out. */
type Request = JobRequest & { readonly previous_job_id?: string | undefined; readonly messages?: readonly unknown[] | undefined };

/**
 * Creates the submitter. With an Idempotency-Key the job id is derived from the key, so the record
 * is the claim: `create.lua` (or `continue.lua`) makes it or finds it in one atomic step, and a second
 * request with the same key and body gets the same job (another body: 409). A request that finds the
 * job created but not yet queued (the first request's node died in between, or is still on its way)
 * queues it itself: BullMQ ignores a second add of one job id. Nothing is left to block the key. The
 * BullMQ job id is the record's own (`<id>.<create token>`), so a key used again after its record
 * expired is queued afresh, whatever BullMQ still keeps of the finished job before it.
 *
 * With `previous_job_id` the job continues that job's conversation (API.md §4.2): in its slot, as its
 * next turn, when that job is still the conversation's last; otherwise as the first turn of a new
 * conversation that copies the history up to it (a fork).
 */
export function createJobSubmitter(deps: SubmitDeps): JobSubmitter {
  return async (req, idempotencyKey, trace) => {
    const request = req as Request;
    const { max_duration_ms: askedMs, metadata, webhook, priority = defaultPriority, previous_job_id, messages = [], ...upstream } = request;
    const maxDurationMs = Math.min(askedMs ?? deps.maxDurationMs, deps.maxDurationMs);
    const requestHash = hashJson(request);
    const keyed = idempotencyKey === undefined ? undefined : idempotentJobId(deps.secret(), deps.keyPrefix, idempotencyKey);
    const firstTurnId = keyed ?? newJobId();
    const jobOf = (id: string, params: Record<string, unknown>) => {
      const model = typeof params['model'] === 'string' ? params['model'] : deps.defaultModel;
      const format = (params['output_config'] as { format?: { type?: unknown } } | undefined)?.format?.type;
      return {
        id,
        model,
        params: JSON.stringify({ ...params, model }),
        metadata: metadata ?? {},
        maxDurationMs,
        requestHash,
        webhookUrl: webhook?.url,
        priority,
        outputFormat: typeof format === 'string' ? format : undefined,
        traceparent: trace?.traceparent,
      };
    };

    let id: string;
    let created: CreateOutcome;
    if (previous_job_id === undefined) {
      id = firstTurnId;
      const history = messages.map((m) => JSON.stringify(m));
      const conversationId = conversationIdOf(id);
      created = await deps.store.create(
        {
          ...jobOf(id, upstream),
          conversationId,
          turn: 1,
          historyLen: history.length,
          historyFrom: 0,
          historyBreakpoints: countCacheBreakpoints({ messages: messages as CacheableRequest['messages'] }),
        },
        { id: conversationId, firstTurn: 1, history },
      );
    } else {
      ({ id, created } = await continueTurn(deps, previous_job_id, messages, upstream, jobOf, keyed, firstTurnId));
    }
    if (created.kind === 'conflict') {
      throw new AppError('conflict', 'This Idempotency-Key was used with a different request body.', {
        details: [{ path: 'header:Idempotency-Key', message: 'was used with a different request body' }],
      });
    }
    if (created.kind === 'exists' && created.enqueued) return { id, created: false };
    try {
      // The delivery first: a job that runs always has its webhook queued. It fires when the job ends,
      // or at the latest a minute past the job's longest run (then every minute until it has ended).
      if (webhook !== undefined) {
        await deps.webhookQueue.add(
          'deliver',
          { jobId: id },
          webhookJobOptions(created.queueJobId, maxDurationMs + 60_000, deps.webhookRetryDelaysMs.length),
        );
      }
      const data: QueueJobData = trace === undefined ? { jobId: id } : { jobId: id, trace };
      await deps.queue.add('generate', data, jobOptions(created.queueJobId, deps.jobAttempts, priority));
    } catch (cause) {
      // Not answered 202, so nobody relies on the record: it keeps its provisional TTL, and a retry
      // with the same Idempotency-Key queues this same job.
      throw new AppError('redis_unavailable', 'The job could not be queued; retry the request.', { cause });
    }
    if (!(await deps.store.confirm(id))) {
      throw new AppError('redis_unavailable', 'The job record vanished before it was queued; retry the request.');
    }
    return created.kind === 'created' ? { id, created: true, createdAt: created.createdAt } : { id, created: false };
  };
}

/** A job's record fields before its place in a conversation is known. */
type JobOf = (id: string, params: Record<string, unknown>) => Omit<NewJob, 'conversationId' | 'turn' | 'historyLen' | 'historyFrom'>;

/**
 * The next turn after `previousId`: its history is the previous job's, then the previous turn's
 * assistant message as committed, then `messages`. Parameters the request leaves out are the previous
 * job's. Refused with 404 (no such job), 409 (not completed or cancelled) or 400 (unanswered tool calls).
 */
async function continueTurn(
  deps: SubmitDeps,
  previousId: string,
  messages: readonly unknown[],
  upstream: Record<string, unknown>,
  jobOf: JobOf,
  keyed: string | undefined,
  firstTurnId: string,
): Promise<{ id: string; created: CreateOutcome }> {
  const stored = isJobId(previousId) ? await deps.store.read(previousId) : undefined;
  if (stored === undefined) {
    throw new AppError('not_found', 'The previous job is unknown or its result has expired.', {
      details: [{ path: '/previous_job_id', message: 'no such job, or it has expired' }],
    });
  }
  const previous = previousTurn(stored);
  checkToolResults(previous, messages);
  const params = mergedParams(previous.params, upstream);
  const added = [...(previous.assistant === undefined ? [] : [previous.assistant]), ...messages];
  const add = added.map((m) => JSON.stringify(m));
  const turn = { turn: previous.turn + 1, previousJobId: previous.id, historyBreakpoints: checkBreakpoints(previous, params, added) };
  if (previous.historyLen !== undefined) {
    const id = turnJobId(jobTag(previous.id), keyed === undefined ? undefined : jobIdPart(keyed));
    const job = {
      ...jobOf(id, params),
      ...turn,
      conversationId: previous.conversationId,
      historyLen: previous.historyLen + add.length,
      historyFrom: previous.historyLen + (previous.assistant === undefined ? 0 : 1),
    };
    const created = await deps.store.continueConversation(job, { id: previous.id, historyLen: previous.historyLen }, add);
    if (created.kind === 'gone') throw new AppError('not_found', 'The previous job has expired.');
    if (created.kind === 'status') {
      throw new AppError('conflict', `The previous job is ${created.status}: only a completed or cancelled job can be continued.`);
    }
    if (created.kind !== 'fork') return { id, created };
  }
  // A fork (the previous job has a continuation already), or a job from before conversations: a new
  // conversation whose history is the previous job's, copied.
  const prefix =
    previous.historyLen === undefined
      ? previous.legacyMessages.map((m) => JSON.stringify(m))
      : ((await deps.store.readConversation(previous.conversationId))?.history.slice(0, previous.historyLen) ?? []);
  if (previous.historyLen !== undefined && prefix.length < previous.historyLen) {
    throw new AppError('not_found', "The previous job's conversation has expired.");
  }
  const id = firstTurnId;
  const conversationId = conversationIdOf(id);
  const history = [...prefix, ...add];
  const forked = previous.historyLen === undefined ? {} : { forkedFrom: previous.id };
  const created = await deps.store.create(
    {
      ...jobOf(id, params),
      ...turn,
      ...forked,
      conversationId,
      historyLen: history.length,
      historyFrom: prefix.length + (previous.assistant === undefined ? 0 : 1),
    },
    { id: conversationId, firstTurn: turn.turn, history, ...forked, forkedFromConversation: previous.conversationId },
  );
  return { id, created };
}

/** The previous job's parameters with the request's on top, checked where they depend on each other. */
function mergedParams(previous: Readonly<Record<string, unknown>>, request: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...previous };
  for (const [key, value] of Object.entries(request)) if (value !== undefined) merged[key] = value;
  const thinking = merged['thinking'] as { type?: string; budget_tokens?: number } | undefined;
  const maxTokens = Number(merged['max_tokens']);
  if (thinking?.type === 'enabled' && typeof thinking.budget_tokens === 'number' && thinking.budget_tokens >= maxTokens) {
    throw new AppError('validation_failed', 'thinking.budget_tokens must be less than max_tokens.', {
      details: [{ path: '/thinking/budget_tokens', message: `must be less than max_tokens (${maxTokens}, with the previous job's values)` }],
    });
  }
  const choice = merged['tool_choice'] as { type?: string; name?: string } | undefined;
  const tools = Array.isArray(merged['tools']) ? (merged['tools'] as { name?: unknown }[]) : [];
  if (choice?.type === 'tool' && !tools.some((t) => t.name === choice.name)) {
    throw new AppError('validation_failed', `tool_choice names ${String(choice.name)}, which is not among the tools.`, {
      details: [{ path: '/tool_choice/name', message: 'must name one of the tools (with the previous job\'s tools)' }],
    });
  }
  return merged;
}
