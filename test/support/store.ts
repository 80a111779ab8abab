import { newJobId } from '../../src/shared/ids.js';
import type { JobStore, WriteId } from '../../src/shared/job-store.js';
import { conversationIdOf } from '../../src/shared/keys.js';
import { attemptWrites, type AttemptWrites } from '../../src/worker/store-retry.js';

/** A job created and started straight through the store, as a worker would (3 attempts allowed). */
export interface StartedJob {
  readonly id: string;
  readonly attempt: number;
  readonly fence: number;
  /** The attempt's write ids. */
  readonly writes: AttemptWrites;
  /** The next write id of the attempt. */
  next(): WriteId;
}

/** Creates a job record and starts its first attempt as worker `workerId`. */
export async function startJob(store: JobStore, workerId = 'w', id = newJobId()): Promise<StartedJob> {
  const conversationId = conversationIdOf(id);
  const history = [JSON.stringify({ role: 'user', content: 'hi' })];
  await store.create(
    { id, model: 'm', params: '{}', metadata: {}, maxDurationMs: 60_000, requestHash: 'h', conversationId, turn: 1, historyLen: 1, historyFrom: 0 },
    { id: conversationId, firstTurn: 1, history },
  );
  return startAttempt(store, id, workerId);
}

/** Starts the next attempt of an existing job. */
export async function startAttempt(store: JobStore, id: string, workerId = 'w'): Promise<StartedJob> {
  const started = await store.start(id, workerId, 3);
  if (started.kind !== 'started') throw new Error(`job ${id} not started: ${JSON.stringify(started)}`);
  const writes = attemptWrites(started.fence);
  return { id, attempt: started.attempt, fence: started.fence, writes, next: () => writes.next() };
}
