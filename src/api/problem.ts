import type { ErrorRequestHandler, Response } from 'express';
import { AppError, type AppErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Problem } from '../shared/wire.js';

export type { Problem } from '../shared/wire.js';

const byCode: Partial<Record<AppErrorCode, { status: number; title: string }>> = {
  validation_failed: { status: 400, title: 'Invalid request' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  redis_unavailable: { status: 503, title: 'Service unavailable' },
  shutting_down: { status: 503, title: 'Service unavailable' },
};

/** Sends a problem+json response. */
export function sendProblem(res: Response, problem: Problem): void {
  // A 503 is worth retrying soon: say when (clients, the CLI and load balancers honour it).
  if (problem.status === 503) res.set('retry-after', '1');
  res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** The problem document for an error; unknown errors become a 500 without internals. */
export function toProblem(err: unknown): Problem {
  if (err instanceof AppError) {
    const mapped = byCode[err.code] ?? { status: 500, title: 'Internal error' };
    return {
      type: `urn:genrelay:problem:${err.code}`,
      title: mapped.title,
      status: mapped.status,
      detail: err.message,
      ...(err.details.length > 0 ? { errors: err.details } : {}),
    };
  }
  // body-parser's errors carry `type` and `status` (invalid JSON, too large, bad charset).
  const e = err as { type?: unknown; status?: unknown; message?: unknown; limit?: unknown };
  if (e.type === 'entity.parse.failed') {
    return problemFor('validation_failed', 'The body is not valid JSON.', [{ path: '', message: String(e.message) }]);
  }
  if (e.type === 'entity.too.large') {
    const limit = typeof e.limit === 'number' ? `${e.limit} bytes` : 'the limit';
    return problemFor('payload_too_large', `The request body is larger than ${limit} (MAX_BODY_BYTES).`);
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return { type: 'about:blank', title: 'Bad request', status: e.status, detail: String(e.message) };
  }
  if (isRedisTrouble(err)) {
    return problemFor('redis_unavailable', 'Redis is not answering this now (restarting, failing over, or out of memory); retry shortly.');
  }
  return { type: 'about:blank', title: 'Internal error', status: 500, detail: 'An unexpected error occurred.' };
}

/**
 * Errors that mean Redis cannot serve right now rather than a bug: its error replies during a restart,
 * a failover or OOM, and ioredis giving up on redirections or a closed connection.
 */
function isRedisTrouble(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'ReplyError' && /^(CLUSTERDOWN|MOVED|ASK|TRYAGAIN|LOADING|READONLY|OOM|MASTERDOWN|BUSY)\b/.test(err.message)) return true;
  return /^(Too many Cluster redirections|Connection is closed|Failed to refresh slots cache)/.test(err.message);
}

function problemFor(code: AppErrorCode, detail: string, errors: { path: string; message: string }[] = []): Problem {
  return toProblem(new AppError(code, detail, { details: errors }));
}

/** Express error handler: everything becomes problem+json; 5xx are logged with their stack. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const problem = toProblem(err);
    if (problem.status >= 500) logger.error({ err, method: req.method, url: req.originalUrl }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendProblem(res, problem);
  };
}
