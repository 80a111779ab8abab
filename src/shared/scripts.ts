import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Cluster, Command } from 'ioredis';
import type { RedisClient } from './redis.js';

/** A Lua script run with EVALSHA, loaded again with EVAL when Redis lost it (restart, SCRIPT FLUSH). */
export interface Script {
  readonly name: string;
  /** SHA1 of the source Redis runs (tests use it to recognise the script on the wire). */
  readonly sha: string;
  /**
   * `now`: write it to the socket at once even while other scripts are in flight (a caller that has
   * already waited for the end of its turn, as the append batcher has; see {@link evalsha}).
   */
  run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[], now?: boolean): Promise<unknown>;
  /** Puts the script in Redis's script cache (SCRIPT LOAD), so its first run is one EVALSHA. */
  load(redis: RedisClient): Promise<void>;
}

const luaDir = new URL('./lua/', import.meta.url);
const prelude = readFileSync(new URL('prelude.lua', luaDir), 'utf8');

/** Scripts of ours sent on each client and not answered yet. */
const inFlight = new WeakMap<RedisClient, number>();

/**
 * EVALSHA, written to the socket at once when `alone` (no other script in flight on `redis`), else through
 * auto-pipelining. Auto-pipelining defers every command to `setImmediate`, so that commands made by
 * the I/O callbacks of one event-loop turn leave in one write: worth it when many jobs write at once,
 * but an idle stream's write then waits for the turn to end (0.1-0.2 ms of a delta's hop; see
 * bench/probes/worker-hop.ts). The first write of a quiet spell goes out now; writes that come while
 * it is in flight are batched as before. The order of one job's writes does not depend on this: each
 * waits for the previous one.
 */
function evalsha(redis: RedisClient, sha: string, keys: readonly string[], args: readonly (string | number)[], alone: boolean): Promise<unknown> {
  const all: (string | number)[] = [sha, keys.length];
  for (const k of keys) all.push(k);
  for (const a of args) all.push(a);
  if (!alone || !redis.options.enableAutoPipelining) return redis.call('evalsha', all);
  // The options ioredis's own command methods give a command (`utils/Commander`).
  const { keyPrefix } = redis.options;
  const options = { replyEncoding: 'utf8' as const, ...(keyPrefix === undefined ? {} : { keyPrefix }) };
  return redis.sendCommand(new Command('evalsha', all, options)) as Promise<unknown>;
}

/** A script from `lua/<name>.lua`; job scripts get the prelude (helpers over the four job keys) first. */
function createScript(name: string, withPrelude = true): Script {
  const body = readFileSync(new URL(`${name}.lua`, luaDir), 'utf8');
  const source = withPrelude ? `${prelude}\n${body}` : body;
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    name,
    sha,
    run(redis, keys, args, now = false) {
      // In flight from the call to the answer, the EVAL after a NOSCRIPT included. Promise callbacks
      // rather than an async function: this runs once per delta at low load.
      const others = inFlight.get(redis) ?? 0;
      inFlight.set(redis, others + 1);
      const done = () => inFlight.set(redis, (inFlight.get(redis) ?? 1) - 1);
      let sent: Promise<unknown>;
      try {
        sent = evalsha(redis, sha, keys, args, now || others === 0);
      } catch (err) {
        sent = Promise.reject(err);
      }
      return sent.then(
        (reply) => {
          done();
          return reply;
        },
        (err: unknown) => {
          if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) {
            done();
            throw err;
          }
          return redis.eval(source, keys.length, ...keys, ...args).finally(done);
        },
      );
    },
    async load(redis) {
      await redis.script('LOAD', source);
    },
  };
}

/**
 * The job scripts take the four keys of {@link JobKeys} in order record, log, text, channel;
 * `dueDeadlines` takes the deadline index only, `read` the record, the text and the log,
 * `readConversation` a conversation's hash, history and turns.
 */
export const scripts = {
  create: createScript('create'),
  continue: createScript('continue'),
  confirm: createScript('confirm'),
  start: createScript('start'),
  append: createScript('append'),
  appendMany: createScript('append-many'),
  requeue: createScript('requeue'),
  finish: createScript('finish'),
  cancel: createScript('cancel'),
  webhook: createScript('webhook'),
  dueDeadlines: createScript('due-deadlines', false),
  read: createScript('read', false),
  readConversation: createScript('read-conversation', false),
} as const;

/**
 * Loads every script into Redis's script cache (a process does this once at start). On a Cluster,
 * into every master the client knows once it is ready, and into each node it connects to later.
 * SCRIPT LOAD is not replicated: a replica promoted by a failover starts with an empty cache, and each
 * script's first run there costs one NOSCRIPT and an EVAL, which caches it (see {@link Script.run}).
 */
export async function loadScripts(redis: RedisClient): Promise<void> {
  const loadInto = (node: RedisClient) => Promise.all(Object.values(scripts).map((s) => s.load(node)));
  if (!(redis instanceof Cluster)) {
    await loadInto(redis);
    return;
  }
  if (redis.status !== 'ready') await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
  redis.on('+node', (node: RedisClient) => {
    loadInto(node).catch(() => {});
  });
  await Promise.all(redis.nodes('all').map(loadInto));
}
