import type { JobStatus } from '../shared/wire.js';

/** The `genrelay` command's exit codes (listed in `--help` and docs/clients.md). */
export const exitCodes = {
  /** The job completed (or the command did what it was asked). */
  completed: 0,
  failed: 1,
  /** Bad arguments or options. */
  usage: 2,
  cancelled: 3,
  timed_out: 4,
  /** The server could not be reached, or answered that it cannot serve (5xx). */
  unreachable: 5,
  /** The API refused the request (an unknown job, a missing key, a bad request). */
  refused: 6,
  /** `wait --timeout` ran out with the job still queued or running. */
  still_running: 7,
  /** A second Ctrl+C: exited at once, leaving the job to run. */
  interrupted: 130,
} as const;

/** The exit code for a job that ended (or did not) with `status`. */
export function exitCodeFor(status: JobStatus): number {
  switch (status) {
    case 'completed':
      return exitCodes.completed;
    case 'failed':
      return exitCodes.failed;
    case 'cancelled':
      return exitCodes.cancelled;
    case 'timed_out':
      return exitCodes.timed_out;
    default:
      return exitCodes.still_running;
  }
}

/** The exit codes as `--help` lists them. */
export const exitCodesHelp = `Exit codes:
  0    completed (or done what was asked)
  1    the job failed
  2    usage error
  3    the job was cancelled
  4    the job timed out (max duration)
  5    the server could not be reached, or cannot serve (5xx)
  6    the API refused the request (unknown job, missing key, bad request)
  7    wait --timeout ran out, the job still running
  130  interrupted by a second Ctrl+C (the job goes on)`;
