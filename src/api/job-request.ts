import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { webhookUrlProblem } from '../shared/webhook-target.js';
import type { CreateJobBody } from '../shared/wire.js';

/** Limits the request schema needs from the configuration. */
export interface JobRequestLimits {
  readonly maxTokensLimit: number;
  /** `WEBHOOK_SECRET` is set: jobs may name a webhook. */
  readonly webhookSecrets: readonly string[];
  readonly webhookAllowPrivate: boolean;
}

const textBlock = z.looseObject({ type: z.literal('text'), text: z.string().min(1) });
const mediaBlock = z.looseObject({ type: z.enum(['image', 'document']), source: z.looseObject({ type: z.string() }) });
const contentBlock = z.discriminatedUnion('type', [textBlock, mediaBlock]);

const message = z.strictObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string().min(1), z.array(contentBlock).min(1)]),
});

/** The body of `POST /v1/jobs`: Messages parameters for a text generation plus job options. */
export function jobRequestSchema(limits: JobRequestLimits) {
  return z
    .strictObject({
      model: z.string().min(1).max(256).optional(),
      max_tokens: z.int().min(1).max(limits.maxTokensLimit),
      messages: z.array(message).min(1).max(10_000),
      system: z.union([z.string(), z.array(textBlock)]).optional(),
      temperature: z.number().min(0).max(1).optional(),
      top_p: z.number().gt(0).max(1).optional(),
      top_k: z.int().min(1).optional(),
      stop_sequences: z.array(z.string().min(1)).max(16).optional(),
      thinking: z
        .discriminatedUnion('type', [
          z.strictObject({ type: z.literal('enabled'), budget_tokens: z.int().min(1024) }),
          z.strictObject({ type: z.literal('disabled') }),
        ])
        .optional(),
      max_duration_ms: z.int().min(1).optional(),
      metadata: z
        .record(z.string().min(1).max(64), z.string().max(512))
        .refine((m) => Object.keys(m).length <= 16, 'at most 16 keys')
        .optional(),
      webhook: z.strictObject({ url: z.string().min(1).max(2048) }).optional(),
      // BullMQ's range (its PRIORITY_LIMIT, 2^21 - 1): 1 runs first.
      priority: z.int().min(1).max(2 ** 21 - 1).optional(),
    })
    .superRefine((body, ctx) => {
      if (body.thinking?.type === 'enabled' && body.thinking.budget_tokens >= body.max_tokens) {
        ctx.addIssue({ code: 'custom', path: ['thinking', 'budget_tokens'], message: 'must be less than max_tokens' });
      }
      if (body.messages.at(-1)?.role === 'assistant' && body.thinking?.type === 'enabled') {
        ctx.addIssue({ code: 'custom', path: ['messages'], message: 'cannot end with an assistant turn when thinking is on' });
      }
      if (body.webhook !== undefined) {
        if (limits.webhookSecrets.length === 0) {
          ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'webhooks are off on this server (WEBHOOK_SECRET is not set)' });
        } else {
          const problem = webhookUrlProblem(body.webhook.url, limits.webhookAllowPrivate);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['webhook', 'url'], message: problem });
        }
      }
    });
}

/** A validated job request. */
export type JobRequest = z.infer<ReturnType<typeof jobRequestSchema>>;

// The schema and the wire type clients use name the same fields: this fails to compile if they drift.
type SameFields = [keyof CreateJobBody] extends [keyof JobRequest] ? ([keyof JobRequest] extends [keyof CreateJobBody] ? true : never) : never;
const sameFields: SameFields = true;
void sameFields;

/** JSON Pointer (RFC 6901) of a schema issue path. */
function pointer(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${String(p).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** Validates a parsed body; throws `validation_failed` listing every problem with its path. */
export function parseJobRequest(schema: ReturnType<typeof jobRequestSchema>, body: unknown): JobRequest {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const details = result.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pointer([...issue.path, key]), message: 'is not a known field' }))
      : [{ path: pointer(issue.path), message: issue.message }],
  );
  const first = details[0];
  throw new AppError('validation_failed', `The job request is invalid${first ? `: ${first.path || '/'} ${first.message}` : ''}.`, {
    details,
  });
}
