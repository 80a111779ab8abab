import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, backendNames } from './support/redis.js';
import { checkContiguous, readSse, viewerText, type SseRead } from './support/sse.js';
import { eventually, getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// A viewer from the start, one that joins mid-stream and one that comes after `done` see the same
// complete text: the record's text and exactly what the upstream sent.
describe.each(backendNames)('three viewers of one job, on %s', (on) => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'three-viewers', env: { ...backend(on).env } });
  });
  afterAll(async () => {
    await sys.close();
  });

  it('receive identical, complete text equal to the record and to the upstream', async () => {
    const upstreamText = Array.from({ length: 60 }, (_, i) => ` word${i}`).join('');
    const { status, json } = await submitJob(sys.url, {
      max_tokens: 500,
      messages: [{ role: 'user', content: simPrompt({ text: upstreamText, tps: 60, tag: 'three' }) }],
    });
    expect(status).toBe(202);
    const id = String(json['id']);
    const eventsUrl = `${sys.url}${String(json['events_url'])}`;

    const first = readSse(eventsUrl);
    // Join once some deltas have gone out, while the job still streams.
    let joined: Promise<SseRead> | undefined;
    await eventually(async () => {
      const rec = await getRecord(sys.url, id);
      return String(rec['text']).length > 40 ? true : undefined;
    }, 20_000, 'mid-stream text');
    joined = readSse(eventsUrl);
    const a = await first;
    const b = await joined;
    expect((await getRecord(sys.url, id))['status']).toBe('completed');
    const c = await readSse(eventsUrl);

    const record = await getRecord(sys.url, id);
    for (const view of [a, b, c]) {
      expect(view.status).toBe(200);
      expect(view.endedByServer).toBe(true);
      expect(view.retry).toBe(2000);
      checkContiguous(view.events);
      expect(view.events.at(-1)?.event).toBe('done');
      expect(view.events.filter((e) => e.event === 'done')).toHaveLength(1);
      expect(viewerText(view.events)).toBe(upstreamText);
    }
    expect(b.events).toEqual(a.events);
    expect(c.events).toEqual(a.events);
    expect(record['text']).toBe(upstreamText);
    expect(record['partial']).toBe(false);
    const done = JSON.parse(a.events.at(-1)?.data ?? '{}') as Record<string, unknown>;
    expect(done).toMatchObject({ status: 'completed', stop_reason: 'end_turn', truncated: false, error: null });
    expect(done['usage']).toEqual(record['usage']);
    const sim = sys.sim.requests.filter((r) => r.tag === 'three');
    expect(sim).toHaveLength(1);
    expect(sim[0]?.outcome).toBe('completed');
  });

  it('answers 204 to a viewer that already has done, so EventSource stops reconnecting', async () => {
    const { json } = await submitJob(sys.url, {
      max_tokens: 50,
      messages: [{ role: 'user', content: simPrompt({ tokens: 3 }) }],
    });
    const eventsUrl = `${sys.url}${String(json['events_url'])}`;
    const all = await readSse(eventsUrl);
    const last = all.events.at(-1);
    expect(last?.event).toBe('done');
    const again = await readSse(eventsUrl, { headers: { 'last-event-id': String(last?.id) } });
    expect(again.status).toBe(204);
    expect(again.events).toEqual([]);
  });
});
