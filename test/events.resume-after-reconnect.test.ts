import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, backendNames } from './support/redis.js';
import { checkContiguous, readSse, viewerText, type SseEvent } from './support/sse.js';
import { getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// A viewer that goes away after N events and comes back with its cursor gets exactly the rest.
describe.each(backendNames)('resuming an event stream, on %s', (on) => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'resume', env: { ...backend(on).env } });
  });
  afterAll(async () => {
    await sys.close();
  });

  const startJob = async (tokens: number, tps: number) => {
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ tokens, tps }) }],
    });
    return { id: String(json['id']), eventsUrl: `${sys.url}${String(json['events_url'])}` };
  };

  for (const via of ['Last-Event-ID header', 'last_event_id query'] as const) {
    it(`delivers exactly the events after N (${via})`, async () => {
      const { id, eventsUrl } = await startJob(40, 80);
      const head = await readSse(eventsUrl, { stopAfter: 7 });
      expect(head.endedByServer).toBe(false);
      const cursor = head.events.at(-1)?.id ?? '';
      expect(cursor).toBe('7');
      const tail =
        via === 'Last-Event-ID header'
          ? await readSse(eventsUrl, { headers: { 'last-event-id': cursor } })
          : await readSse(`${eventsUrl}?last_event_id=${cursor}`);
      checkContiguous(tail.events, 8);
      const all = [...head.events, ...tail.events];
      checkContiguous(all);
      expect(tail.events.at(-1)?.event).toBe('done');
      expect(viewerText(all)).toBe((await getRecord(sys.url, id))['text']);
    });
  }

  it('an EventSource that is dropped reconnects with Last-Event-ID and shows the text once', async () => {
    const { id, eventsUrl } = await startJob(60, 60);
    const seen: SseEvent[] = [];
    const lastEventIds: (string | null)[] = [];
    let connections = 0;
    let dropped = false;
    const done = new Promise<void>((resolve, reject) => {
      const es = new EventSource(eventsUrl, {
        fetch: async (input, init) => {
          connections += 1;
          lastEventIds.push(new Headers(init?.headers).get('last-event-id'));
          const res = await fetch(input, init);
          if (dropped || res.body === null) return res;
          // The first connection dies after a few chunks, as a flaky network would do it.
          dropped = true;
          let chunks = 0;
          const body = res.body.pipeThrough(
            new TransformStream<Uint8Array, Uint8Array>({
              transform(chunk, controller) {
                chunks += 1;
                controller.enqueue(chunk);
                if (chunks === 6) controller.error(new Error('network drop'));
              },
            }),
          );
          return new Response(body, { status: res.status, headers: res.headers });
        },
      });
      for (const type of ['status', 'block_start', 'delta', 'block_stop', 'reset', 'done']) {
        es.addEventListener(type, (e) => {
          seen.push({ id: e.lastEventId, event: type, data: e.data as string });
          if (type === 'done') {
            es.close();
            resolve();
          }
        });
      }
      setTimeout(() => {
        es.close();
        reject(new Error('no done within 30 s'));
      }, 30_000).unref();
    });
    await done;
    expect(connections).toBe(2);
    expect(lastEventIds[0]).toBeNull();
    expect(Number(lastEventIds[1])).toBeGreaterThan(0);
    checkContiguous(seen);
    expect(viewerText(seen)).toBe((await getRecord(sys.url, id))['text']);
  });

  it('rejects a cursor that is not a non-negative integer with a problem', async () => {
    const { eventsUrl } = await startJob(2, 100);
    const res = await fetch(`${eventsUrl}?last_event_id=abc`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = (await res.json()) as { errors: { path: string }[] };
    expect(body.errors[0]?.path).toBe('query:last_event_id');
  });
});
