import { z } from 'zod';
import { isJobId } from '../shared/ids.js';
import { AppError } from '../shared/errors.js';
import { webhookUrlProblem } from '../shared/webhook-target.js';
import type { CreateJobBody } from '../shared/wire.js';
import { cacheBreakpointIssues } from './request-schema/cache-breakpoints.js';
import { textBlock } from './request-schema/content-blocks.js';
import { issueDetails } from './request-schema/issues.js';
import { apiVersion, conversationIssues, messageParam, type Message } from './request-schema/messages.js';
import { cacheControl, jsonObject, optionalString } from './request-schema/primitives.js';
import type { Exact, ReadonlyDeep } from './request-schema/sdk-parity.js';
import { choosableToolNames, toolChoice, toolDefinitions } from './request-schema/tools.js';

/** Limits the request schema needs from the configuration. */
export interface JobRequestLimits {
  readonly maxTokensLimit: number;
  /** `WEBHOOK_SECRET` is set: jobs may name a webhook. */
  readonly webhookSecrets: readonly string[];
  readonly webhookAllowPrivate: boolean;
}

/** The API's limit on messages in one request. */
const maxMessages = 100_000;

/**
 * temperature, top_p and top_k: refused, with the reason. The SDK we pin sends API version
 * 2026-10-21, which answers 400 "Extra inputs are not permitted" for them even at their defaults.
 */
const refusedSampling = z
  .never({
    error:
      `is not accepted: genrelay's upstream SDK (@anthropic-ai/sdk 1.11.0) sends anthropic-version ${apiVersion}, and that API version ` +
      'answers 400 "Extra inputs are not permitted" for temperature, top_p and top_k, even at their default values; leave it out',
  })
  .exactOptional();

const thinkingDisplay = z.enum(['summarized', 'omitted']).nullable().exactOptional();

/** Runs a whole-body check only when the fields it reads parsed cleanly (and the body is an object). */
function whenClean(...fields: string[]) {
  return {
    when: (payload: z.core.ParsePayload) =>
      payload.issues.every((issue) => {
        const first = issue.path?.[0];
        return first === undefined ? issue.code === 'unrecognized_keys' : !fields.includes(String(first));
      }),
  };
}

