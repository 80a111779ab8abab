import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimBehaviour, SimRequestRecord } from '../src/simulator/index.js';
import { checkContiguous, readSse, viewerText, type SseEvent } from './support/sse.js';
import { eventually, getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// How upstream failures end a job or restart it (API.md §3): which faults are retried, what viewers
// see across attempts (`status`, `reset`, `delta`, `done`) and what the record keeps.

/** Ten one-word deltas; the simulator sends the same text on every attempt of one request. */
const TEN = ' alpha bravo charlie delta echo foxtrot golf hotel india juliet';
/** The first `n` word-deltas of `text`, as the simulator cuts them. */
const firstWords = (text: string, n: number): string => (text.match(/\s*\S+/gu) ?? []).slice(0, n).join('');

interface Finished {
  readonly id: string;
  readonly events: SseEvent[];
  readonly record: Record<string, unknown>;
  readonly done: Record<string, unknown>;
  /** The simulator's log of this job's upstream requests, oldest first. */
  readonly requests: SimRequestRecord[];
}

/** A compact view of the lifecycle events: `queued:0`, `running:1`, `reset:2`, `done:failed`. */
function lifecycle(events: readonly SseEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    const data = JSON.parse(e.data) as Record<string, unknown>;
    if (e.event === 'status') out.push(`${String(data['status'])}:${String(data['attempt'])}`);
    else if (e.event === 'reset') out.push(`reset:${String(data['attempt'])}`);
    else if (e.event === 'done') out.push(`done:${String(data['status'])}`);
    else if (e.event === 'delta' && out.at(-1) !== 'delta') out.push('delta');
  }
  return out;
}

/** Submits a job with upstream `behaviour`, follows its event stream to `done`, reads the record. */
async function runJob(
  sys: TestSystem,
  behaviour: Partial<SimBehaviour> & { tag: string },
  maxTokens = 100,
): Promise<Finished> {
  const { status, json } = await submitJob(sys.url, {
    max_tokens: maxTokens,
    messages: [{ role: 'user', content: simPrompt(behaviour) }],
  });
  expect(status).toBe(202);
  const id = String(json['id']);
  const view = await readSse(`${sys.url}${String(json['events_url'])}`);
  expect(view.status).toBe(200);
  expect(view.endedByServer).toBe(true);
  const { events } = view;
  checkContiguous(events);
  expect(events.filter((e) => e.event === 'done')).toHaveLength(1);
  expect(events.at(-1)?.event).toBe('done');
  const record = await getRecord(sys.url, id);
  // Whatever way the job ended, the viewer's text is the record's text (API.md §2).
  expect(viewerText(events)).toBe(record['text']);
  const done = JSON.parse(events.at(-1)?.data ?? '{}') as Record<string, unknown>;
  expect(done['status']).toBe(record['status']);
  return { id, events, record, done, requests: sys.sim.requests.filter((r) => r.tag === behaviour.tag) };
}

