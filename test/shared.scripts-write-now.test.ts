import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis, type RedisClient } from '../src/shared/redis.js';
import { scripts } from '../src/shared/scripts.js';
import { redisUrl, uniquePrefix } from './support/redis.js';

// The commands connection auto-pipelines (commands of one event-loop turn leave in one write), but a
// job script with no other in flight is written to the socket at once, not on the next setImmediate:
// an idle stream's delta does not wait for the turn to end. What is written is read off the socket's
// own byte count, synchronously after the call.
describe('job scripts on the auto-pipelined connection', () => {
  let redis: RedisClient;
  const prefix = uniquePrefix('write-now');
  const keys = (i: number) => [`${prefix}:{job:${i}}:rec`, `${prefix}:{job:${i}}:log`, `${prefix}:{job:${i}}:text`, `${prefix}:{job:${i}}:ch`];
  const args = ['1', '1', '', '0'];
  const written = () => ('stream' in redis ? ((redis as { stream?: { bytesWritten: number } }).stream?.bytesWritten ?? 0) : 0);
  beforeAll(async () => {
    redis = createRedis({ redisUrl: redisUrl(), keyPrefix: prefix, redisClusterNodes: undefined }, 'commands', pino({ level: 'silent' }));
    await scripts.append.load(redis);
  });
  afterAll(() => {
    redis.disconnect();
  });

  it('a script alone goes out in the same turn; scripts that come while it is in flight wait and go together', async () => {
    expect(redis.options.enableAutoPipelining).toBe(true);
    const before = written();
    const first = scripts.append.run(redis, keys(1), args);
    const afterFirst = written();
    expect(afterFirst).toBeGreaterThan(before);
    // While the first is in flight: auto-pipelined, so nothing more is written in this turn.
    const more = [2, 3, 4].map((i) => scripts.append.run(redis, keys(i), args));
    expect(written()).toBe(afterFirst);
    // No job records: each answers -1 (job gone), the batched ones as the first.
    expect(await first).toBe(-1);
    expect(await Promise.all(more)).toEqual([-1, -1, -1]);
    expect(written()).toBeGreaterThan(afterFirst);
    // Idle again: the next one is written at once.
    const again = written();
    const last = scripts.append.run(redis, keys(5), args);
    expect(written()).toBeGreaterThan(again);
    expect(await last).toBe(-1);
  });

  it('a script Redis lost (NOSCRIPT) is sent again with EVAL on the direct path too', async () => {
    await redis.call('SCRIPT', 'FLUSH');
    expect(await scripts.append.run(redis, keys(7), args)).toBe(-1);
    // The EVAL cached it again: the next run is one EVALSHA.
    expect(await redis.call('SCRIPT', 'EXISTS', scripts.append.sha)).toEqual([1]);
  });

  it('a connection without auto-pipelining writes every script at once, as before', async () => {
    const plain = createRedis({ redisUrl: redisUrl(), keyPrefix: prefix, redisClusterNodes: undefined }, 'queue', pino({ level: 'silent' }));
    try {
      await plain.ping();
      const socket = () => (plain as { stream?: { bytesWritten: number } }).stream?.bytesWritten ?? 0;
      const before = socket();
      const runs = [8, 9].map((i) => scripts.append.run(plain, keys(i), args));
      expect(socket()).toBeGreaterThan(before);
      expect(await Promise.all(runs)).toEqual([-1, -1]);
    } finally {
      plain.disconnect();
    }
  });
});
