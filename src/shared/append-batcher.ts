import { Cluster } from 'ioredis';
import type { RedisClient } from './redis.js';
import { scripts } from './scripts.js';

/**
 * Most jobs in one `append-many` call. It bounds how long the script runs (Redis serves no one else
 * meanwhile) and how large one command grows.
 */
export const maxAppendsPerCall = 64;

/** Runs one job's `append` (its four keys and its arguments) and resolves with the script's answer. */
export type AppendSender = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/** Each append its own `append` call: the store's sender when it does not batch, and on a Cluster. */
export const appendAlone = (redis: RedisClient): AppendSender => (keys, args) => scripts.append.run(redis, keys, args);

interface Queued {
  readonly keys: readonly string[];
  readonly args: readonly (string | number)[];
  readonly resolve: (reply: unknown) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Batches the appends of different jobs into one script call. With none of its calls in flight an
 * append goes out at once and alone, so an idle stream's delta waits for nothing. Appends made while
 * a call is in flight wait for the end of the event-loop turn, as ioredis's auto-pipelining would
 * make them wait. Then they leave as one `append-many` call per {@link maxAppendsPerCall} jobs: one
 * command, one script run and one reply instead of one each. That saves per-command work in the
 * worker and in Redis.
 *
 * Each job's answer is its own: a job whose write raises an error in the script is refused alone
 * (the others' writes ran). A text key of the wrong type fails a job's write before it logs or
 * publishes anything (`apply_batch` appends the text first), so retrying it repeats nothing. A call
 * Redis refuses as a whole (OOM, a lost connection) rejects every append in it, and each writer
 * retries its own write under its own write id (the replay guard makes a repeat harmless). A job has
 * at most one append in flight, since its writer waits for each, so batching never reorders one
 * job's writes.
 *
 * On a Cluster the jobs' keys live in different slots, so every append goes alone. The same holds on
 * a server with cluster mode on reached as one Redis (a one-shard managed "cluster"): the first
 * CROSSSLOT refusal turns batching off for good and sends that call's appends alone.
 */
export function createAppendBatcher(redis: RedisClient): AppendSender {
  if (redis instanceof Cluster) return appendAlone(redis);
  let inFlight = 0;
  let queued: Queued[] = [];
  let batching = true;

  const settled = () => {
    inFlight -= 1;
  };
  const sendAlone = (keys: readonly string[], args: readonly (string | number)[], now: boolean): Promise<unknown> => {
    inFlight += 1;
    return scripts.append.run(redis, keys, args, now).finally(settled);
  };
  // Sent now: the turn they waited for is over.
  const sendEachAlone = (group: readonly Queued[]) => {
    for (const q of group) sendAlone(q.keys, q.args, true).then(q.resolve, q.reject);
  };
  const sendMany = (group: readonly Queued[]) => {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const q of group) {
      for (const k of q.keys) keys.push(k);
      args.push(q.args.length);
      for (const a of q.args) args.push(a);
    }
    inFlight += 1;
    // At once: the turn is over, and auto-pipelining would hold it for one more.
    scripts.appendMany.run(redis, keys, args, true).then(
      (replies) => {
        settled();
        const answers = replies as unknown[];
        group.forEach((q, i) => {
          const answer = answers[i];
          if (typeof answer === 'string' && answer.startsWith('error ')) q.reject(new Error(answer.slice(6)));
          else q.resolve(answer);
        });
      },
      (err: unknown) => {
        settled();
        if (err instanceof Error && err.message.startsWith('CROSSSLOT')) {
          batching = false;
          sendEachAlone(group);
          return;
        }
        for (const q of group) q.reject(err);
      },
    );
  };
  const flush = () => {
    const all = queued;
    queued = [];
    for (let from = 0; from < all.length; from += maxAppendsPerCall) {
      const group = all.slice(from, from + maxAppendsPerCall);
      if (batching && group.length > 1) sendMany(group);
      else sendEachAlone(group);
    }
  };

  return (keys, args) => {
    if (!batching || (inFlight === 0 && queued.length === 0)) return sendAlone(keys, args, false);
    return new Promise((resolve, reject) => {
      if (queued.push({ keys, args, resolve, reject }) === 1) setImmediate(flush);
    });
  };
}
