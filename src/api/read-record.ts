import { AppError } from '../shared/errors.js';
import type { JobStore } from '../shared/job-store.js';
import { toRecordView, type JobRecordView } from '../shared/job-record.js';
import type { Presence } from './presence.js';

/** A job's record as the API shows it (404 when it is unknown or expired), with its live viewer count. */
export function createRecordReader(store: JobStore, presence: Presence): (id: string) => Promise<JobRecordView> {
  return async (id) => {
    const [stored, viewers] = await Promise.all([store.read(id), presence.count(id)]);
    if (stored === undefined) throw new AppError('not_found', 'No such job, or its result has expired.');
    return toRecordView(stored, viewers);
  };
}
