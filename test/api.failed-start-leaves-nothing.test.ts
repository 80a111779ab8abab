import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startApi } from '../src/api/create-api.js';
import { AppError } from '../src/shared/errors.js';
import { loadConfig } from '../src/shared/config.js';
import { createLogger } from '../src/shared/logger.js';
import { Redis } from 'ioredis';
import { redisUrl, uniquePrefix, withRedis } from './support/redis.js';
import { startRedisServer } from './support/redis-server.js';
import { eventually } from './support/system.js';

/** The names of this deployment's connections Redis sees now (`genrelay:<prefix>:<role>`). */
const connectionsOf = (prefix: string) =>
  withRedis(async (r) => {
    const list = String(await r.client('LIST'));
    return list.split('\n').map((line) => /name=(\S*)/.exec(line)?.[1] ?? '').filter((name) => name.startsWith(`genrelay:${prefix}:`));
  });

// An API whose start-up fails before it listens (its port is taken; Redis refuses its start-up
// writes) leaves nothing open: no Redis connection of its deployment remains.
describe('a failed API start', () => {
  let blocker: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => blocker?.close(resolve) ?? resolve(undefined));
    blocker = undefined;
  });

  it('on a taken port rejects with port_unavailable and closes its Redis connections', async () => {
    const b = createServer();
    blocker = b;
    await new Promise<void>((resolve) => b.listen(0, '127.0.0.1', resolve));
    const port = (b.address() as AddressInfo).port;
    const prefix = uniquePrefix('failed-start');
    const config = loadConfig({ REDIS_URL: redisUrl(), PORT: String(port), HOST: '127.0.0.1', KEY_PREFIX: prefix });
    const logger = createLogger('silent', 'test');

    const failed = await startApi(config, logger).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(AppError);
    expect((failed as AppError).code).toBe('port_unavailable');
    // The connections were there while it started (the check can see them) and are gone now.
    expect(await connectionsOf(prefix)).toEqual([]);
  });

  it('refused by Redis (OOM under maxmemory) rejects and closes its Redis connections', async () => {
    const server = await startRedisServer();
    try {
      const prefix = uniquePrefix('failed-start-oom');
      const config = loadConfig({ REDIS_URL: server.url, PORT: '0', HOST: '127.0.0.1', KEY_PREFIX: prefix });
      const admin = new Redis(server.url);
      try {
        await admin.config('SET', 'maxmemory', '1');
        const failed = await startApi(config, createLogger('silent', 'test')).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(String(failed)).toMatch(/OOM/);
        // Dropped, not quit: Redis sees each connection go once it reads the close.
        await eventually(async () => {
          const list = String(await admin.client('LIST'));
          return list.includes(`name=genrelay:${prefix}:`) ? undefined : true;
        }, 5000, 'the connections of the failed start gone');
      } finally {
        await admin.quit();
      }
    } finally {
      await server.stop();
    }
  });
});
