import { readFile } from 'node:fs/promises';
import { ConnectionError, ProblemError, WaitTimeoutError, type GenrelayClient } from '../client/index.js';
import type { CreateJobBody, JobRecordView } from '../client/index.js';
import { exitCodeFor, exitCodes } from './exit-codes.js';
import { createStatusLine, type Terminal } from './status-line.js';
import { streamJob } from './stream-job.js';

/** What every command gets from `main.ts`. */
export interface CommandContext {
  readonly client: GenrelayClient;
  readonly baseUrl: string;
  readonly term: Terminal;
  /** Machine-readable output: records as JSON, events as NDJSON. */
  readonly json: boolean;
  /** Reads standard input to the end (the prompt of `run` when none is given). */
  readonly readStdin: () => Promise<string>;
  /** Registers what Ctrl+C does; returns nothing. The second Ctrl+C always exits at once. */
  readonly onInterrupt: (handler: () => void) => void;
}

/** Options of `genrelay run`. */
export interface RunOptions {
  readonly file?: string;
  readonly model?: string;
  readonly maxTokens: number;
  readonly system?: string;
  readonly maxDuration?: number;
  readonly metadata: readonly string[];
  readonly detach?: boolean;
  readonly idempotencyKey?: string;
  readonly priority?: number;
  readonly webhook?: string;
}

/** A usage error found after parsing (no prompt, a malformed k=v). */
export class UsageError extends Error {}

/**
 * Maps a failure to its message and exit code. `apiKeySet`: whether `GENRELAY_API_KEY` was given, so
 * a 401 can say what to do about it.
 */
export function failure(err: unknown, baseUrl: string, apiKeySet = false): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.message, code: exitCodes.usage };
  if (err instanceof ConnectionError) return { message: `${err.message} (the server is set by --url or GENRELAY_URL: ${baseUrl})`, code: exitCodes.unreachable };
  if (err instanceof ProblemError) {
    // The server's own trouble (5xx: it is up but cannot serve) is not a refusal of this request.
    if (err.status >= 500) return { message: `${err.status} ${err.title}: ${err.detail}`, code: exitCodes.unreachable };
    const details = err.errors.map((e) => `\n  ${e.path || '/'}: ${e.message}`).join('');
    const hint =
      err.status !== 401
        ? ''
        : apiKeySet
          ? "\n  GENRELAY_API_KEY is set, but the server does not accept it: use one of the server's API_KEYS."
          : "\n  Set GENRELAY_API_KEY to one of the server's API_KEYS (export GENRELAY_API_KEY=…).";
    return { message: `${err.status} ${err.title}: ${err.detail}${details}${hint}`, code: exitCodes.refused };
  }
  return { message: err instanceof Error ? err.message : String(err), code: exitCodes.failed };
}

/** The one-line summary of an ended (or current) record. */
export function summary(r: JobRecordView): string {
  const m = r.metrics;
  return [
    r.status.replace('_', ' '),
    `ttft ${m.ttft_ms === null ? '–' : `${m.ttft_ms} ms`}`,
    `${r.usage.output_tokens} tokens`,
    `${m.output_tokens_per_s === null ? '–' : m.output_tokens_per_s} tok/s`,
    `${m.duration_ms === null ? '–' : `${(m.duration_ms / 1000).toFixed(1)} s`}`,
    `stop ${r.stop_reason ?? '–'}`,
    ...(r.truncated ? ['truncated'] : []),
    ...(r.error === null ? [] : [`${r.error.type}: ${r.error.message}`]),
  ].join(' · ');
}

/** Prints a record: JSON, or its text on stdout and its summary on stderr. */
export function printRecord(ctx: CommandContext, record: JobRecordView): void {
  if (ctx.json) {
    ctx.term.stdout.write(`${JSON.stringify(record)}\n`);
    return;
  }
  ctx.term.stdout.write(record.text);
  // On a terminal the prompt should not follow the text on its line; in a pipe or file the text is exact.
  if (ctx.term.stdout.isTTY === true && record.text !== '' && !record.text.endsWith('\n')) ctx.term.stdout.write('\n');
  ctx.term.stderr.write(`${summary(record)}\n`);
}

