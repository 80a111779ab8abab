import { LockManager, Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../shared/logger.js';
import { dropRedis, type RedisClient } from '../shared/redis.js';
import { createLockKeeper, type LockKeeper } from './lock-keeper.js';

/** How long the fetch loop waits after Redis refused a fetch: from 25 ms, doubling, at most 1 s. */
export const fetchBackoffMs = { first: 25, max: 1000 } as const;

/** Options of {@link QueueWorker}: BullMQ's, with a `lockDuration` always given, and a logger. */
export type QueueWorkerOptions = WorkerOptions & { readonly lockDuration: number; readonly logger: Logger };

/**
 * BullMQ's Worker with two defects of 6.7.0 worked around through its overridable methods (docs/operations.md
 * says what we rely on; `test/bullmq.relied-on-behaviour.test.ts` reproduces both on the plain Worker):
 *
 * - Lock renewal belongs to a {@link LockKeeper} that tracks runs by token: BullMQ's own lock manager,
 *   keyed by job id, loses the renewal of a job this process takes again while an older, fenced run
 *   of it is still ending, and the job then stalls until its attempts are used up. BullMQ's manager
 *   stays for what else it does (each run's AbortSignal), with its renewal timer off.
 * - A fetch that Redis refuses (OOM under `maxmemory`, READONLY, MISCONF…) waits before the loop tries
 *   again. BullMQ retries only connection errors with a delay; any other error makes its fetch loop
 *   call `moveToActive` again at once, burning a core and Redis for as long as the refusal lasts.
 */
export class QueueWorker<DataType = unknown> extends Worker<DataType> {
  private readonly keeper: LockKeeper;
  private readonly shutdown = new AbortController();
  private refusedFetches = 0;

  constructor(name: string, processor: Processor<DataType>, options: QueueWorkerOptions) {
    const { logger, ...bullOptions } = options;
    super(name, processor, bullOptions);
    this.keeper = createLockKeeper({
      extend: (jobIds, tokens, durationMs) => this.extendJobLocks(jobIds, tokens, durationMs),
      lockDurationMs: options.lockDuration,
      logger,
    });
  }

  /** Runs held (and renewed) by this worker now. */
  get heldLocks(): number {
    return this.keeper.size;
  }

  // Called from BullMQ's constructor, before this class's fields exist: only `opts` and `id` are used.
  protected override createLockManager(): void {
    const { lockDuration = 30_000, name } = this.opts;
    // BullMQ's declared context type differs from its Worker's in `trace`'s return type only.
    this.lockManager = new LockManager(this as unknown as ConstructorParameters<typeof LockManager>[0], {
      lockRenewTime: 0,
      lockDuration,
      workerId: this.id,
      ...(name === undefined ? {} : { workerName: name }),
    });
  }

  protected override async callProcessJob(job: Job<DataType>, token: string, signal?: AbortSignal): Promise<unknown> {
    const release = this.keeper.hold(job.id ?? '', token);
    try {
      return await super.callProcessJob(job, token, signal);
    } finally {
      release();
    }
  }

  protected override async moveToActive(token: string, name?: string): Promise<Job<DataType>> {
    try {
      const job = await super.moveToActive(token, name);
      this.refusedFetches = 0;
      return job;
    } catch (err) {
      const waitMs = Math.min(fetchBackoffMs.first * 2 ** this.refusedFetches, fetchBackoffMs.max);
      this.refusedFetches = Math.min(this.refusedFetches + 1, 16);
      // Woken by close(), so a refusal never holds up a shutdown.
      await sleep(waitMs, undefined, { signal: this.shutdown.signal }).catch(() => {});
      throw err;
    }
  }

  /**
   * Lets a close() that waits for Redis end without it: called when the caller has waited long
   * enough (the worker's hand-back limit) and has dropped its own connections. BullMQ's close
   * disconnects its blocking connection and waits for its `end`, which ioredis never emits for a
   * connection caught between reconnects (Redis down), so that close would wait forever, and the
   * stalled checker it stops last would run on: the blocking connection is dropped here too.
   */
  async abandon(): Promise<void> {
    const client = await this.backend.blockingClient;
    // BullMQ's proxy over the ioredis client it duplicated from ours.
    if (client !== undefined) dropRedis(client as unknown as RedisClient);
  }

  override async close(force = false): Promise<void> {
    this.shutdown.abort();
    try {
      // Runs still draining keep their locks renewed until BullMQ has let them finish.
      await super.close(force);
    } finally {
      this.keeper.close();
    }
  }
}
