import type { Problem } from '../shared/wire.js';
import { ConnectionError, ProblemError } from './errors.js';

/** What every request of one client shares. */
export interface HttpContext {
  readonly baseUrl: string;
  readonly apiKey: string | undefined;
  /** A viewer token, sent as `?token=` on reads of a job (record, events). */
  readonly token: string | undefined;
  readonly fetch: typeof fetch;
}

/** Options of one request. */
export interface RequestOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly signal?: AbortSignal | undefined;
  /** A read of one job: the viewer token may stand in for the key. */
  readonly read?: boolean;
}

/** Seconds of a `Retry-After` header (delta seconds or an HTTP date), when there is one. */
export function retryAfterS(res: Response): number | undefined {
  const raw = res.headers.get('retry-after');
  if (raw === null) return undefined;
  const s = Number(raw);
  if (Number.isFinite(s)) return Math.max(0, s);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** The problem of a non-2xx answer; a body that is not one becomes a problem from the status. */
export async function problemOf(res: Response): Promise<ProblemError> {
  let problem: Problem | undefined;
  try {
    const body = (await res.json()) as Partial<Problem>;
    if (typeof body.status === 'number' && typeof body.title === 'string') problem = body as Problem;
  } catch {
    // not JSON: described from the status below
  }
  return new ProblemError(
    problem ?? { type: 'about:blank', title: res.statusText || `HTTP ${res.status}`, status: res.status, detail: `HTTP ${res.status}` },
    retryAfterS(res),
  );
}

/** Sends one request; resolves with the response (any status), or rejects with a `ConnectionError`. */
export async function send(ctx: HttpContext, method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const url = new URL(path, ctx.baseUrl.endsWith('/') ? ctx.baseUrl : `${ctx.baseUrl}/`);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  if (options.read === true && ctx.token !== undefined) url.searchParams.set('token', ctx.token);
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (ctx.apiKey !== undefined) headers['authorization'] = `Bearer ${ctx.apiKey}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await ctx.fetch(url, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (cause) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    throw new ConnectionError(`cannot reach ${url.origin}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Sends one request and parses its JSON; a non-2xx answer rejects with its `ProblemError`. */
export async function json<T>(ctx: HttpContext, method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; body: T }> {
  const res = await send(ctx, method, path, options);
  if (!res.ok) throw await problemOf(res);
  return { status: res.status, body: (await res.json()) as T };
}