describe('retries of upstream failures', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({
      name: 'retries',
      // The default idle timeout (30 s): a busy CI machine must not turn a slow tick into a stall.
      env: { JOB_ATTEMPTS: '3' },
      simDefaults: { ttft_ms: 5, tps: 1000 },
    });
  });
  afterAll(async () => {
    await sys.close();
  });

  it('fails at once on an upstream 400, with the upstream error, after one request', async () => {
    const job = await runJob(sys, { fault: 'http_400', tag: 'http-400' });
    expect(job.record).toMatchObject({ status: 'failed', attempt: 1, partial: true, text: '' });
    expect(job.record['error']).toMatchObject({ type: 'invalid_request_error' });
    expect(job.done).toMatchObject({ status: 'failed', truncated: false });
    expect(job.done['error']).toEqual(job.record['error']);
    expect(lifecycle(job.events)).toEqual(['queued:0', 'running:1', 'done:failed']);
    expect(job.requests).toHaveLength(1);
    expect(job.requests[0]).toMatchObject({ status: 400, fault: 'http_400' });
  });

  it('retries a 529 and completes on attempt 2 without a reset, since nothing was shown', async () => {
    const job = await runJob(sys, { text: TEN, fault: 'http_529', fault_times: 1, tag: 'http-529' });
    expect(job.record).toMatchObject({ status: 'completed', attempt: 2, partial: false, text: TEN, error: null });
    expect(job.done).toMatchObject({ status: 'completed', stop_reason: 'end_turn', error: null, truncated: false });
    expect(lifecycle(job.events)).toEqual(['queued:0', 'running:1', 'queued:1', 'running:2', 'delta', 'done:completed']);
    expect(job.requests.map((r) => [r.n, r.status, r.fault, r.outcome])).toEqual([
      [1, 529, 'http_529', 'fault'],
      [2, 200, null, 'completed'],
    ]);
  });

  it('after a mid-stream overloaded_error, resets the viewers and keeps only the second attempt', async () => {
    const job = await runJob(sys, {
      text: TEN, fault: 'error_event', error_type: 'overloaded_error', fault_after: 3, fault_times: 1, tag: 'mid-overloaded',
    });
    expect(job.record).toMatchObject({ status: 'completed', attempt: 2, partial: false, error: null });
    // Only the second attempt's text: the first attempt's three words were discarded, not prepended.
    expect(job.record['text']).toBe(TEN);
    expect(job.done).toMatchObject({ status: 'completed', stop_reason: 'end_turn', error: null });
    expect(lifecycle(job.events)).toEqual([
      'queued:0', 'running:1', 'delta', 'queued:1', 'reset:2', 'running:2', 'delta', 'done:completed',
    ]);
    const resetAt = job.events.findIndex((e) => e.event === 'reset');
    const reset = JSON.parse(job.events[resetAt]?.data ?? '{}') as { attempt: number; reason: string };
    expect(reset.attempt).toBe(2);
    expect(reset.reason).toContain('overloaded_error');
    // The log keeps what viewers were shown before the reset: the first attempt's partial output.
    expect(viewerText(job.events.slice(0, resetAt))).toBe(firstWords(TEN, 3));
    expect(job.requests.map((r) => [r.n, r.fault, r.deltasSent, r.outcome])).toEqual([
      [1, 'error_event', 3, 'fault'],
      [2, null, 10, 'completed'],
    ]);
  });

  it('fails after JOB_ATTEMPTS failed attempts, keeping the last attempt’s partial text', async () => {
    const job = await runJob(sys, { text: TEN, fault: 'error_event', fault_after: 4, tag: 'always-overloaded' });
    expect(job.record).toMatchObject({ status: 'failed', attempt: 3, partial: true, text: firstWords(TEN, 4) });
    expect(job.record['error']).toMatchObject({ type: 'overloaded_error' });
    expect(job.done).toMatchObject({ status: 'failed' });
    expect(job.done['error']).toEqual(job.record['error']);
    expect(lifecycle(job.events)).toEqual([
      'queued:0', 'running:1', 'delta',
      'queued:1', 'reset:2', 'running:2', 'delta',
      'queued:2', 'reset:3', 'running:3', 'delta',
      'done:failed',
    ]);
    expect(job.requests.map((r) => [r.n, r.fault, r.deltasSent])).toEqual([
      [1, 'error_event', 4],
      [2, 'error_event', 4],
      [3, 'error_event', 4],
    ]);
  });

  it('honours retry-after on a 429 before the next attempt, which does not use one up (the fleet waited)', async () => {
    const job = await runJob(sys, { text: TEN, fault: 'http_429', retry_after: 1, fault_times: 1, tag: 'http-429' });
    expect(job.record).toMatchObject({ status: 'completed', attempt: 1, text: TEN });
    expect(job.events.some((e) => e.event === 'reset')).toBe(false);
    const [first, second] = job.requests;
    expect(job.requests).toHaveLength(2);
    expect(first).toMatchObject({ status: 429, fault: 'http_429' });
    // A lower bound only: without retry-after the first backoff is 250-500 ms. The second request
    // cannot arrive before the 429 answer plus 1000 ms, and the first request arrived before that.
    expect((second?.startedAt ?? 0) - (first?.startedAt ?? 0)).toBeGreaterThanOrEqual(1000);
  });

  it('retries a connection dropped mid-body and completes on attempt 2 with a reset', async () => {
    const job = await runJob(sys, { text: TEN, fault: 'drop', fault_after: 3, fault_times: 1, tag: 'drop' });
    expect(job.record).toMatchObject({ status: 'completed', attempt: 2, partial: false, text: TEN, error: null });
    expect(lifecycle(job.events)).toEqual([
      'queued:0', 'running:1', 'delta', 'queued:1', 'reset:2', 'running:2', 'delta', 'done:completed',
    ]);
    expect(job.requests.map((r) => [r.n, r.fault, r.deltasSent, r.outcome])).toEqual([
      [1, 'drop', 3, 'fault'],
      [2, null, 10, 'completed'],
    ]);
  });

  it('fails at once on a mid-stream error event of a non-retryable type', async () => {
    const job = await runJob(sys, {
      text: TEN, fault: 'error_event', error_type: 'invalid_request_error', fault_after: 2, tag: 'mid-invalid',
    });
    expect(job.record).toMatchObject({ status: 'failed', attempt: 1, partial: true, text: firstWords(TEN, 2) });
    expect(job.record['error']).toMatchObject({ type: 'invalid_request_error' });
    expect(job.done['error']).toEqual(job.record['error']);
    expect(lifecycle(job.events)).toEqual(['queued:0', 'running:1', 'delta', 'done:failed']);
    expect(job.requests).toHaveLength(1);
  });

  it('completes a generation cut at max_tokens, marked truncated', async () => {
    const twenty = Array.from({ length: 20 }, (_, i) => ` w${i}`).join('');
    const job = await runJob(sys, { text: twenty, tag: 'truncated' }, 5);
    expect(job.record).toMatchObject({
      status: 'completed',
      attempt: 1,
      partial: false,
      stop_reason: 'max_tokens',
      truncated: true,
      text: firstWords(twenty, 5),
    });
    expect(job.done).toMatchObject({ status: 'completed', stop_reason: 'max_tokens', truncated: true, error: null });
    expect((job.done['usage'] as { output_tokens: number }).output_tokens).toBe(5);
    expect(job.requests).toHaveLength(1);
  });
});

