import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/shared/logger.js';
import { createTracing, type Tracing } from '../src/shared/tracing.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { eventsOf, openSocket } from './support/socket.js';
import { readSse } from './support/sse.js';
import { eventually, jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

// Traces (issue 19 §2): a submission's W3C trace context is carried through the queue to each
// attempt and its upstream request, and viewers' deliveries link to it. Spans go as OTLP/HTTP JSON to
// a real receiver this test starts, through the exporter genrelay uses in production.

const SPAN_KIND = { server: 2, client: 3, consumer: 5 } as const;

/** A fresh W3C traceparent: version 00, random trace and parent ids, sampled. */
function traceparent(): { header: string; traceId: string; parentId: string } {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  const traceId = hex(32);
  const parentId = hex(16);
  return { header: `00-${traceId}-${parentId}-01`, traceId, parentId };
}

describe('traces across the queue, to an OTLP/HTTP receiver', () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let sys: TestSystem;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = await createTracing(
      { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'genrelay-test', OTEL_BSP_SCHEDULE_DELAY: '50' },
      { serviceName: 'unused-default', logger: createLogger('silent', 'test') },
    );
    expect(tracing.tracer).toBeDefined();
    sys = await startSystem({ name: 'traces', tracing, env: { JOB_ATTEMPTS: '3' } });
  });
  afterAll(async () => {
    await sys?.close();
    await tracing?.close();
    await receiver?.close();
  });

  /** The spans of trace `traceId` once `ready` accepts them (the exporter sends in batches). */
  const spansOf = (traceId: string, ready: (spans: ReceivedSpan[]) => boolean) =>
    eventually(async () => {
      const spans = receiver.spans.filter((s) => s.traceId === traceId);
      return ready(spans) ? spans : undefined;
    }, 20_000, `spans of trace ${traceId}`);
  const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);
  const eventNames = (span: ReceivedSpan) => span.events.map((e) => e.name);

  it('continues the traceparent: request span, attempt span per the GenAI conventions, the SDK request under it, deliveries linked', async () => {
    const tp = traceparent();
    const { status, json } = await submitJob(
      sys.url,
      { max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ text: words(12, 'w'), tps: 200, tag: 'traced' }) }] },
      { traceparent: tp.header },
    );
    expect(status).toBe(202);
    const id = String(json['id']);
    // Two viewers, one per transport: each delivery is its own span.
    const sse = await readSse(`${sys.url}/v1/jobs/${id}/events`);
    expect(sse.endedByServer).toBe(true);
    const socket = await openSocket(sys.url);
    await socket.next((f) => f.type === 'ready');
    socket.send({ type: 'subscribe', id: 's1', job: id });
    await socket.next((f) => f.type === 'complete' && f['id'] === 's1');
    socket.close();
    expect((await jobEnded(sys.url, id))['status']).toBe('completed');

    const spans = await spansOf(tp.traceId, (s) => named(s, 'anthropic.messages.create').length === 1 && s.some((x) => x.name.startsWith('chat ')));
    expect(receiver.rejected).toEqual([]);
    const [request] = named(spans, 'POST /v1/jobs');
    expect(request).toMatchObject({ kind: SPAN_KIND.server, parentSpanId: tp.parentId, service: 'genrelay-test' });
    expect(request?.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/v1/jobs', 'http.response.status_code': 202, 'genrelay.job.id': id });

    const attempts = spans.filter((s) => s.name.startsWith('chat '));
    expect(attempts).toHaveLength(1);
    const attempt = attempts[0]!;
    const model = sys.config.defaultModel;
    expect(attempt).toMatchObject({ name: `chat ${model}`, kind: SPAN_KIND.consumer, parentSpanId: request?.spanId, scope: 'genrelay' });
    expect(attempt.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.system': 'anthropic',
      'gen_ai.request.model': model,
      'gen_ai.response.model': model,
      'gen_ai.request.max_tokens': 100,
      'gen_ai.usage.output_tokens': 12,
      'gen_ai.response.finish_reasons': ['end_turn'],
      'genrelay.job.id': id,
      'genrelay.attempt': 1,
      'genrelay.attempt.outcome': 'completed',
    });
    expect(attempt.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(attempt.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(eventNames(attempt)).toEqual(['genrelay.first_token', 'genrelay.end']);
    expect(attempt.events[1]?.attributes).toEqual({ 'genrelay.job.status': 'completed' });

    // The upstream request is the SDK's own span, under the attempt, and it sent the context upstream.
    const [upstream] = named(spans, 'anthropic.messages.create');
    expect(upstream).toMatchObject({ kind: SPAN_KIND.client, parentSpanId: attempt.spanId, scope: 'com.anthropic.sdk.typescript' });
    expect(upstream?.attributes).toMatchObject({ 'gen_ai.request.model': model, 'gen_ai.usage.output_tokens': 12 });
    const [sent] = sys.sim.requests.filter((r) => r.tag === 'traced');
    expect(sent?.headers['traceparent']).toBe(`00-${tp.traceId}-${upstream?.spanId}-01`);

    // Deliveries are traces of their own, linked to the job's (one per viewer connection, per transport).
    const deliveries = await eventually(async () => {
      const found = receiver.spans.filter((s) => s.name === 'genrelay.deliver' && s.attributes['genrelay.job.id'] === id);
      return found.length === 2 ? found : undefined;
    }, 20_000, 'two delivery spans');
    expect(deliveries.map((d) => d.attributes['genrelay.transport']).sort()).toEqual(['sse', 'ws']);
    const frames = { sse: sse.events.length, ws: eventsOf(socket.frames, id).length };
    for (const d of deliveries) {
      expect(d.kind).toBe(SPAN_KIND.server);
      expect(d.traceId).not.toBe(tp.traceId);
      expect(d.links).toEqual([{ traceId: tp.traceId, spanId: request?.spanId }]);
      expect(d.attributes).toMatchObject({ 'genrelay.deliver.outcome': 'ended', 'genrelay.deliver.cursor': 0 });
      expect(d.attributes['genrelay.deliver.last_seq']).toBe(frames.sse);
      expect(d.attributes['genrelay.deliver.bytes']).toBeGreaterThan(0);
    }
    expect(deliveries.find((d) => d.attributes['genrelay.transport'] === 'sse')?.attributes['genrelay.deliver.frames']).toBe(frames.sse);
  });

  it('a retry: one span per attempt under the request span, the first with its error, retry and reset events', async () => {
    const tp = traceparent();
    const behaviour = { text: words(10, 'r'), fault: 'error_event' as const, error_type: 'overloaded_error', fault_after: 3, fault_times: 1, tag: 'traced-retry' };
    const { json } = await submitJob(sys.url, { max_tokens: 100, messages: [{ role: 'user', content: simPrompt(behaviour) }] }, { traceparent: tp.header });
    const id = String(json['id']);
    expect((await jobEnded(sys.url, id))['status']).toBe('completed');

    const spans = await spansOf(tp.traceId, (s) => s.filter((x) => x.name.startsWith('chat ')).length === 2 && named(s, 'anthropic.messages.create').length === 2);
    const [request] = named(spans, 'POST /v1/jobs');
    const attempts = spans.filter((s) => s.name.startsWith('chat ')).sort((a, b) => Number(a.attributes['genrelay.attempt']) - Number(b.attributes['genrelay.attempt']));
    expect(attempts.map((a) => [a.attributes['genrelay.attempt'], a.parentSpanId, a.attributes['genrelay.attempt.outcome']])).toEqual([
      [1, request?.spanId, 'retried'],
      [2, request?.spanId, 'completed'],
    ]);
    const [first, second] = attempts;
    expect(first?.status).toBe(2);
    expect(first?.attributes['error.type']).toBe('overloaded_error');
    expect(eventNames(first!)).toEqual(['genrelay.first_token', 'genrelay.retry', 'genrelay.reset']);
    expect(first?.events[1]?.attributes['error.type']).toBe('overloaded_error');
    expect(eventNames(second!)).toEqual(['genrelay.first_token', 'genrelay.end']);
    // Each attempt's upstream request under its own attempt.
    const upstream = named(spans, 'anthropic.messages.create').map((s) => s.parentSpanId).sort();
    expect(upstream).toEqual([first?.spanId, second?.spanId].sort());
  });

  it('a cancel: the attempt span has the cancel event and ends cancelled', async () => {
    const tp = traceparent();
    const { json } = await submitJob(
      sys.url,
      { max_tokens: 2000, messages: [{ role: 'user', content: simPrompt({ tokens: 400, tps: 40, tag: 'traced-cancel' }) }] },
      { traceparent: tp.header },
    );
    const id = String(json['id']);
    // Cancel once the attempt is streaming.
    await readSse(`${sys.url}/v1/jobs/${id}/events`, { until: (e) => e.event === 'delta' });
    const res = await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect((await jobEnded(sys.url, id))['status']).toBe('cancelled');

    const spans = await spansOf(tp.traceId, (s) => s.some((x) => x.name.startsWith('chat ')) && named(s, 'anthropic.messages.create').length === 1);
    const attempt = spans.find((s) => s.name.startsWith('chat '))!;
    expect(eventNames(attempt)).toEqual(['genrelay.first_token', 'genrelay.cancel', 'genrelay.end']);
    expect(attempt.events[2]?.attributes).toEqual({ 'genrelay.job.status': 'cancelled' });
    expect(attempt.attributes['genrelay.attempt.outcome']).toBe('cancelled');
  });

  it('a submission without a traceparent starts a new trace', async () => {
    const { json } = await submitJob(sys.url, { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ text: words(3, 'n'), tag: 'untraced' }) }] });
    const id = String(json['id']);
    await jobEnded(sys.url, id);
    const request = await eventually(async () => receiver.spans.find((s) => s.name === 'POST /v1/jobs' && s.attributes['genrelay.job.id'] === id), 20_000, 'request span');
    expect(request.parentSpanId).toBe('');
    const attempt = await eventually(async () => receiver.spans.find((s) => s.name.startsWith('chat ') && s.attributes['genrelay.job.id'] === id), 20_000, 'attempt span');
    expect(attempt).toMatchObject({ traceId: request.traceId, parentSpanId: request.spanId });
  });
});
