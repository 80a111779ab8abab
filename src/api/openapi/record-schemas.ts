/**
 * The zod schemas of what the API answers (records, submissions, grants, conversations, problems),
 * for the OpenAPI document. The TypeScript types of `src/shared/wire.ts` stay what the server and
 * `genrelay/client` are written against; the checks at the bottom fail `tsc` when a schema here and
 * its type describe different values, so the document cannot drift from the code silently.
 */
import { z } from 'zod';
import type { JobStats } from '../job-stats.js';
import { jobStatuses } from '../../shared/events.js';
import type * as Wire from '../../shared/wire.js';
import type { Exact, ReadonlyDeep } from '../request-schema/sdk-parity.js';

const timestamp = z.string().describe('ISO 8601 time, UTC');
const counter = z.int().min(0);
const anyObject = z.record(z.string(), z.unknown());

/** A job's status; the last four are terminal. */
export const jobStatus = z.enum(jobStatuses);

/** `{type, message}` when a job failed, was cancelled or timed out. */
export const jobError = z.strictObject({ type: z.string(), message: z.string() });

/** Every counter the upstream reported, the latest value of each; open to counters newer than genrelay. */
export const usage = z.looseObject({
  input_tokens: counter,
  output_tokens: counter,
  cache_creation_input_tokens: counter.nullable().exactOptional(),
  cache_read_input_tokens: counter.nullable().exactOptional(),
  server_tool_use: z.object({ web_search_requests: counter.exactOptional(), web_fetch_requests: counter.exactOptional() }).nullable().exactOptional(),
});

const incomplete = z.literal(true).exactOptional().describe('the job ended inside this block');

const textContent = z.strictObject({ type: z.literal('text'), text: z.string(), citations: z.array(anyObject).nullable().exactOptional(), incomplete });
const thinkingContent = z.strictObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string(), incomplete });
const toolContent = z.looseObject({
  type: z.enum(['tool_use', 'server_tool_use']),
  id: z.string(),
  name: z.string(),
  input: z.unknown().exactOptional().describe('the parsed input, once the block finished and it parsed'),
  partial_json: z.string().exactOptional().describe('the raw input received, when `input` is not there'),
  input_error: z.string().exactOptional().describe("why a finished block's input is unusable"),
  incomplete,
});
const otherContent = z.looseObject({ type: z.string(), incomplete });

/** One block of the assistant message (the fold of the job's events); blocks of other types come as sent. */
export const contentBlockView = z.union([textContent, thinkingContent, toolContent, otherContent]);

/** Delivery state of a job's webhook. */
export const webhookState = z.strictObject({
  status: z.enum(['pending', 'delivered', 'failed', 'gone', 'refused']),
  attempts: counter,
  last_status: z.int().nullable(),
  last_error: z.string().nullable(),
});

/** The job record, `GET /v1/jobs/{id}`. */
export const jobRecordView = z.strictObject({
  id: z.string(),
  status: jobStatus,
  model: z.string(),
  attempt: counter,
  created_at: timestamp,
  started_at: timestamp.nullable(),
  finished_at: timestamp.nullable(),
  cancel_requested_at: timestamp.nullable(),
  deadline_at: timestamp.nullable(),
  text: z.string().describe("the final attempt's text blocks, joined"),
  partial: z.boolean().describe('false only for a job that completed normally'),
  stop_reason: z.string().nullable(),
  stop_sequence: z.string().nullable(),
  stop_details: anyObject.nullable(),
  container: anyObject.nullable(),
  truncated: z.boolean(),
  usage,
  content: z.array(contentBlockView),
  output: z.unknown().exactOptional().describe('with a json_schema output format: the text parsed, once completed'),
  output_error: z.string().nullable().exactOptional(),
  conversation_id: z.string().nullable(),
  turn: z.int().min(1),
  previous_job_id: z.string().nullable(),
  forked_from: z.string().exactOptional(),
  error: jobError.nullable(),
  metrics: z.strictObject({
    queue_ms: z.number().nullable(),
    ttft_ms: z.number().nullable(),
    duration_ms: z.number().nullable(),
    output_tokens_per_s: z.number().nullable(),
  }),
  metadata: z.record(z.string(), z.string()).exactOptional().describe('absent when read with a viewer token'),
  priority: z.int().nullable(),
  viewers: counter,
  worker: z.string().nullable().exactOptional().describe('absent when read with a viewer token'),
  webhook: webhookState.exactOptional(),
});

