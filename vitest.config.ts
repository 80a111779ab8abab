import { defineConfig } from 'vitest/config';

/**
 * Tests run against a real Redis found by the global setup (REDIS_URL, testcontainers, or a private
 * redis-server). Two files at a time: the CI machines have two cores.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    retry: 0,
    reporters: ['default'],
  },
});
