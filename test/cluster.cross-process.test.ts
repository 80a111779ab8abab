import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, backendNames } from './support/redis.js';
import { startCluster, type Cluster, type NodeProcess } from './support/processes.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { eventually, getRecord, simPrompt, submitJob } from './support/system.js';

// Two API processes and two worker processes, each its own OS process, sharing only Redis: a job
// submitted on API A is watched live through API B.
describe.each(backendNames)('separate API and worker processes, on %s', (on) => {
  let cluster: Cluster;
  let apiA: NodeProcess & { url: string };
  let apiB: NodeProcess & { url: string };

  beforeAll(async () => {
    cluster = await startCluster('cluster', { WORKER_CONCURRENCY: '4', ...backend(on).env });
    [apiA, apiB] = await Promise.all([
      cluster.api(),
      cluster.api(),
      cluster.worker({ WORKER_METRICS_PORT: '0' }),
      cluster.worker({ WORKER_METRICS_PORT: '0' }),
    ]);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('streams a job submitted on A live through B', async () => {
    const text = Array.from({ length: 50 }, (_, i) => ` t${i}`).join('');
    const { status, json } = await submitJob(apiA.url, {
      max_tokens: 500,
      messages: [{ role: 'user', content: simPrompt({ text, tps: 50, tag: 'cross' }) }],
    });
    expect(status).toBe(202);
    const id = String(json['id']);
    let duringStream: Promise<Record<string, unknown>> | undefined;
    const viewB = await readSse(`${apiB.url}/v1/jobs/${id}/events`, {
      onEvent: (e) => {
        if (e.event === 'delta') duringStream ??= getRecord(apiA.url, id);
      },
    });
    checkContiguous(viewB.events);
    expect(viewerText(viewB.events)).toBe(text);
    // Live, not replayed at the end: when B relayed the first delta, the job was still running.
    const snapshot = await duringStream;
    expect(snapshot?.['status']).toBe('running');
    expect(String(snapshot?.['text']).length).toBeLessThan(text.length);
    // `viewers` is live: B's count drops once it notices the stream closed. Compare A and B after that.
    const record = await eventually(async () => {
      const r = await getRecord(apiB.url, id);
      return r['viewers'] === 0 ? r : undefined;
    }, 20_000, "B's viewer count to drop to 0");
    expect(record['status']).toBe('completed');
    expect(record['text']).toBe(text);
    expect(await getRecord(apiA.url, id)).toEqual(record);
    expect(cluster.sim.requests.filter((r) => r.tag === 'cross')).toHaveLength(1);
  });

  it('spreads concurrent jobs over both worker processes', async () => {
    const ids = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const { json } = await submitJob(i % 2 === 0 ? apiA.url : apiB.url, {
          max_tokens: 100,
          messages: [{ role: 'user', content: simPrompt({ tokens: 20, tps: 40 }, `job ${i}`) }],
        });
        return String(json['id']);
      }),
    );
    const workers = await eventually(async () => {
      const recs = await Promise.all(ids.map((id) => getRecord(apiA.url, id)));
      if (!recs.every((r) => r['status'] === 'completed')) return undefined;
      return recs;
    });
    expect(workers).toHaveLength(8);
    expect(new Set(workers.map((r) => r['worker'])).size).toBe(2);
    // Each standalone worker reports its own attempts on WORKER_METRICS_PORT.
    let completed = 0;
    for (const line of await cluster.logs('worker metrics listening')) {
      const text = await (await fetch(String(line['url']))).text();
      completed += Number(/^genrelay_attempts_total\{outcome="completed"\} (\d+)$/m.exec(text)?.[1] ?? 0);
    }
    expect(completed).toBe(9);
  });
});
