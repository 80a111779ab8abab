import { isTerminal, type JobError, type JobStatus, type SequencedEvent, type Usage } from './events.js';
import { foldContent } from './fold-content.js';
import type { JobRecordView } from './wire.js';

export type { JobRecordView } from './wire.js';
import { recordFields as F } from './keys.js';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
const json = <T>(v: string | undefined, fallback: T): T => (v === undefined || v === '' ? fallback : (JSON.parse(v) as T));

/** What a record view is built from: the record hash, the text, the current attempt's events. */
export interface RecordSource {
  readonly hash: Readonly<Record<string, string>>;
  readonly text: string;
  readonly events: readonly SequencedEvent[];
}

/** Parses a stored event's data; a record must show even if one event is unreadable. */
const parsed = (e: SequencedEvent) => {
  try {
    return { type: e.type, data: JSON.parse(e.data) as unknown };
  } catch {
    return { type: e.type, data: null };
  }
};

/**
 * Structured output (API.md §4.1): once a job with a JSON-schema format completed, its text parsed as
 * JSON. Never earlier (a partial text is not JSON), and null with the reason when it does not parse.
 */
function structuredOutput(h: Readonly<Record<string, string>>, status: JobStatus, text: string): Pick<JobRecordView, 'output' | 'output_error'> {
  if (h[F.outputFormat] !== 'json_schema') return {};
  if (status !== 'completed') return { output: null, output_error: null };
  try {
    return { output: JSON.parse(text) as unknown, output_error: null };
  } catch (err) {
    return { output: null, output_error: `the output is not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Builds the public view from the record hash, the text, the current attempt's events and the live viewer count. */
export function toRecordView(source: RecordSource, viewers: number): JobRecordView {
  const { hash: h, text } = source;
  const status = (h[F.status] ?? 'queued') as JobStatus;
  const createdAt = num(h[F.createdAt]) ?? 0;
  const startedAt = num(h[F.startedAt]);
  const attemptStartedAt = num(h[F.attemptStartedAt]);
  const firstTokenAt = num(h[F.firstTokenAt]);
  const finishedAt = num(h[F.finishedAt]);
  const outputTokens = num(h[F.outputTokens]) ?? 0;
  const genMs = finishedAt !== undefined && firstTokenAt !== undefined ? finishedAt - firstTokenAt : undefined;
  return {
    id: h[F.id] ?? '',
    status,
    model: h[F.model] ?? '',
    attempt: num(h[F.attempt]) ?? 0,
    created_at: iso(createdAt) ?? '',
    started_at: iso(startedAt),
    finished_at: iso(finishedAt),
    cancel_requested_at: iso(num(h[F.cancelRequestedAt])),
    deadline_at: iso(num(h[F.deadlineAt])),
    text,
    partial: status !== 'completed',
    stop_reason: h[F.stopReason] ?? null,
    truncated: h[F.truncated] === '1',
    stop_sequence: h[F.stopSequence] ?? null,
    stop_details: json<Record<string, unknown> | null>(h[F.stopDetails], null),
    container: json<Record<string, unknown> | null>(h[F.container], null),
    usage: { input_tokens: num(h[F.inputTokens]) ?? 0, output_tokens: outputTokens, ...json<Partial<Usage>>(h[F.usageMore], {}) },
    content: foldContent(source.events.map(parsed)),
    ...structuredOutput(h, status, text),
    conversation_id: h[F.conversationId] ?? null,
    turn: num(h[F.turn]) ?? 1,
    previous_job_id: h[F.previousJobId] ?? null,
    ...(h[F.forkedFrom] === undefined ? {} : { forked_from: h[F.forkedFrom] }),
    error: json<JobError | null>(h[F.error], null),
    metrics: {
      queue_ms: startedAt === undefined ? null : startedAt - createdAt,
      ttft_ms: firstTokenAt === undefined || attemptStartedAt === undefined ? null : firstTokenAt - attemptStartedAt,
      duration_ms: finishedAt === undefined || startedAt === undefined ? null : finishedAt - startedAt,
      output_tokens_per_s:
        genMs === undefined || !isTerminal(status) ? null : genMs <= 0 ? null : Math.round((outputTokens / genMs) * 1e4) / 10,
    },
    metadata: json<Record<string, string>>(h[F.metadata], {}),
    priority: num(h[F.priority]) ?? null,
    viewers,
    worker: h[F.worker] ?? null,
    ...(h[F.webhookUrl] === undefined
      ? {}
      : {
          webhook: {
            status: (h[F.webhookStatus] ?? 'pending') as NonNullable<JobRecordView['webhook']>['status'],
            attempts: num(h[F.webhookAttempts]) ?? 0,
            last_status: num(h[F.webhookLastStatus]) ?? null,
            last_error: h[F.webhookLastError] === undefined || h[F.webhookLastError] === '' ? null : (h[F.webhookLastError] ?? null),
          },
        }),
  };
}

/** What a viewer-token holder sees of a record: everything but the submitter's and the operator's. */
export type ViewerRecordView = Omit<JobRecordView, 'worker' | 'metadata'>;

/**
 * The record as a viewer token (a share link) may see it: without `worker` (which host and process
 * ran it) and `metadata` (the submitter's own labels). Holders of an API key see the whole record.
 */
export function forViewer(view: JobRecordView): ViewerRecordView {
  const { worker: _worker, metadata: _metadata, ...rest } = view;
  return rest;
}
