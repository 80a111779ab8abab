import { isTerminal, type JobError, type JobStatus } from './events.js';
import type { JobRecordView } from './wire.js';

export type { JobRecordView } from './wire.js';
import { recordFields as F } from './keys.js';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());
const num = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));
const json = <T>(v: string | undefined, fallback: T): T => (v === undefined || v === '' ? fallback : (JSON.parse(v) as T));

/** Builds the public view from the record hash, the text key and the live viewer count. */
export function toRecordView(h: Readonly<Record<string, string>>, text: string, viewers: number): JobRecordView {
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
    usage: { input_tokens: num(h[F.inputTokens]) ?? 0, output_tokens: outputTokens },
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
