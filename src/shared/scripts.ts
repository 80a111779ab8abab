import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/** A Lua script run with EVALSHA, loaded again with EVAL when Redis lost it (restart, SCRIPT FLUSH). */
export interface Script {
  readonly name: string;
  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
}

const luaDir = new URL('./lua/', import.meta.url);
const prelude = readFileSync(new URL('prelude.lua', luaDir), 'utf8');

function createScript(name: string): Script {
  const source = `${prelude}\n${readFileSync(new URL(`${name}.lua`, luaDir), 'utf8')}`;
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    name,
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
        return await redis.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}

/** The job scripts; each takes the four keys of {@link JobKeys} in order record, log, text, channel. */
export const scripts = {
  create: createScript('create'),
  start: createScript('start'),
  append: createScript('append'),
  requeue: createScript('requeue'),
  finish: createScript('finish'),
  cancel: createScript('cancel'),
} as const;
