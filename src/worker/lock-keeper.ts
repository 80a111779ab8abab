import type { Logger } from '../shared/logger.js';
import { logRepeatedErrors } from '../shared/repeated-errors.js';

/**
 * Keeps the BullMQ locks of the runs this process holds alive, one entry per run (its lock token),
 * not per job id.
 *
 * Why not BullMQ's own renewal: its lock manager (6.7.0) tracks locks by job id. When a job's lock
 * expires while this process still runs it (SIGSTOP, a stalled Redis) the job comes back and this
 * same process may take it again under a new token; the new run overwrites the job's entry, and when
 * the old, fenced run ends BullMQ untracks the job id, dropping the new run's entry. The new lock is
 * then never renewed and the job stalls every two lock periods until its attempts run out. Here a run
 * is released by its own token only, so an old run can never stop a newer run's renewal. An old run's
 * lock cannot come back to life either: renewal only extends a lock that still holds its token.
 */
export interface LockKeeper {
  /** Renews `token`'s lock on `jobId` until the returned release is called (idempotent). */
  hold(jobId: string, token: string): () => void;
  /** Runs held now. */
  readonly size: number;
  /** Stops renewing; idempotent. */
  close(): void;
}

/** Options of {@link createLockKeeper}. */
export interface LockKeeperOptions {
  /**
   * Extends the locks of `jobIds` (each with the token at the same index) to `durationMs`; resolves
   * with the ids whose lock was not theirs any more. BullMQ's `Worker.extendJobLocks`: one script call.
   */
  readonly extend: (jobIds: string[], tokens: string[], durationMs: number) => Promise<string[]>;
  /** `LOCK_DURATION_MS`: what each renewal extends a lock to. */
  readonly lockDurationMs: number;
  readonly logger: Logger;
}

/**
 * Renews every held lock in one round trip every third of the lock duration (two chances to renew
 * before a lock lapses, as BullMQ's own schedule gives). A renewal still in flight when the next is
 * due is not doubled; a renewal Redis refuses is tried again at the next tick.
 */
export function createLockKeeper(options: LockKeeperOptions): LockKeeper {
  const { lockDurationMs, logger } = options;
  // job id -> the token of its newest run here. A newer run of the same job replaces the older one at
  // once: the job came back only because the older run's lock lapsed, so that run is fenced anyway.
  const held = new Map<string, string>();
  let inFlight = false;
  const logFailure = logRepeatedErrors(logger, 'could not renew job locks', { level: 'warn' });

  const renew = async () => {
    if (inFlight || held.size === 0) return;
    inFlight = true;
    const jobIds = [...held.keys()];
    const tokens = jobIds.map((id) => held.get(id) ?? '');
    try {
      const lost = await options.extend(jobIds, tokens, lockDurationMs);
      const fenced: string[] = [];
      for (const jobId of lost) {
        const token = tokens[jobIds.indexOf(jobId)];
        // Released, or replaced by a newer run, while the renewal was out: nothing to forget.
        if (held.get(jobId) !== token) continue;
        // The lock lapsed (or another worker's run owns it): this run is fenced out by the next start,
        // and renewing it again would only fail again.
        held.delete(jobId);
        fenced.push(jobId);
      }
      // One record per renewal, however many locks lapsed in it (a Redis outage lapses them all).
      if (fenced.length === 1) logger.warn({ jobId: fenced[0] }, 'job lock lost: a newer attempt takes over this job');
      else if (fenced.length > 1) logger.warn({ count: fenced.length, jobIds: fenced.slice(0, 10) }, 'job locks lost: newer attempts take over these jobs');
    } catch (err) {
      logFailure(err);
    } finally {
      inFlight = false;
    }
  };
  const timer = setInterval(() => void renew(), Math.max(10, Math.floor(lockDurationMs / 3)));
  timer.unref();

  return {
    hold(jobId, token) {
      held.set(jobId, token);
      return () => {
        if (held.get(jobId) === token) held.delete(jobId);
      };
    },
    get size() {
      return held.size;
    },
    close() {
      clearInterval(timer);
      held.clear();
    },
  };
}
