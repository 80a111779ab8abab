import type { JobStore } from '../shared/job-store.js';
import type { Logger } from '../shared/logger.js';
import type { ActiveAttempts } from './active-attempts.js';

/** Periodic duties of every worker that do not depend on the attempts being healthy. */
export interface Reaper {
  /** One pass (the timer calls it; tests may too). */
  sweep(): Promise<void>;
  /** Stops the timer and waits for a pass in progress; idempotent. */
  close(): Promise<void>;
}

/** Dependencies of {@link startReaper}. */
export interface ReaperDeps {
  readonly store: JobStore;
  readonly active: ActiveAttempts;
  readonly logger: Logger;
  readonly intervalMs: number;
}

const batch = 100;
/**
 * How long past a job's deadline the reaper waits for the job's own worker, whose timer fires at the
 * deadline and whose ending writes the attempt's last output; the reaper is for workers that cannot.
 */
export const deadlineGraceMs = 2000;

/**
 * Runs in every worker, safely in several at once (every ending goes through the same
 * compare-and-set in finish.lua, so the first wins and the others are refused):
 * - ends `timed_out` every job whose deadline passed {@link deadlineGraceMs} ago (Redis clock) and
 *   that does not run in this worker: its worker may be wedged (SIGSTOP, a blocked event loop) or
 *   dead, and a job between attempts has no timer at all;
 * - aborts local attempts whose cancel flag is set, in case this worker missed the broadcast (the
 *   control subscription was reconnecting).
 */
export function startReaper(deps: ReaperDeps): Reaper {
  const { store, active, logger } = deps;
  let running: Promise<void> | undefined;

  const reapDeadlines = async () => {
    for (;;) {
      // Due on the Redis clock, and checked against it again inside finish: a reaper on a host whose
      // clock runs ahead must not end other workers' jobs early.
      const due = await store.dueDeadlines(batch, deadlineGraceMs);
      // Attempts running here have their own timer, armed from the time Redis said was left: their
      // worker ends them (with their last output); a process whose loop is wedged runs no reaper either.
      const local = new Set(active.ids());
      const others = due.filter((id) => !local.has(id));
      for (const id of others) {
        const outcome = await store.finish(id, {
          status: 'timed_out',
          error: { type: 'timed_out', message: 'max_duration_ms reached (ended by the reaper)' },
          overdueByMs: deadlineGraceMs,
        });
        // Cannot happen for ids the same clock found due; if it does, leave them for the next pass.
        if (outcome === 'not_due') return;
        if (outcome === 'ok') logger.warn({ jobId: id }, 'reaper ended a job past its deadline');
        await store.untrackDeadline(id);
      }
      // A full page of which some are local would come back the same: the next pass takes it.
      if (due.length < batch || others.length < due.length) return;
    }
  };
  const sweepCancels = async () => {
    for (const id of await store.cancelRequested(active.ids())) {
      if (active.abort(id, 'cancelled')) logger.info({ jobId: id }, 'cancel flag found by the sweep');
    }
  };
  const sweep = () => {
    running ??= (async () => {
      try {
        await reapDeadlines();
        await sweepCancels();
      } catch (err) {
        logger.warn({ err }, 'reaper pass failed');
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  const timer = setInterval(() => void sweep(), deps.intervalMs);
  timer.unref();
  let closing: Promise<void> | undefined;
  return {
    sweep,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        await running;
      })();
      return closing;
    },
  };
}
