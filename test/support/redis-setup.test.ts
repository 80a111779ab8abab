import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from './free-port.js';
import { redisUrl, uniquePrefix, withRedis } from './redis.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

/** PING through a fresh client that never retries: true on PONG, false when nothing answers. */
async function answersPing(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

describe('provided Redis', () => {
  it('answers PING at the injected URL', async () => {
    expect(redisUrl()).toMatch(/^rediss?:\/\//);
    await expect(withRedis((r) => r.ping())).resolves.toBe('PONG');
  });

  it('round-trips a key under a unique prefix', async () => {
    const prefix = uniquePrefix('setup round/trip');
    expect(prefix).toMatch(/^t_setup_round_trip_[0-9a-f]{12}$/);
    expect(uniquePrefix('setup')).not.toBe(uniquePrefix('setup'));

    const key = `${prefix}:value`;
    const value = `v-${Date.now()}`;
    const read = await withRedis(async (r) => {
      await r.set(key, value, 'PX', 60_000);
      const got = await r.get(key);
      await r.del(key);
      return got;
    });
    expect(read).toBe(value);
    await expect(withRedis((r) => r.exists(key))).resolves.toBe(0);
  });
});

describe('startRedisServer', () => {
  const started: RedisServerHandle[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
  });

  it('starts a private instance that answers PING on 127.0.0.1', async () => {
    const server = await startRedisServer();
    started.push(server);
    expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
    expect(server.pid).toBeGreaterThan(0);
    expect(await answersPing(server.url)).toBe(true);
  });

  it('kill() makes it unreachable and restart() brings it back on the same port', async () => {
    const server = await startRedisServer();
    started.push(server);
    const { port, pid } = server;

    await server.kill();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(await answersPing(server.url)).toBe(false);

    await server.restart();
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(pid);
    expect(await answersPing(`redis://127.0.0.1:${port}`)).toBe(true);
  });

  it('keeps data across kill() and restart() with appendonly', async () => {
    const server = await startRedisServer({ appendonly: true });
    started.push(server);
    const key = `${uniquePrefix('aof')}:k`;
    const client = new Redis(server.url, { lazyConnect: true });
    try {
      await client.connect();
      await client.set(key, 'survives');
    } finally {
      client.disconnect();
    }

    await server.kill();
    await server.restart();

    const again = new Redis(server.url, { lazyConnect: true });
    try {
      await again.connect();
      expect(await again.get(key)).toBe('survives');
    } finally {
      again.disconnect();
    }
  });

  it('listens on a given port, and stop() is idempotent', async () => {
    const port = await freePort();
    const server = await startRedisServer({ port });
    started.push(server);
    expect(server.port).toBe(port);
    expect(await answersPing(`redis://127.0.0.1:${port}`)).toBe(true);

    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    expect(await answersPing(server.url)).toBe(false);
  });
});
