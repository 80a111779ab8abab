/** Why the worker stopped an attempt itself; carried as the `AbortSignal` reason. */
export type AbortKind = 'cancelled' | 'timed_out' | 'stalled' | 'fenced' | 'shutdown' | 'store_unavailable';

/** The reason object passed to `AbortController.abort()` by the worker. */
export class AttemptAbort extends Error {
  override readonly name = 'AttemptAbort';
  constructor(readonly kind: AbortKind) {
    super(`attempt aborted: ${kind}`);
  }
}

/** The worker's reason for an aborted signal, or undefined when something else aborted it. */
export function abortKind(signal: AbortSignal): AbortKind | undefined {
  return signal.aborted && signal.reason instanceof AttemptAbort ? signal.reason.kind : undefined;
}
