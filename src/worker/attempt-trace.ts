import type Anthropic from '@anthropic-ai/sdk';
import { context, SpanKind, SpanStatusCode, trace, type Context, type Tracer } from '@opentelemetry/api';
import type { QueueJobData } from '../shared/queue.js';
import { contextOf } from '../shared/trace-context.js';
import { abortKind } from './abort-reason.js';
import type { AttemptResult } from './run-attempt.js';

/** Events of an abort, by the worker's reason. */
const abortEvents: Readonly<Record<string, string>> = {
  cancelled: 'genrelay.cancel',
  timed_out: 'genrelay.timeout',
  shutdown: 'genrelay.shutdown',
  stalled: 'genrelay.stalled',
  fenced: 'genrelay.fenced',
  store_unavailable: 'genrelay.store_unavailable',
};

/** How the processor settled an attempt (the `outcome` label of `genrelay_attempts_total`), as span events. */
const outcomeEvents: Readonly<Record<string, string>> = {
  retried: 'genrelay.retry',
  rate_limited: 'genrelay.rate_limited',
  handed_back: 'genrelay.hand_back',
};

/** One attempt of a job as a span; see {@link startAttemptTrace}. */
export interface AttemptTrace {
  /** The context to run the upstream call in, so the SDK's span is the attempt's child. */
  readonly context: Context;
  /** The attempt began (start.lua said `started`): name and request attributes, and abort events from `signal`. */
  started(attempt: number, params: Anthropic.MessageCreateParamsStreaming, signal: AbortSignal): void;
  /** The attempt did not start (the job had ended, was gone, or another worker began it). */
  notStarted(kind: string): void;
  /** Each upstream stream event: the response's model, usage and stop reason. */
  observe(event: Anthropic.RawMessageStreamEvent): void;
  /** Milliseconds from the request to the first content delta. */
  firstToken(ms: number): void;
  /** How the attempt was settled (`completed`, `retried`, `cancelled`, …), with its result. */
  outcome(outcome: string, result: AttemptResult): void;
  /** Ends the span (after settling, whatever it threw); idempotent. */
  end(): void;
}

/**
 * Starts the span of one attempt of `data`'s job, named and attributed per the OpenTelemetry GenAI
 * conventions (`chat <model>`), the child of the submitting request's span when the job data carries
 * one, else the root of a new trace. Kind CONSUMER: it runs a queued job; the Anthropic SDK's own
 * `anthropic.messages.create` CLIENT span for the upstream request nests under it.
 */
export function startAttemptTrace(tracer: Tracer, data: QueueJobData, workerId: string): AttemptTrace {
  const span = tracer.startSpan(
    'chat',
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'anthropic',
        'gen_ai.system': 'anthropic',
        'genrelay.job.id': data.jobId,
        'genrelay.worker.id': workerId,
      },
    },
    contextOf(data.trace),
  );
  let sawOutput = false;
  let ended = false;
  return {
    context: trace.setSpan(context.active(), span),
    started(attempt, params, signal) {
      span.updateName(`chat ${params.model}`);
      span.setAttributes({ 'gen_ai.request.model': params.model, 'gen_ai.request.max_tokens': params.max_tokens, 'genrelay.attempt': attempt });
      signal.addEventListener('abort', () => span.addEvent(abortEvents[abortKind(signal) ?? ''] ?? 'genrelay.abort'), { once: true });
    },
    notStarted(kind) {
      span.setAttribute('genrelay.attempt.outcome', `not_started_${kind}`);
    },
    observe(event) {
      if (event.type === 'message_start') {
        span.setAttributes({
          'gen_ai.response.model': event.message.model,
          'gen_ai.response.id': event.message.id,
          'gen_ai.usage.input_tokens': event.message.usage.input_tokens,
        });
      } else if (event.type === 'message_delta') {
        span.setAttribute('gen_ai.usage.output_tokens', event.usage.output_tokens);
        if (event.delta.stop_reason !== null) span.setAttribute('gen_ai.response.finish_reasons', [event.delta.stop_reason]);
      }
    },
    firstToken(ms) {
      sawOutput = true;
      span.setAttribute('gen_ai.response.time_to_first_chunk', ms / 1000);
      span.addEvent('genrelay.first_token', { 'genrelay.ttft_ms': ms });
    },
    outcome(outcome, result) {
      span.setAttribute('genrelay.attempt.outcome', outcome);
      const failure = result.kind === 'failed' ? result.failure.error : undefined;
      const fields = failure === undefined ? {} : { 'error.type': failure.type, 'genrelay.error.message': failure.message };
      const event = outcomeEvents[outcome];
      if (event === undefined) {
        span.addEvent('genrelay.end', { 'genrelay.job.status': outcome, ...fields });
      } else {
        span.addEvent(event, fields);
        // The next attempt starts over: viewers get a `reset` and drop what this one streamed.
        if (sawOutput) span.addEvent('genrelay.reset');
      }
      if (failure !== undefined) {
        span.setAttribute('error.type', failure.type);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
      }
    },
    end() {
      if (ended) return;
      ended = true;
      span.end();
    },
  };
}
