import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../src/simulator/index.js';
import { startOtlpReceiver, type OtlpReceiver } from './support/otlp-receiver.js';
import { startApiProcess, startWorkerProcess, type NodeProcess } from './support/processes.js';
import { redisUrl, uniquePrefix } from './support/redis.js';
import { jobEnded, simPrompt, submitJob, words } from './support/system.js';

// The main.ts files read the OTEL_* variables (issue 19 §2): an API process and a worker process,
// each with the standard variables only, make one trace across the queue; with a batch delay longer
// than the test, the spans arrive only because each process flushes them when it shuts down.

describe('traces from the API and worker processes', () => {
  let receiver: OtlpReceiver;
  let sim: Simulator;
  let api: NodeProcess & { url: string };
  let worker: NodeProcess;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    sim = await startSimulator({ defaults: {} });
    const env = {
      REDIS_URL: redisUrl(),
      KEY_PREFIX: uniquePrefix('traced-procs'),
      ANTHROPIC_BASE_URL: sim.url,
      ANTHROPIC_API_KEY: 'test-key',
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    };
    api = await startApiProcess(env);
    worker = await startWorkerProcess(env);
  });
  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    await sim?.close();
    await receiver?.close();
  });

  it('one trace from the request through the queue to the attempt and the SDK, flushed at shutdown', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { json } = await submitJob(
      api.url,
      { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ text: words(4, 'p'), tag: 'procs' }) }] },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    const id = String(json['id']);
    expect((await jobEnded(api.url, id))['status']).toBe('completed');
    expect(api.output()).toMatch(/tracing on: exporting spans as OTLP\/HTTP JSON/);
    // Nothing yet: the batch waits ten minutes, unless the process shuts down.
    expect(receiver.spans.filter((s) => s.traceId === traceId)).toEqual([]);
    expect(await api.stop()).toBe(0);
    expect(await worker.stop()).toBe(0);

    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    expect(receiver.rejected).toEqual([]);
    const request = spans.find((s) => s.name === 'POST /v1/jobs');
    const attempt = spans.find((s) => s.name.startsWith('chat '));
    const upstream = spans.find((s) => s.name === 'anthropic.messages.create');
    expect(request).toMatchObject({ service: 'genrelay-api', parentSpanId: '00f067aa0ba902b7' });
    expect(attempt).toMatchObject({ service: 'genrelay-worker', parentSpanId: request?.spanId });
    expect(attempt?.attributes).toMatchObject({ 'genrelay.job.id': id, 'gen_ai.usage.output_tokens': 4 });
    expect(upstream).toMatchObject({ service: 'genrelay-worker', parentSpanId: attempt?.spanId });
  });
});
