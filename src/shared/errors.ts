/** Every error code genrelay raises on purpose. Decide with `instanceof AppError` and `code`. */
export type AppErrorCode =
  | 'config_invalid'
  | 'redis_unavailable'
  | 'validation_failed'
  | 'not_found'
  | 'unauthorized'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'upstream_failed'
  | 'fenced'
  | 'shutting_down'
  | 'port_unavailable'
  | 'method_not_allowed';

/** One error type for the whole code base; `cause` keeps the original failure. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: AppErrorCode,
    message: string,
    options: { cause?: unknown; details?: readonly { path: string; message: string }[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details ?? [];
  }
  /** Per-field problems for `validation_failed`. */
  readonly details: readonly { path: string; message: string }[];
}
