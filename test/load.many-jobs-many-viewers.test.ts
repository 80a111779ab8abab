import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type NodeProcess } from './support/processes.js';
import { readSse, viewerText, type SseEvent } from './support/sse.js';
import { jobEnded, simPrompt, submitJob } from './support/system.js';

/**
 * What is wrong with one viewer's events against the text the upstream sent: ids missing below the
 * highest seen, ids seen twice, ids lower than the one before, and the text (after the last `reset`)
 * differing from the upstream's (counted once, as lost when shorter, as duplicated when longer).
 */
function defects(events: readonly SseEvent[], upstream: string) {
  const ids = events.map((e) => Number(e.id));
  const distinct = new Set(ids);
  const highest = Math.max(0, ...ids);
  const text = viewerText(events);
  const textDiffers = text === upstream ? 0 : 1;
  return {
    lost: highest - distinct.size + (textDiffers && text.length <= upstream.length ? 1 : 0),
    duplicated: ids.length - distinct.size + (textDiffers && text.length > upstream.length ? 1 : 0),
    reordered: ids.filter((id, i) => i > 0 && id < (ids[i - 1] ?? 0)).length,
    ended: events.at(-1)?.event === 'done' && events.filter((e) => e.event === 'done').length === 1,
  };
}

// Three hundred jobs, three viewers each, on two API processes and two worker processes: every viewer,
// whenever it arrived (before the first token, mid-stream, after the end), gets exactly the text the
// upstream sent, each event once and in order.
describe('a load of jobs and viewers across processes', () => {
  let cluster: Cluster;
  let apis: (NodeProcess & { url: string })[];
  beforeAll(async () => {
    cluster = await startCluster('load');
    const started = await Promise.all([cluster.api(), cluster.api(), cluster.worker(), cluster.worker()]);
    apis = started.slice(0, 2) as (NodeProcess & { url: string })[];
  });
  afterAll(async () => {
    await cluster.stop();
  });

  it('300 jobs × 3 viewers: 0 lost, 0 duplicated, 0 reordered', async () => {
    const jobs = 300;
    const viewersPerJob = 3;
    const text = (j: number) => Array.from({ length: 30 }, (_, i) => `${i === 0 ? '' : ' '}j${j}.${i}`).join('');
    const api = (n: number) => apis[n % apis.length]?.url ?? '';
    const results = await Promise.all(
      Array.from({ length: jobs }, async (_, j) => {
        const { status, json } = await submitJob(api(j), {
          max_tokens: 100,
          messages: [{ role: 'user', content: simPrompt({ text: text(j), tps: 50, tag: `load-${j}` }) }],
        });
        expect(status).toBe(202);
        const id = String(json['id']);
        const views = await Promise.all(
          Array.from({ length: viewersPerJob }, async (_, v) => {
            // Arrive at 0, ~300 and ~900 ms: before, during and (mostly) after the 0.6 s stream.
            await new Promise((r) => setTimeout(r, v * 300 + v * v * 150));
            return readSse(`${api(j + v + 1)}/v1/jobs/${id}/events`);
          }),
        );
        return { j, id, views };
      }),
    );
    const totals = { viewers: 0, lost: 0, duplicated: 0, reordered: 0, unended: 0 };
    for (const { j, id, views } of results) {
      const record = await jobEnded(api(0), id);
      const upstream = cluster.sim.requests.filter((r) => r.tag === `load-${j}`).at(-1)?.textSent ?? '';
      expect(upstream).toBe(text(j));
      expect(record).toMatchObject({ status: 'completed', text: upstream });
      for (const view of views) {
        const d = defects(view.events, upstream);
        totals.viewers += 1;
        totals.lost += d.lost;
        totals.duplicated += d.duplicated;
        totals.reordered += d.reordered;
        totals.unended += d.ended ? 0 : 1;
      }
    }
    expect(totals).toEqual({ viewers: jobs * viewersPerJob, lost: 0, duplicated: 0, reordered: 0, unended: 0 });
  }, 120_000);
});
