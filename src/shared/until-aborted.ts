/**
 * Waits for `promise`, or rejects with `signal.reason` as soon as `signal` aborts, whichever comes
 * first. The promise is not cancelled (a command waiting inside ioredis cannot be): it is only no
 * longer waited for, and its late rejection is swallowed here, so it never becomes unhandled.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