/** A job's counters, `GET /v1/jobs/{id}/stats`: the record's small fields, never its text. */
export const jobStats = jobRecordView.pick({ id: true, status: true, attempt: true, usage: true, metrics: true, viewers: true });

/** The answer to `POST /v1/jobs`. */
export const jobSubmission = z.strictObject({ id: z.string(), status: jobStatus, created_at: timestamp, events_url: z.string(), viewer_token: z.string() });

/** A viewer token and the URLs it opens (`POST …/viewer-token`, 201). */
export const viewerTokenGrant = z.strictObject({
  token: z.string(),
  expires_at: timestamp,
  viewer_url: z.string(),
  events_url: z.string(),
  record_url: z.string(),
});

/** A conversation and its turns, `GET /v1/conversations/{id}`. */
export const conversationView = z.strictObject({
  id: z.string(),
  created_at: timestamp,
  last_job_id: z.string(),
  forked_from: z.string().nullable(),
  forked_from_conversation: z.string().nullable(),
  turns: z.array(
    z.strictObject({
      turn: z.int().min(1),
      job_id: z.string(),
      status: jobStatus,
      previous_job_id: z.string().nullable(),
      messages: z.array(z.unknown()).describe("the messages this turn's request added (MessageParam)"),
      content: z.array(contentBlockView),
      stop_reason: z.string().nullable(),
      usage,
      error: jobError.nullable(),
      created_at: timestamp,
      finished_at: timestamp.nullable(),
    }),
  ),
  events_url: z.string(),
});

/** An RFC 9457 problem: every error answer (and a refused socket request's `problem`). */
export const problem = z.strictObject({
  type: z.string(),
  title: z.string(),
  status: z.int().min(400).max(599),
  detail: z.string(),
  errors: z.array(z.strictObject({ path: z.string(), message: z.string() })).exactOptional(),
});

// Each schema describes exactly the values of its wire type: these fail to compile on a drift.
type Same<S extends z.ZodType, T> = Exact<ReadonlyDeep<z.output<S>>, ReadonlyDeep<T>>;
/** `T` without its index signature: an open type's named members, which the index would otherwise absorb. */
type Named<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
type SameNamed<S extends z.ZodType, T> = Exact<Named<ReadonlyDeep<z.output<S>>>, Named<ReadonlyDeep<T>>>;
const sameAsTypes: [
  Same<typeof jobRecordView, Omit<Wire.JobRecordView, 'worker' | 'metadata'> & { readonly worker?: string | null; readonly metadata?: Record<string, string> }>,
  Same<typeof jobSubmission, Wire.JobSubmission>,
  Same<typeof jobStats, JobStats>,
  Same<typeof viewerTokenGrant, Wire.ViewerTokenGrant>,
  Same<typeof conversationView, Wire.ConversationView>,
  Same<typeof problem, Wire.Problem>,
  Same<typeof webhookState, Wire.WebhookState>,
  Same<typeof usage, Wire.Usage>,
  Same<typeof contentBlockView, Wire.ContentBlockView>,
  SameNamed<typeof usage, Wire.Usage>,
  Same<typeof textContent, Wire.TextContent>,
  Same<typeof thinkingContent, Wire.ThinkingContent>,
  SameNamed<typeof toolContent, Wire.ToolContent>,
  SameNamed<typeof otherContent, Wire.OtherContent>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void sameAsTypes;
