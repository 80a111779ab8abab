import { describe, expect, it } from 'vitest';
import { defaults, loadConfig } from '../src/shared/config.js';
import { AppError } from '../src/shared/errors.js';

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      redisUrl: 'redis://127.0.0.1:6379',
      workerConcurrency: 64,
      maxDurationMs: 600_000,
      jobAttempts: 3,
      resultTtlS: 86_400,
      keepaliveMs: 15_000,
      shutdownTimeoutMs: 30_000,
      apiKeys: [],
      anthropicApiKey: undefined,
      anthropicBaseUrl: undefined,
      defaultModel: defaults.defaultModel,
      production: false,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads every variable', () => {
    const c = loadConfig({
      PORT: '9000',
      API_KEYS: ' a, b ,,c ',
      WORKER_CONCURRENCY: '500',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:4010',
      NODE_ENV: 'production',
    });
    expect(c.port).toBe(9000);
    expect(c.apiKeys).toEqual(['a', 'b', 'c']);
    expect(c.workerConcurrency).toBe(500);
    expect(c.anthropicBaseUrl).toBe('http://127.0.0.1:4010');
    expect(c.production).toBe(true);
  });

  it('reports every bad variable at once', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'x', JOB_ATTEMPTS: '0', REDIS_URL: 'http://nope', KEY_PREFIX: '{bad}' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    const details = (err as AppError).details.map((d) => d.path);
    expect([...details].sort()).toEqual(['JOB_ATTEMPTS', 'KEY_PREFIX', 'PORT', 'REDIS_URL']);
  });

  it('reads REDIS_CLUSTER_NODES as host:port pairs or redis:// URLs with one set of credentials', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:7000, [::1]:7001' })).toMatchObject({
      redisClusterNodes: [{ host: 'a', port: 7000 }, { host: '::1', port: 7001 }],
      redisClusterAuth: { username: undefined, password: undefined, tls: false },
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'rediss://app:p%40ss@a:7000,b:7001' })).toMatchObject({
      redisClusterNodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }],
      redisClusterAuth: { username: 'app', password: 'p@ss', tls: true },
    });
    for (const bad of ['a', 'a:0', 'redis://x:1,rediss://x:2', 'redis://u:sekret1@a:1,redis://u:sekret2@b:2', ' , ']) {
      let err: unknown;
      try {
        loadConfig({ REDIS_CLUSTER_NODES: bad });
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(AppError);
      const detail = (err as AppError).details[0];
      expect(detail?.path).toBe('REDIS_CLUSTER_NODES');
      expect(detail?.message).not.toMatch(/sekret/);
    }
  });

  it('UPSTREAM_MAX_CONCURRENCY and UPSTREAM_RATE_LIMIT: a value, off, or unset', () => {
    expect(loadConfig({ UPSTREAM_MAX_CONCURRENCY: '20', UPSTREAM_RATE_LIMIT: '50/60000' })).toMatchObject({
      upstreamMaxConcurrency: 20,
      upstreamRateLimit: { max: 50, durationMs: 60_000 },
    });
    expect(loadConfig({ UPSTREAM_MAX_CONCURRENCY: 'off', UPSTREAM_RATE_LIMIT: 'off' })).toMatchObject({ upstreamMaxConcurrency: 'off', upstreamRateLimit: 'off' });
    expect(loadConfig({})).toMatchObject({ upstreamMaxConcurrency: undefined, upstreamRateLimit: undefined });
    expect(() => loadConfig({ UPSTREAM_MAX_CONCURRENCY: '0' })).toThrow(AppError);
    expect(() => loadConfig({ UPSTREAM_RATE_LIMIT: '50' })).toThrow(AppError);
  });
});
