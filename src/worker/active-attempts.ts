import { AttemptAbort, type AbortKind } from './abort-reason.js';

/** The attempts running in this worker process, by job id, so a broadcast can abort the right one. */
export interface ActiveAttempts {
  /** A fresh controller for `jobId`'s attempt. */
  register(jobId: string): AbortController;
  /** Forgets `jobId` if `controller` is still the one registered. */
  release(jobId: string, controller: AbortController): void;
  /** Aborts `jobId`'s attempt if it runs here; whether it did. */
  abort(jobId: string, kind: AbortKind): boolean;
  /** Aborts every attempt (forced shutdown). */
  abortAll(kind: AbortKind): void;
  /** Job ids of the attempts running here. */
  ids(): string[];
  readonly size: number;
}

/** Creates the registry of running attempts. */
export function createActiveAttempts(): ActiveAttempts {
  const byJob = new Map<string, AbortController>();
  return {
    register(jobId) {
      const controller = new AbortController();
      byJob.set(jobId, controller);
      return controller;
    },
    release(jobId, controller) {
      if (byJob.get(jobId) === controller) byJob.delete(jobId);
    },
    abort(jobId, kind) {
      const controller = byJob.get(jobId);
      if (controller === undefined || controller.signal.aborted) return false;
      controller.abort(new AttemptAbort(kind));
      return true;
    },
    abortAll(kind) {
      for (const controller of byJob.values()) {
        if (!controller.signal.aborted) controller.abort(new AttemptAbort(kind));
      }
    },
    ids() {
      return [...byJob.keys()];
    },
    get size() {
      return byJob.size;
    },
  };
}
