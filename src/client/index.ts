/**
 * `genrelay/client`: a typed client for the genrelay API, for Node 20+ and browsers (fetch only).
 *
 * ```ts
 * import { createClient, collectText } from 'genrelay/client';
 * const genrelay = createClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.GENRELAY_API_KEY });
 * const job = await genrelay.jobs.create({ max_tokens: 500, messages: [{ role: 'user', content: 'Explain TCP' }] });
 * for await (const event of genrelay.jobs.follow(job.id)) if (event.type === 'delta') process.stdout.write(event.data.text);
 * // The next turn of the conversation: the history is resolved on the server.
 * await genrelay.jobs.create({ previous_job_id: job.id, messages: [{ role: 'user', content: 'And UDP?' }] });
 * ```
 */
import type { ConversationView, CreateJobBody, JobRecordView, JobSubmission, ViewerTokenGrant } from '../shared/wire.js';
import { isTerminal } from '../shared/events.js';
import { createBackoff, sleep } from './backoff.js';
import { ConnectionError, ProblemError, WaitTimeoutError } from './errors.js';
import { followConversation, type ConversationEvent, type ConversationFollowOptions } from './conversations.js';
import { follow, type FollowOptions, type StreamEvent } from './follow.js';
import { json, type HttpContext } from './http.js';

export type * from '../shared/wire.js';
export { isTerminal } from '../shared/events.js';
export { ConnectionError, ProblemError, WaitTimeoutError } from './errors.js';
export { collectText, type FollowOptions, type FollowState, type StreamEvent } from './follow.js';
export type { ConversationEvent, ConversationFollowOptions } from './conversations.js';
export { createSocketClient, type GenrelaySocket, type SocketClientOptions, type WebSocketLike } from './socket.js';
export { createContentFold, foldContent, type ContentFold, type FoldEvent } from '../shared/fold-content.js';

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** The API, e.g. `http://127.0.0.1:8080`. */
  readonly baseUrl: string;
  /** A submitter key (`API_KEYS`), sent as `Authorization: Bearer`. */
  readonly apiKey?: string | undefined;
  /** A viewer token: enough to read one job (get, follow, wait) without a key. */
  readonly token?: string | undefined;
  /** The fetch to use. Default: the global one. */
  readonly fetch?: typeof fetch;
}

/** Options of `jobs.wait`. */
export interface WaitOptions {
  /** Give up after this long with a `WaitTimeoutError` carrying the record so far. Default: no limit. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** The jobs API. */
export interface JobsApi {
  /** Submits a job (202); with `idempotencyKey`, the same key and body give the same job (200). */
  create(body: CreateJobBody, options?: { idempotencyKey?: string; signal?: AbortSignal }): Promise<JobSubmission>;
  /** The record now. */
  get(id: string, options?: { signal?: AbortSignal }): Promise<JobRecordView>;
  /** Requests the cancel; resolves with the record (still running while the cancel is in flight, or ended). */
  cancel(id: string, options?: { signal?: AbortSignal }): Promise<JobRecordView>;
  /** The record once the job has ended, waiting on the server (`?wait=`, up to 60 s a request) in a loop. */
  wait(id: string, options?: WaitOptions): Promise<JobRecordView>;
  /** A fresh viewer token and the share links for a job. */
  viewerToken(id: string, options?: { signal?: AbortSignal }): Promise<ViewerTokenGrant>;
  /** The job's events, resuming by itself until `done` (see {@link follow}). */
  follow(id: string, options?: FollowOptions): AsyncIterable<StreamEvent>;
}

/** The conversations API (API.md §4.2); a conversation is continued with `jobs.create({previous_job_id})`. */
export interface ConversationsApi {
  /** The conversation's turns: each job's status, its request's messages and its assistant content. */
  get(id: string, options?: { signal?: AbortSignal }): Promise<ConversationView>;
  /** Every turn's events, resuming by itself; it stays open for the next turn until `signal` aborts. */
  follow(id: string, options?: ConversationFollowOptions): AsyncIterable<ConversationEvent>;
  /** A viewer token that reads the conversation and its jobs, and its share links. */
  viewerToken(id: string, options?: { signal?: AbortSignal }): Promise<ViewerTokenGrant>;
}

/** A genrelay client. */
export interface GenrelayClient {
  readonly jobs: JobsApi;
  readonly conversations: ConversationsApi;
}

const jobPath = (id: string, rest = '') => `v1/jobs/${encodeURIComponent(id)}${rest}`;

/** Creates a client for the API at `baseUrl`. */
export function createClient(options: ClientOptions): GenrelayClient {
  const ctx: HttpContext = {
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    token: options.token,
    fetch: options.fetch ?? ((...args) => globalThis.fetch(...args)),
  };
  const jobs: JobsApi = {
    async create(body, opts = {}) {
      const headers = opts.idempotencyKey === undefined ? {} : { 'idempotency-key': opts.idempotencyKey };
      return (await json<JobSubmission>(ctx, 'POST', 'v1/jobs', { body, headers, signal: opts.signal })).body;
    },
    async get(id, opts = {}) {
      return (await json<JobRecordView>(ctx, 'GET', jobPath(id), { read: true, signal: opts.signal })).body;
    },
    async cancel(id, opts = {}) {
      return (await json<JobRecordView>(ctx, 'POST', jobPath(id, '/cancel'), { signal: opts.signal })).body;
    },
    async wait(id, opts = {}) {
      const until = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
      const backoff = createBackoff();
      let last: JobRecordView | undefined;
      for (;;) {
        const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
        try {
          const { body } = await json<JobRecordView>(ctx, 'GET', jobPath(id), {
            read: true,
            signal: opts.signal,
            query: { wait: Math.min(60, left) },
          });
          backoff.reset();
          last = body;
          if (isTerminal(body.status)) return body;
        } catch (err) {
          // As follow does: the server's trouble (5xx, 429, a proxy's timeout, no connection) is waited
          // out; any other refusal is the caller's to see.
          const transient = err instanceof ConnectionError || (err instanceof ProblemError && (err.status >= 500 || err.status === 429));
          if (!transient || Date.now() >= until) throw err;
          const retryS = err instanceof ProblemError ? (err.retryAfterS ?? 0) : 0;
          await sleep(Math.min(backoff.next(retryS * 1000), Math.max(0, until - Date.now())), opts.signal);
          continue;
        }
        if (Date.now() >= until) throw new WaitTimeoutError(last);
      }
    },
    async viewerToken(id, opts = {}) {
      return (await json<ViewerTokenGrant>(ctx, 'POST', jobPath(id, '/viewer-token'), { signal: opts.signal })).body;
    },
    follow(id, opts = {}) {
      return follow(ctx, id, opts);
    },
  };
  const conversationPath = (id: string, rest = '') => `v1/conversations/${encodeURIComponent(id)}${rest}`;
  const conversations: ConversationsApi = {
    async get(id, opts = {}) {
      return (await json<ConversationView>(ctx, 'GET', conversationPath(id), { read: true, signal: opts.signal })).body;
    },
    follow(id, opts = {}) {
      return followConversation(ctx, id, opts);
    },
    async viewerToken(id, opts = {}) {
      return (await json<ViewerTokenGrant>(ctx, 'POST', conversationPath(id, '/viewer-token'), { signal: opts.signal })).body;
    },
  };
  return { jobs, conversations };
}
