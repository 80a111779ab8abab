import type { JobRecordView, Problem } from '../shared/wire.js';

/** The API answered with a problem (RFC 9457): `status`, `type`, `title`, `detail`, `errors`. */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: readonly { readonly path: string; readonly message: string }[];
  /** Seconds the server asked to wait (`Retry-After`), when it did. */
  readonly retryAfterS: number | undefined;

  constructor(readonly problem: Problem, retryAfterS?: number) {
    super(`${problem.status} ${problem.title}: ${problem.detail}`);
    this.status = problem.status;
    this.type = problem.type;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors ?? [];
    this.retryAfterS = retryAfterS;
  }
}

/** The server could not be reached, or the connection broke before an answer. */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** `jobs.wait` ran out of time before the job ended; `record` is the record so far. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
  constructor(readonly record: JobRecordView) {
    super(`job ${record.id} is still ${record.status}`);
  }
}
