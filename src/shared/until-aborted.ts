/**
 * The waiters of each signal: one `abort` listener per signal calls them all. Node's `EventTarget`
 * walks its listener list on every `addEventListener` (to drop duplicates), so a listener per wait on
 * one long-lived signal costs O(waiting): with 1,000 jobs each waiting on the worker's shutdown
 * signal, one add and remove took 6.5 µs against 1.1-1.6 µs with few (bench/probes/abort-listeners.ts),
 * a third of the worker's CPU per token at 1,000 generations. A Set adds and removes in O(1).
 */
const waiters = new WeakMap<AbortSignal, Set<() => void>>();

/** The waiter set of `signal`, with its one listener, made on first use. */
function waitersOf(signal: AbortSignal): Set<() => void> {
  let set = waiters.get(signal);
  if (set === undefined) {
    const created = new Set<() => void>();
    waiters.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        for (const wake of created) wake();
        created.clear();
      },
      { once: true },
    );
    set = created;
  }
  return set;
}

/**
 * Waits for `promise`, or rejects with `signal.reason` as soon as `signal` aborts, whichever comes
 * first. The promise is not cancelled (a command waiting inside ioredis cannot be): it is only no
 * longer waited for, and its late rejection is swallowed here, so it never becomes unhandled. However
 * many wait on one signal, it holds one `abort` listener.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  const set = waitersOf(signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    set.add(onAbort);
    promise.then(
      (value) => {
        set.delete(onAbort);
        resolve(value);
      },
      (err: unknown) => {
        set.delete(onAbort);
        reject(err);
      },
    );
  });
}