/** `genrelay run`: submit, then stream the text until the job ends. */
export async function runCommand(ctx: CommandContext, promptWords: readonly string[], opts: RunOptions): Promise<number> {
  const prompt =
    opts.file !== undefined ? await readFile(opts.file, 'utf8') : promptWords.length > 0 ? promptWords.join(' ') : await ctx.readStdin();
  if (prompt.trim() === '') throw new UsageError('no prompt: give it as an argument, with -f FILE, or on standard input');
  const metadata: Record<string, string> = {};
  for (const kv of opts.metadata) {
    const at = kv.indexOf('=');
    if (at <= 0) throw new UsageError(`--metadata wants key=value, got "${kv}"`);
    metadata[kv.slice(0, at)] = kv.slice(at + 1);
  }
  const body: CreateJobBody = {
    max_tokens: opts.maxTokens,
    messages: [{ role: 'user', content: prompt }],
    ...(opts.model === undefined ? {} : { model: opts.model }),
    ...(opts.system === undefined ? {} : { system: opts.system }),
    ...(opts.maxDuration === undefined ? {} : { max_duration_ms: Math.round(opts.maxDuration * 1000) }),
    ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
    ...(opts.priority === undefined ? {} : { priority: opts.priority }),
    ...(opts.webhook === undefined ? {} : { webhook: { url: opts.webhook } }),
  };
  const submitted = Date.now();
  // Ctrl+C during the submission counts too: the job is cancelled as soon as it has an id.
  let cancel: () => void = () => {
    cancelEarly = true;
  };
  let cancelEarly = false;
  ctx.onInterrupt(() => cancel());
  const job = await ctx.client.jobs.create(body, opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey });
  const base = ctx.baseUrl.replace(/\/$/, '');
  const links = {
    id: job.id,
    status: job.status,
    events_url: `${base}${job.events_url}`,
    viewer_url: `${base}/jobs/${job.id}?token=${encodeURIComponent(job.viewer_token)}`,
  };
  if (opts.detach === true) {
    ctx.term.stdout.write(ctx.json ? `${JSON.stringify(links)}\n` : `${links.id}\n${links.events_url}\n${links.viewer_url}\n`);
    return exitCodes.completed;
  }
  // --json: the first line names the job (the fields of --detach --json), so a script can cancel,
  // follow or wait for it; one line per event follows.
  if (ctx.json) ctx.term.stdout.write(`${JSON.stringify({ type: 'job', ...links })}\n`);
  const line = createStatusLine(ctx.term);
  // Where to find it again (genrelay follow/get/wait, or the page): stderr, so stdout stays the text.
  if (!ctx.json) line.notice(`job ${job.id} · ${links.viewer_url}`);
  let cancelling = false;
  cancel = () => {
    if (cancelling) return;
    cancelling = true;
    line.notice('cancelling the job on the server… (Ctrl+C again to exit now and leave it running)');
    ctx.client.jobs.cancel(job.id).catch((err: unknown) => line.notice(`cancel failed: ${failure(err, ctx.baseUrl).message}`));
  };
  if (cancelEarly) cancel();
  return streamJob(ctx, line, job.id, { after: 0, submittedAt: submitted });
}

/** `genrelay follow`: stream the text of an existing job from `after`. */
export async function followCommand(ctx: CommandContext, id: string, after: number): Promise<number> {
  return streamJob(ctx, createStatusLine(ctx.term), id, { after });
}

/** `genrelay wait`: the record once the job has ended (or after `timeoutS`). */
export async function waitCommand(ctx: CommandContext, id: string, timeoutS: number | undefined): Promise<number> {
  try {
    const record = await ctx.client.jobs.wait(id, timeoutS === undefined ? {} : { timeoutMs: timeoutS * 1000 });
    printRecord(ctx, record);
    return exitCodeFor(record.status);
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    printRecord(ctx, err.record);
    return exitCodes.still_running;
  }
}

/** `genrelay get`: the record now. */
export async function getCommand(ctx: CommandContext, id: string): Promise<number> {
  printRecord(ctx, await ctx.client.jobs.get(id));
  return exitCodes.completed;
}

/** `genrelay cancel`: requests the cancel; prints the record. */
export async function cancelCommand(ctx: CommandContext, id: string): Promise<number> {
  const record = await ctx.client.jobs.cancel(id);
  if (ctx.json) ctx.term.stdout.write(`${JSON.stringify(record)}\n`);
  else ctx.term.stderr.write(`${record.status === 'cancelled' ? 'cancelled' : `cancel requested (the job is ${record.status})`}\n`);
  return exitCodes.completed;
}
