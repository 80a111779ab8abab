import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobStore, type JobStore } from '../src/shared/job-store.js';
import { checkContiguous, readSse, viewerText, type SseEvent } from './support/sse.js';
import { startJob } from './support/store.js';
import { eventually, startSystem, type TestSystem } from './support/system.js';

// Events published back to back reach the API in one socket read and are fanned out as one batch;
// viewers at every cursor still get each event exactly once, in order.
describe('batched fan-out', () => {
  let sys: TestSystem;
  let store: JobStore;
  beforeAll(async () => {
    sys = await startSystem({ name: 'batched', workers: 0 });
    store = createJobStore(sys.redis, sys.config);
  });
  afterAll(async () => {
    await sys.close();
  });

  it('delivers bursts to live viewers at different cursors without gaps or repeats', async () => {
    const started = await startJob(store);
    const { id } = started;
    const burst = async (from: number, n: number) => {
      const pieces = Array.from({ length: n }, (_, i) => `<${from + i}>`);
      // One script call publishes n events back to back.
      await store.append(id, started.next(), {
        text: pieces.join(''),
        events: pieces.map((p) => ({ type: 'delta' as const, data: JSON.stringify({ text: p }) })),
        fields: {},
      });
      return pieces.join('');
    };
    let expected = await burst(0, 3);
    const seen: SseEvent[][] = [[], [], []];
    const views = [0, 3, 4].map((cursor, i) =>
      readSse(`${sys.url}/v1/jobs/${id}/events?last_event_id=${cursor}`, { onEvent: (e) => seen[i]?.push(e) }),
    );
    await eventually(async () => (seen.every((s) => s.length > 0) ? true : undefined), 10_000, 'viewers attached');
    for (let round = 0; round < 20; round += 1) expected += await burst(3 + round * 7, 7);
    await store.finish(id, { status: 'completed', write: started.next() });
    const [fromStart, fromThree, fromFour] = await Promise.all(views);
    checkContiguous(fromStart?.events ?? []);
    checkContiguous(fromThree?.events ?? [], 4);
    checkContiguous(fromFour?.events ?? [], 5);
    expect(viewerText(fromStart?.events ?? [])).toBe(expected);
    expect(fromThree?.events.at(-1)?.event).toBe('done');
    expect(fromFour?.events.at(-1)?.event).toBe('done');
  });
});
