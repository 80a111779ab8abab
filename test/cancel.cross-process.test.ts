import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, backendNames } from './support/redis.js';
import { startCluster, type Cluster, type NodeProcess } from './support/processes.js';
import { checkContiguous, readSse, viewerText, type SseEvent } from './support/sse.js';
import { eventually, getRecord, simPrompt, submitJob } from './support/system.js';

// Cancel sent to API node A while the job streams on a worker in another process: the upstream
// connection is closed, the job ends `cancelled`, and the partial text is what viewers saw.
describe.each(backendNames)('cancel across processes, on %s', (on) => {
  let cluster: Cluster;
  let apiA: NodeProcess & { url: string };
  let apiB: NodeProcess & { url: string };
  let workers: NodeProcess[];

  beforeAll(async () => {
    cluster = await startCluster('cancel', { ...backend(on).env });
    const started = await Promise.all([cluster.api(), cluster.api(), cluster.worker(), cluster.worker()]);
    [apiA, apiB] = [started[0], started[1]];
    workers = [started[2], started[3]];
  });
  afterAll(async () => {
    await cluster.stop();
  });

  const cancel = (baseUrl: string, id: string) => fetch(`${baseUrl}/v1/jobs/${id}/cancel`, { method: 'POST' });

  it('stops the upstream stream and keeps the partial text viewers saw', async () => {
    const { json } = await submitJob(apiB.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ tokens: 400, tps: 40, tag: 'cancel-live' }) }],
    });
    const id = String(json['id']);
    let sent = false;
    const seen: SseEvent[] = [];
    const cancelled = new Promise<Response>((resolve) => {
      void readSse(`${apiB.url}/v1/jobs/${id}/events`, {
        onEvent: (e) => {
          seen.push(e);
          if (!sent && seen.filter((x) => x.event === 'delta').length >= 5) {
            sent = true;
            resolve(cancel(apiA.url, id));
          }
        },
      });
    });
    const res = await cancelled;
    expect(res.status).toBe(202);
    const inFlight = (await res.json()) as Record<string, unknown>;
    expect(inFlight['cancel_requested_at']).not.toBeNull();

    await eventually(async () => (seen.at(-1)?.event === 'done' ? true : undefined), 10_000, 'done');
    checkContiguous(seen);
    const done = JSON.parse(seen.at(-1)?.data ?? '{}') as Record<string, unknown>;
    expect(done['status']).toBe('cancelled');
    const record = await getRecord(apiA.url, id);
    expect(record).toMatchObject({ status: 'cancelled', partial: true });
    expect(record['error']).toMatchObject({ type: 'cancelled' });
    expect(String(record['text']).length).toBeGreaterThan(0);
    expect(record['text']).toBe(viewerText(seen));
    // No message_delta came: output_tokens counts the deltas that went out (one word each here).
    const words = String(record['text']).trim().split(/\s+/).length;
    expect((record['usage'] as { output_tokens: number }).output_tokens).toBe(words);
    // The worker ran in one of the worker processes, not in API A.
    expect(workers.map((w) => w.pid)).toContain(Number(String(record['worker']).split(':')[1]));
    const req = await eventually(async () => {
      const r = cluster.sim.requests.find((x) => x.tag === 'cancel-live');
      return r?.outcome === 'client_closed' ? r : undefined;
    }, 5000, 'upstream connection closed');
    expect(req.deltasSent).toBeLessThan(400);
    // Idempotent: a second cancel of the now-terminal job is a 200 with the same record.
    const again = await cancel(apiB.url, id);
    expect(again.status).toBe(200);
    expect(((await again.json()) as Record<string, unknown>)['status']).toBe('cancelled');
  });

  it('a finished job: cancel is a 200 and changes nothing', async () => {
    const { json } = await submitJob(apiA.url, { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ tokens: 3 }) }] });
    const id = String(json['id']);
    await readSse(`${apiA.url}/v1/jobs/${id}/events`);
    const before = await getRecord(apiA.url, id);
    const res = await cancel(apiB.url, id);
    expect(res.status).toBe(200);
    const after = (await res.json()) as Record<string, unknown>;
    expect(after['status']).toBe('completed');
    expect(after['cancel_requested_at']).toBeNull();
    expect(after).toEqual(before);
  });

  it('cancel twice while streaming: both 202 or the second 200, one done', async () => {
    const { json } = await submitJob(apiA.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ tokens: 400, tps: 40 }) }],
    });
    const id = String(json['id']);
    await eventually(async () => ((await getRecord(apiA.url, id))['status'] === 'running' ? true : undefined));
    const first = await cancel(apiA.url, id);
    const second = await cancel(apiB.url, id);
    expect(first.status).toBe(202);
    expect([200, 202]).toContain(second.status);
    const view = await readSse(`${apiB.url}/v1/jobs/${id}/events`);
    expect(view.events.filter((e) => e.event === 'done')).toHaveLength(1);
    expect((await getRecord(apiA.url, id))['status']).toBe('cancelled');
  });
});