/** The body of `POST /v1/jobs`: Messages parameters for a generation, plus job options (API.md §2). */
export function jobRequestSchema(limits: JobRequestLimits) {
  return z
    .strictObject({
      previous_job_id: z
        .string()
        .max(200)
        .refine(isJobId, 'must be a job id (job_…, or job_….… for a later turn)')
        .exactOptional(),
      model: z.string().min(1).max(256).exactOptional(),
      // Required without previous_job_id (checked below): a continuation may take it from the previous job.
      max_tokens: z.int().min(1).max(limits.maxTokensLimit).exactOptional(),
      messages: z.array(messageParam).max(maxMessages).exactOptional(),
      system: z.union([z.string(), z.array(textBlock)]).exactOptional(),
      tools: toolDefinitions.exactOptional(),
      tool_choice: toolChoice.exactOptional(),
      thinking: z
        .discriminatedUnion('type', [
          z.strictObject({ type: z.literal('enabled'), budget_tokens: z.int().min(1024), display: thinkingDisplay }),
          z.strictObject({ type: z.literal('adaptive'), display: thinkingDisplay }),
          z.strictObject({ type: z.literal('between_tools') }),
          z.strictObject({ type: z.literal('disabled') }),
        ])
        .exactOptional(),
      output_config: z
        .strictObject({
          effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullable().exactOptional(),
          format: z.strictObject({ type: z.literal('json_schema'), schema: jsonObject }).nullable().exactOptional(),
        })
        .exactOptional(),
      cache_control: cacheControl.nullable().exactOptional(),
      stop_sequences: z.array(z.string().min(1)).max(16).exactOptional(),
      service_tier: z.enum(['auto', 'standard_only']).exactOptional(),
      speed: z.enum(['standard', 'fast']).nullable().exactOptional(),
      container: z
        .union([
          z.string().min(1),
          z.strictObject({
            id: optionalString,
            skills: z
              .array(z.strictObject({ skill_id: z.string().min(1), type: z.enum(['anthropic', 'custom']), version: z.string().exactOptional() }))
              .nullable()
              .exactOptional(),
          }),
        ])
        .nullable()
        .exactOptional(),
      inference_geo: optionalString,
      temperature: refusedSampling,
      top_p: refusedSampling,
      top_k: refusedSampling,
      max_duration_ms: z.int().min(1).exactOptional(),
      metadata: z
        .record(z.string().min(1).max(64), z.string().max(512))
        .refine((m) => Object.keys(m).length <= 16, 'at most 16 keys')
        .exactOptional(),
      webhook: z.strictObject({ url: z.string().min(1).max(2048) }).exactOptional(),
      // BullMQ's range (its PRIORITY_LIMIT, 2^21 - 1): 1 runs first.
      priority: z
        .int()
        .min(1)
        .max(2 ** 21 - 1)
        .exactOptional(),
    })
    .superRefine((body, ctx) => {
      if (body.previous_job_id !== undefined) return;
      const continuing = ' (only a request with previous_job_id may leave it out)';
      if (body.max_tokens === undefined) ctx.addIssue({ code: 'custom', path: ['max_tokens'], message: `is required${continuing}` });
      if (body.messages === undefined) ctx.addIssue({ code: 'custom', path: ['messages'], message: `is required${continuing}` });
      else if (Array.isArray(body.messages) && body.messages.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['messages'], message: 'must hold at least one message (only a request with previous_job_id may send none)' });
      }
    }, whenClean('previous_job_id'))
    .superRefine((body, ctx) => {
      for (const { path, message } of conversationIssues(body.messages ?? [], body.previous_job_id !== undefined)) ctx.addIssue({ code: 'custom', path, message });
    }, whenClean('messages', 'previous_job_id'))
    .superRefine((body, ctx) => {
      if (body.thinking?.type === 'enabled' && body.max_tokens !== undefined && body.thinking.budget_tokens >= body.max_tokens) {
        ctx.addIssue({ code: 'custom', path: ['thinking', 'budget_tokens'], message: 'must be less than max_tokens' });
      }
    }, whenClean('thinking', 'max_tokens'))
    .superRefine((body, ctx) => {
      // Prefill (an assistant turn of text to continue) is refused with extended thinking; an assistant
      // turn holding thinking or server tool blocks is a pause_turn continuation, which is not.
      const last = body.messages?.at(-1);
      const prefill = last?.role === 'assistant' && (typeof last.content === 'string' || last.content.every((block) => block.type === 'text'));
      if (prefill && body.thinking?.type === 'enabled') {
        ctx.addIssue({
          code: 'custom',
          path: ['messages', (body.messages?.length ?? 1) - 1],
          message: 'cannot end with an assistant turn of text (a prefill) when thinking is enabled',
        });
      }
    }, whenClean('messages', 'thinking'))
    .superRefine((body, ctx) => {
      const choice = body.tool_choice;
      if (choice === undefined) return;
      if (choice.type === 'tool') {
        if (body.tools !== undefined) {
          const names = choosableToolNames(body.tools);
          if (!names.has(choice.name)) {
            ctx.addIssue({ code: 'custom', path: ['tool_choice', 'name'], message: `names no tool of tools (${[...names].join(', ') || 'there are none'})` });
          }
        } else if (body.previous_job_id === undefined) {
          ctx.addIssue({ code: 'custom', path: ['tool_choice', 'name'], message: 'names a tool, but the request has no tools' });
        }
      }
      if ((choice.type === 'any' || choice.type === 'tool') && body.thinking?.type === 'enabled') {
        ctx.addIssue({
          code: 'custom',
          path: ['tool_choice', 'type'],
          message: `cannot force tool use ("${choice.type}") while thinking is enabled: the API accepts only "auto" or "none" with thinking`,
        });
      }
    }, whenClean('tool_choice', 'tools', 'thinking', 'previous_job_id'))
    .superRefine((body, ctx) => {
      for (const { path, message } of cacheBreakpointIssues(body)) ctx.addIssue({ code: 'custom', path, message });
    }, whenClean('tools', 'system', 'messages', 'cache_control'))
    .superRefine((body, ctx) => {
      if (body.webhook === undefined) return;
      if (limits.webhookSecrets.length === 0) {
        ctx.addIssue({ code: 'custom', path: ['webhook'], message: 'webhooks are off on this server (WEBHOOK_SECRET is not set)' });
      } else {
        const problem = webhookUrlProblem(body.webhook.url, limits.webhookAllowPrivate);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['webhook', 'url'], message: problem });
      }
    }, whenClean('webhook'));
}

/** What the schema parses, before the rule "max_tokens and messages unless previous_job_id" narrows it. */
type ParsedBody = z.output<ReturnType<typeof jobRequestSchema>>;

/** A validated request that starts a conversation: `max_tokens` and at least one message. */
export type NewJobRequest = Omit<ParsedBody, 'previous_job_id' | 'max_tokens' | 'messages'> & {
  readonly previous_job_id?: never;
  readonly max_tokens: number;
  readonly messages: Message[];
};

/**
 * A validated request that continues the conversation of `previous_job_id` (API.md §4.2). Any of
 * `messages` (possibly empty: a `pause_turn` continuation), `max_tokens`, `model`, `system`, `tools`,
 * `tool_choice`, `thinking`, `output_config`, … may be absent: the submitter takes them from the
 * previous job. The checks that need the previous job (its status, its unanswered tool_use ids) are
 * the submitter's; `messages[0]` may answer the previous job's tool_use blocks.
 */
export type ContinuationJobRequest = ParsedBody & { readonly previous_job_id: string };

/** A validated job request. `request.previous_job_id === undefined` narrows it to a {@link NewJobRequest}. */
export type JobRequest = NewJobRequest | ContinuationJobRequest;

// The wire type clients use (src/shared/wire.ts) and the schema describe the same bodies, field for
// field and block for block: this fails to compile if they drift.
const wireMatchesSchema: Exact<ReadonlyDeep<JobRequest>, CreateJobBody> = true;
void wireMatchesSchema;

/** Validates a parsed body; throws `validation_failed` listing every problem with its path. */
export function parseJobRequest(schema: ReturnType<typeof jobRequestSchema>, body: unknown): JobRequest {
  const result = schema.safeParse(body);
  // The refinements above guarantee max_tokens and messages whenever previous_job_id is absent.
  if (result.success) return result.data as JobRequest;
  const details = issueDetails(result.error.issues);
  const first = details[0];
  throw new AppError('validation_failed', `The job request is invalid${first ? `: ${first.path || '/'} ${first.message}` : ''}.`, {
    details,
  });
}