describe('retries of a stalled upstream body', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({
      name: 'retries-stall',
      env: { JOB_ATTEMPTS: '3', UPSTREAM_IDLE_TIMEOUT_MS: '300' },
      simDefaults: { ttft_ms: 5, tps: 1000 },
    });
  });
  afterAll(async () => {
    await sys.close();
  });

  it('aborts a stalled body after UPSTREAM_IDLE_TIMEOUT_MS and completes on attempt 2', async () => {
    const job = await runJob(sys, { text: TEN, fault: 'stall', fault_after: 3, fault_times: 1, tag: 'stall' });
    expect(job.record).toMatchObject({ status: 'completed', attempt: 2, partial: false, text: TEN, error: null });
    expect(lifecycle(job.events)).toEqual([
      'queued:0', 'running:1', 'delta', 'queued:1', 'reset:2', 'running:2', 'delta', 'done:completed',
    ]);
    expect(job.requests).toHaveLength(2);
    // The worker closed the stalled request itself (the simulator would have held it open forever).
    const first = await eventually(
      async () => (job.requests[0]?.outcome === 'in_progress' ? undefined : job.requests[0]),
      undefined,
      'the stalled request to close',
    );
    expect(first).toMatchObject({ n: 1, fault: 'stall', deltasSent: 3, outcome: 'client_closed' });
    // A lower bound: it waited for the idle timeout before giving up on the body.
    expect((first.closedByClientAt ?? 0) - first.startedAt).toBeGreaterThanOrEqual(300);
    expect(job.requests[1]).toMatchObject({ n: 2, fault: null, outcome: 'completed' });
  });

  it('counts bytes the SDK swallows as activity: pings alone for longer than the idle timeout do not stall the attempt', async () => {
    // 1.2 s before the first delta with only `ping` events meanwhile, every 100 ms: the SDK never
    // yields them, so only the watched fetch sees them (one client for all attempts, each attempt's
    // watchdog named per request).
    const job = await runJob(sys, { text: TEN, ttft_ms: 1200, ping_ms: 100, tag: 'pings' });
    expect(job.record).toMatchObject({ status: 'completed', attempt: 1, text: TEN });
    expect(job.requests).toHaveLength(1);
  });
});
