import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminal, type TerminalStatus } from '../src/shared/events.js';
import { createJobStore, type JobStore } from '../src/shared/job-store.js';
import { readSse } from './support/sse.js';
import { startAttempt, startJob } from './support/store.js';
import { getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// Completion, failure, cancel and timeout race; one compare-and-set decides, once, and nothing is
// appended after it.
describe('one ending', () => {
  let sys: TestSystem;
  let store: JobStore;
  beforeAll(async () => {
    sys = await startSystem({ name: 'one-ending', env: { WORKER_CONCURRENCY: '40' } });
    store = createJobStore(sys.redis, sys.config);
  });
  afterAll(async () => {
    await sys.close();
  });

  it('cancel racing completion, many trials: one terminal state, one done, always last', async () => {
    const trials = 40;
    const outcomes = await Promise.all(
      Array.from({ length: trials }, async (_, i) => {
        const { json } = await submitJob(sys.url, {
          max_tokens: 50,
          // The first token waits 400 ms, so the viewer below is connected before the stream starts (a
          // job that is done before its viewer arrives would replay at once and never race).
          messages: [{ role: 'user', content: simPrompt({ tokens: 6, tps: 50, ttft_ms: 400, chunk: 1, text: 'abcdef' }, `race ${i}`) }],
        });
        const id = String(json['id']);
        // Cancel once the viewer has k of the 6 characters (deltas may be coalesced): from mid-stream
        // to racing the end.
        const k = (i % 6) + 1;
        let chars = 0;
        let cancel: Promise<Response> | undefined;
        const view = await readSse(`${sys.url}/v1/jobs/${id}/events`, {
          onEvent: (e) => {
            if (e.event === 'delta') chars += (JSON.parse(e.data) as { text: string }).text.length;
            if (cancel === undefined && chars >= k) {
              cancel = fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
            }
          },
        });
        expect([200, 202]).toContain((await cancel)?.status);
        const dones = view.events.filter((e) => e.event === 'done');
        expect(dones).toHaveLength(1);
        expect(view.events.at(-1)?.event).toBe('done');
        const record = await getRecord(sys.url, id);
        expect(JSON.parse(dones[0]?.data ?? '{}')['status']).toBe(record['status']);
        // Nothing was appended after done: the log ends with it.
        const tail = await store.readEvents(id, Number(view.events.at(-1)?.id), 10);
        expect(tail).toEqual([]);
        return String(record['status']);
      }),
    );
    expect(outcomes.every((s) => s === 'completed' || s === 'cancelled')).toBe(true);
    // The trials really raced: some cancels won, some completions did (about half each here).
    expect(new Set(outcomes).size).toBe(2);
  });

  it('concurrent finishes of every kind from many clients: exactly one wins', async () => {
    for (let trial = 0; trial < 20; trial += 1) {
      const started = await startJob(store);
      const { id } = started;
      const statuses: TerminalStatus[] = ['completed', 'failed', 'cancelled', 'timed_out'];
      const results = await Promise.all(
        statuses.flatMap((status) => [
          store.finish(id, { status, write: started.next() }),
          store.finish(id, { status }),
        ]),
      );
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r === 'ended')).toHaveLength(7);
      const append = await store.append(id, started.next(), {
        text: 'late',
        events: [{ type: 'delta', data: '{"text":"late"}' }],
        fields: {},
      });
      expect(append).toBe('ended');
      const events = await store.readEvents(id, 0, 100);
      expect(events.filter((e) => e.type === 'done')).toHaveLength(1);
      expect(events.at(-1)?.type).toBe('done');
      expect(isTerminal((await store.read(id))?.hash['status'] ?? '')).toBe(true);
    }
  });

  it('a stale attempt cannot finish the job once a newer attempt started', async () => {
    const first = await startJob(store, 'w1');
    const { id } = first;
    const second = await startAttempt(store, id, 'w2');
    expect(await store.finish(id, { status: 'completed', write: first.next() })).toBe('fenced');
    expect(await store.requeue(id, first.next(), 'stale')).toBe('fenced');
    expect((await store.read(id))?.hash['status']).toBe('running');
    expect(await store.finish(id, { status: 'completed', write: second.next() })).toBe('ok');
  });
});
