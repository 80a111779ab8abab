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
});
