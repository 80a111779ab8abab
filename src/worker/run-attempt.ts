import type Anthropic from '@anthropic-ai/sdk';
import type { AppendBatch, JobStore } from '../shared/job-store.js';
import { abortKind, AttemptAbort, type AbortKind } from './abort-reason.js';
import { classifyUpstreamError, type UpstreamFailure } from './classify-upstream-error.js';
import { createEventWriter } from './event-writer.js';
import { createStreamTranslator } from './translate-stream.js';
import type { AttemptWrites } from './store-retry.js';
import { activityOption, withActivityFetch } from './watched-fetch.js';
import type { WriteClock } from './write-clock.js';

/** How an attempt ended, before anything is recorded as the job's ending. */
export type AttemptResult =
  | { readonly kind: 'completed'; readonly stopReason: string | null }
  | {
      readonly kind: 'aborted';
      readonly reason: Exclude<AbortKind, 'stalled' | 'store_unavailable'>;
      /** Output Redis refused until now: the job's ending writes it (cancel and timeout keep their text). */
      readonly unwritten?: AppendBatch;
    }
  | { readonly kind: 'failed'; readonly failure: UpstreamFailure };

/** What one attempt needs. */
export interface AttemptInput {
  readonly jobId: string;
  /** The attempt's write ids (its fence); settling the attempt continues the numbering. */
  readonly writes: AttemptWrites;
  /** The upstream Messages parameters (without `stream`). */
  readonly params: Anthropic.MessageCreateParamsStreaming;
  /** Aborted by the worker with an {@link AttemptAbort} reason (cancel, deadline, shutdown). */
  readonly signal: AbortSignal;
  /** Told the milliseconds from the request to the first content delta (of any block). */
  readonly onFirstToken?: (ms: number) => void;
  /** Shown every upstream stream event after it was translated (tracing on: the attempt's span). */
  readonly observe?: ((event: Anthropic.RawMessageStreamEvent) => void) | undefined;
}

/** Dependencies of {@link runAttempt}. */
export interface AttemptDeps {
  readonly client: Anthropic;
  readonly store: JobStore;
  readonly upstreamIdleTimeoutMs: number;
  /** `COALESCE_WINDOW_MS`: extra time an idle stream's first piece waits for company. */
  readonly coalesceWindowMs: number;
  /** The worker's window clock, shared by its attempts so their windows close together (default: the attempt's own). */
  readonly writeClock?: WriteClock;
  /** `REDIS_RETRY_MS`: how long a write Redis refuses is retried before the attempt gives up. */
  readonly redisRetryMs: number;
  /** Aborted when the worker's shutdown stops waiting for Redis: the writes stop waiting at once. */
  readonly shutdownSignal: AbortSignal;
}

/**
 * Streams one attempt from the upstream into the job's log. Never throws for upstream trouble: the
 * caller decides from the result whether the job ends or is retried.
 */
export async function runAttempt(deps: AttemptDeps, input: AttemptInput): Promise<AttemptResult> {
  const { jobId } = input;
  const controller = new AbortController();
  const abort = (kind: AbortKind) => {
    if (!controller.signal.aborted) controller.abort(new AttemptAbort(kind));
  };
  const onOuterAbort = () => {
    const reason: unknown = input.signal.reason;
    abort(reason instanceof AttemptAbort ? reason.kind : 'shutdown');
  };
  if (input.signal.aborted) onOuterAbort();
  input.signal.addEventListener('abort', onOuterAbort, { once: true });

  let storeError: unknown;
  // The batch Redis would not take is lost to this attempt only: the next one starts over.
  const storeFailure = (): AttemptResult => {
    const message = storeError instanceof Error ? storeError.message : "Redis refused the attempt's writes";
    return { kind: 'failed', failure: { error: { type: 'store_unavailable', message }, retryable: true, retryAfterMs: undefined } };
  };
  const writer = createEventWriter({
    store: deps.store,
    jobId,
    writes: input.writes,
    retry: { budgetMs: deps.redisRetryMs, signal: deps.shutdownSignal },
    windowMs: deps.coalesceWindowMs,
    ...(deps.writeClock === undefined ? {} : { clock: deps.writeClock }),
    onStop: (why, error) => {
      storeError = error;
      abort(why === 'unavailable' ? 'store_unavailable' : 'fenced');
    },
  });
  // The idle watchdog compares timestamps on a coarse timer instead of re-arming a timer per chunk.
  let lastActivity = Date.now();
  const idleMs = deps.upstreamIdleTimeoutMs;
  const watchdog = setInterval(() => {
    if (Date.now() - lastActivity > idleMs) abort('stalled');
  }, Math.max(25, Math.floor(idleMs / 4)));
  const client = withActivityFetch(deps.client);

  const requestedAt = Date.now();
  const translator = createStreamTranslator(writer, { onFirstContent: () => input.onFirstToken?.(Date.now() - requestedAt) });
  try {
    const stream = await client.messages.create(input.params, {
      signal: controller.signal,
      maxRetries: 0,
      ...activityOption(() => (lastActivity = Date.now())),
    });
    const { observe } = input;
    if (observe === undefined) for await (const event of stream) translator.translate(event);
    else {
      for await (const event of stream) {
        translator.translate(event);
        observe(event);
      }
    }
    // An aborted `create` loop ends silently, and so does a body cut short without `message_stop`.
    if (!translator.sawStop && !controller.signal.aborted) {
      throw new Error('the upstream stream ended without message_stop');
    }
  } catch (err) {
    if (!controller.signal.aborted) {
      if ((await writer.flush()) === 'unavailable') return storeFailure();
      return { kind: 'failed', failure: classifyUpstreamError(err) };
    }
  } finally {
    clearInterval(watchdog);
    input.signal.removeEventListener('abort', onOuterAbort);
  }
  let kind = abortKind(controller.signal);
  if (kind === undefined) {
    const written = await writer.flush();
    if (written === 'ok') return { kind: 'completed', stopReason: translator.stopReason };
    kind = written === 'unavailable' ? 'store_unavailable' : 'fenced';
  }
  // Keep what was produced before the abort, unless this attempt was fenced out, or Redis has just
  // refused it for REDIS_RETRY_MS (the next attempt starts over).
  const flushed = kind !== 'fenced' && kind !== 'store_unavailable' ? await writer.flush() : 'ok';
  if (kind === 'stalled') {
    const message = `the upstream sent nothing for ${idleMs} ms`;
    return { kind: 'failed', failure: { error: { type: 'upstream_stalled', message }, retryable: true, retryAfterMs: undefined } };
  }
  if (kind === 'store_unavailable') return storeFailure();
  const unwritten = flushed === 'unavailable' ? writer.unwritten() : undefined;
  return { kind: 'aborted', reason: kind, ...(unwritten === undefined ? {} : { unwritten }) };
}
