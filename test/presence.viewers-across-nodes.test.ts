import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiServer } from '../src/api/create-api.js';
import { createLogger } from '../src/shared/logger.js';
import { startApiProcess, type NodeProcess } from './support/processes.js';
import { eventually, getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// record.viewers counts live viewers on every API node and drops when they leave, abruptly too,
// including when a whole node dies.
describe('presence across API nodes', () => {
  let sys: TestSystem;
  let apiB: ApiServer;
  let apiC: NodeProcess & { url: string };
  beforeAll(async () => {
    sys = await startSystem({ name: 'presence', env: { PRESENCE_TTL_MS: '1500' } });
    apiB = await startApi(sys.config, createLogger('silent', 'test'));
    apiC = await startApiProcess({
      REDIS_URL: sys.config.redisUrl,
      KEY_PREFIX: sys.config.keyPrefix,
      PRESENCE_TTL_MS: '1500',
    });
  });
  afterAll(async () => {
    await apiC.stop('SIGKILL');
    await apiB.close();
    await sys.close();
  });

  const viewersOf = async (id: string) => Number((await getRecord(sys.url, id))['viewers']);
  const waitViewers = (id: string, n: number) =>
    eventually(async () => ((await viewersOf(id)) === n ? n : undefined), 10_000, `${n} viewers`);
  /** An open SSE connection that the test can drop abruptly. */
  const watch = async (base: string, id: string) => {
    const controller = new AbortController();
    const res = await fetch(`${base}/v1/jobs/${id}/events`, { signal: controller.signal });
    expect(res.status).toBe(200);
    void res.body?.pipeTo(new WritableStream()).catch(() => {});
    return () => controller.abort();
  };

  it('counts viewers on every node and drops them as they leave or vanish', async () => {
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ tokens: 600, tps: 20 }) }],
    });
    const id = String(json['id']);
    expect(await viewersOf(id)).toBe(0);
    const onA = [await watch(sys.url, id), await watch(sys.url, id)];
    const onB = [await watch(apiB.url, id)];
    const onC = [await watch(apiC.url, id), await watch(apiC.url, id)];
    await waitViewers(id, 5);
    // Viewers that just drop their connection (no goodbye) stop counting.
    onA[0]?.();
    onB[0]?.();
    await waitViewers(id, 3);
    // A node that dies takes its viewers with it: its entry is not refreshed and expires.
    await apiC.stop('SIGKILL');
    await waitViewers(id, 1);
    onA[1]?.();
    await waitViewers(id, 0);
    void onC;
    await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
  });
});
