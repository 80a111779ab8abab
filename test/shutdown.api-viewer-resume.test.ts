import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type NodeProcess } from './support/processes.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { eventually, getRecord, simPrompt, submitJob } from './support/system.js';

// An API node that is shut down ends its SSE responses instead of cutting them, and the viewer
// resumes on another node from its Last-Event-ID with nothing lost and nothing repeated.
describe('API shutdown with a viewer attached', () => {
  let cluster: Cluster;
  let apiA: NodeProcess & { url: string };
  let apiB: NodeProcess & { url: string };

  beforeAll(async () => {
    cluster = await startCluster('api-shutdown');
    [apiA, apiB] = await Promise.all([cluster.api(), cluster.api(), cluster.worker()]);
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('a viewer cut off by SIGTERM on A resumes on B with exactly the rest', async () => {
    // About 3 s of streaming, one delta per word.
    const text = Array.from({ length: 60 }, (_, i) => ` v${i}`).join('');
    const { status, json } = await submitJob(apiB.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ text, tps: 20, tag: 'api-shutdown' }) }],
    });
    expect(status).toBe(202);
    const id = String(json['id']);

    let exitA: Promise<number | null> | undefined;
    let deltas = 0;
    const head = await readSse(`${apiA.url}/v1/jobs/${id}/events`, {
      onEvent: (e) => {
        if (e.event === 'delta') deltas += 1;
        // Mid-stream: a few words in, dozens to go.
        if (deltas === 5) exitA ??= apiA.stop('SIGTERM', 15_000);
      },
    });
    expect(exitA).toBeDefined();
    expect(head.endedByServer).toBe(true);
    expect(head.events.map((e) => e.event)).not.toContain('done');
    expect(await exitA).toBe(0);
    checkContiguous(head.events);
    const cursor = head.events.at(-1)?.id ?? '';
    expect(Number(cursor)).toBeGreaterThan(0);
    // The job went on without A.
    expect((await getRecord(apiB.url, id))['status']).toBe('running');

    const tail = await readSse(`${apiB.url}/v1/jobs/${id}/events`, { headers: { 'last-event-id': cursor } });
    expect(tail.endedByServer).toBe(true);
    checkContiguous(tail.events, Number(cursor) + 1);
    const all = [...head.events, ...tail.events];
    checkContiguous(all);
    expect(all.filter((e) => e.event === 'done')).toHaveLength(1);
    expect(all.at(-1)?.event).toBe('done');
    expect(tail.events.some((e) => e.event === 'delta')).toBe(true);

    const record = await eventually(async () => {
      const r = await getRecord(apiB.url, id);
      return r['status'] === 'completed' ? r : undefined;
    }, 10_000, 'job completed');
    expect(record['text']).toBe(text);
    expect(viewerText(all)).toBe(record['text']);
    expect(cluster.sim.requests.filter((r) => r.tag === 'api-shutdown')).toHaveLength(1);
  });
});
