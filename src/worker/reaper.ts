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
 * Runs in every worker, safely in several at once (every ending goes through the same
 * compare-and-set in finish.lua, so the first wins and the others are refused):
 * - ends `timed_out` every job whose deadline passed, whoever was running it: its worker may be
 *   wedged (SIGSTOP, a blocked event loop) or dead, and a job between attempts has no timer at all;
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
      const due = await store.dueDeadlines(batch);
      for (const id of due) {
        const outcome = await store.finish(id, {
          status: 'timed_out',
          error: { type: 'timed_out', message: 'max_duration_ms reached (ended by the reaper)' },
          onlyIfDue: true,
        });
        // Cannot happen for ids the same clock found due; if it does, leave them for the next pass.
        if (outcome === 'not_due') return;
        if (outcome === 'ok') logger.warn({ jobId: id }, 'reaper ended a job past its deadline');
        await store.untrackDeadline(id);
        // The local timer normally gets there first; if the attempt is here and still going, stop it.
        active.abort(id, 'timed_out');
      }
      if (due.length < batch) return;
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
