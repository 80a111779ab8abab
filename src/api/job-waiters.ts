import type { JobRecordView } from '../shared/wire.js';
import { isTerminal } from '../shared/events.js';
import type { EventHub } from './event-hub.js';

/** What a wait ended with: the record, and whether the job has ended. */
export interface WaitResult {
  readonly record: JobRecordView;
  readonly ended: boolean;
}

/** Waits for jobs to end, for `GET /v1/jobs/{id}?wait=N`. */
export interface JobWaiters {
  /**
   * Resolves with the record as soon as the job is terminal, or with the record so far after
   * `timeoutMs` (or when `signal` aborts, the client having gone). Rejects like `readView` (unknown job).
   */
  wait(jobId: string, timeoutMs: number, signal: AbortSignal): Promise<WaitResult>;
  /** Waiters in this process, over all jobs. */
  readonly count: number;
}

/** Dependencies of {@link createJobWaiters}. */
export interface JobWaitersDeps {
  readonly hub: EventHub;
  /** Reads the public record (404 for an unknown job). */
  readonly readView: (jobId: string) => Promise<JobRecordView>;
  /** How old a "so far" record may be when waiters that time out together share one read. Default 250. */
  readonly freshMs?: number;
}

interface Watched {
  readonly waiters: Set<() => void>;
  readonly stop: () => void;
  readonly subscribed: Promise<unknown>;
  /**
   * The read that every waiter arriving while the job is followed shares (the subscription tells them
   * the job has not ended since): the first read, then after `done` the final one, and for waiters
   * whose time runs out together a fresh one at most `freshMs` old.
   */
  read?: { readonly at: number; readonly record: Promise<JobRecordView> };
  /** `done` was seen, or a read found the job terminal: every waiter can be answered 200. */
  ended: boolean;
}

/**
 * Waiters ride on the hub's one subscription per job: the first waiter of a job subscribes and reads
 * the record once; later ones share that read while the job is followed. When `done` arrives every
 * waiter wakes on one read of the final record, and waiters whose time runs out together share one
 * read of the record so far. So a thousand waiters on a job cost the Redis commands of one, not a poll
 * each. The deadline holds even while Redis does not answer (the subscribe and the reads are raced
 * against it), and a failed read is every waiter's answer that shared it, not only the first's.
 */
export function createJobWaiters(deps: JobWaitersDeps): JobWaiters {
  const freshMs = deps.freshMs ?? 250;
  const byJob = new Map<string, Watched>();
  let count = 0;

  const wake = (w: Watched) => {
    w.ended = true;
    // The final record is read once, after `done`, for all of them.
    delete w.read;
    for (const waiter of [...w.waiters]) waiter();
  };
  /** The shared read: reused while it is the first one, final, or fresh; `again` forces a new one. */
  const read = (jobId: string, w: Watched, again = false): Promise<JobRecordView> => {
    const now = Date.now();
    if (w.read === undefined || (again && !w.ended && now - w.read.at > freshMs)) {
      const record = deps.readView(jobId);
      w.read = { at: now, record };
      record.then(
        (r) => {
          if (isTerminal(r.status) && !w.ended) wake(w);
        },
        () => {
          // A failed read is not kept: those who shared it get the error, the next arrival reads again.
          if (w.read?.record === record) delete w.read;
        },
      );
    }
    return w.read.record;
  };
  const watch = (jobId: string): Watched => {
    let w = byJob.get(jobId);
    if (w !== undefined) return w;
    const handle = deps.hub.watchEnd(jobId, {
      onDone: () => {
        const current = byJob.get(jobId);
        if (current !== undefined && !current.ended) wake(current);
      },
      onResubscribed: () => {
        // A `done` may have gone by while the subscriber was away: look once, for everyone.
        const current = byJob.get(jobId);
        if (current !== undefined && !current.ended) {
          delete current.read;
          void read(jobId, current).catch(() => {});
        }
      },
    });
    w = { waiters: new Set(), stop: handle.stop, subscribed: handle.subscribed, ended: false };
    byJob.set(jobId, w);
    return w;
  };
  const unwatch = (jobId: string, w: Watched) => {
    if (w.waiters.size > 0 || byJob.get(jobId) !== w) return;
    byJob.delete(jobId);
    w.stop();
  };

  return {
    get count() {
      return count;
    },
    async wait(jobId, timeoutMs, signal) {
      const w = watch(jobId);
      let woken: () => void = () => {};
      const done = new Promise<void>((resolve) => (woken = resolve));
      w.waiters.add(woken);
      count += 1;
      // Armed first: the answer comes at the deadline even if Redis is slow to subscribe or read.
      const timer = setTimeout(woken, timeoutMs);
      const onAbort = () => woken();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        // Subscribed first, read after: an end published in between is in the read or on the channel.
        const first = await Promise.race([w.subscribed.then(() => read(jobId, w)), done.then(() => undefined)]);
        if (first !== undefined && isTerminal(first.status)) return { record: first, ended: true };
        if (first !== undefined && !w.ended && !signal.aborted) await done;
        const record = await read(jobId, w, true);
        return { record, ended: isTerminal(record.status) };
      } finally {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        w.waiters.delete(woken);
        count -= 1;
        unwatch(jobId, w);
      }
    },
  };
}
