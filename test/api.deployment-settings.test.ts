import { afterAll, describe, expect, it } from 'vitest';
import { startApiProcess, type NodeProcess } from './support/processes.js';
import { redisUrl, uniquePrefix } from './support/redis.js';

// API nodes on one Redis and KEY_PREFIX share jobs, so they must share API_KEYS and
// VIEWER_TOKEN_SECRET: a node that starts with other settings than a running one says so.
describe('nodes of one deployment with different settings', () => {
  const procs: NodeProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
  });
  const api = async (env: Record<string, string>) => {
    const p = await startApiProcess({ REDIS_URL: redisUrl(), ...env });
    procs.push(p);
    return p;
  };
  const warning = (p: NodeProcess) => p.waitForLog((l) => Array.isArray(l['differ']), 1).then(
    (l) => l,
    () => undefined,
  );

  it('warn at start, naming the variables that differ; nodes that agree say nothing', async () => {
    const prefix = uniquePrefix('deployment');
    const secret = 's'.repeat(40);
    const a = await api({ KEY_PREFIX: prefix, API_KEYS: 'k1,k2', VIEWER_TOKEN_SECRET: secret });
    const same = await api({ KEY_PREFIX: prefix, API_KEYS: 'k2,k1', VIEWER_TOKEN_SECRET: secret });
    const open = await api({ KEY_PREFIX: prefix });
    expect(await warning(a)).toBeUndefined();
    expect(await warning(same)).toBeUndefined();
    const line = await warning(open);
    expect(line?.['differ']).toEqual(['API_KEYS', 'VIEWER_TOKEN_SECRET']);
    expect(String(line?.['msg'])).toMatch(/every node of one deployment needs the same API_KEYS, VIEWER_TOKEN_SECRET and KEY_PREFIX/);
    // Another prefix is another deployment: nothing to compare.
    const other = await api({ KEY_PREFIX: uniquePrefix('deployment-other') });
    expect(await warning(other)).toBeUndefined();
  });
});
