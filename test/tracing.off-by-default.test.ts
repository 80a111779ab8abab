import { propagation, trace } from '@opentelemetry/api';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/shared/errors.js';
import { globalKeys, jobKeys, queueName, recordFields } from '../src/shared/keys.js';
import { createLogger } from '../src/shared/logger.js';
import { createTracing } from '../src/shared/tracing.js';
import { tracingSettings } from '../src/shared/tracing-config.js';
import { createUpstreamClient } from '../src/worker/upstream-client.js';
import { jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

// Tracing is off unless an OTLP endpoint is set (issue 19 §2): then nothing is registered with the
// OpenTelemetry API, the SDK's own tracing is off, and a job carries no trace context anywhere.

const logger = createLogger('silent', 'test');

describe('tracing settings from the OTEL_* variables', () => {
  it('off without an endpoint, with OTEL_SDK_DISABLED=true, or with OTEL_TRACES_EXPORTER=none', () => {
    expect(tracingSettings({}, 'svc')).toBeUndefined();
    expect(tracingSettings({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }, 'svc')).toBeUndefined();
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }, 'svc')).toBeUndefined();
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }, 'svc')).toBeUndefined();
  });

  it('the traces endpoint as given, or the base endpoint plus /v1/traces; names, headers, sampler, protocol', () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }, 'svc')).toMatchObject({
      tracesUrl: 'http://c:4318/v1/traces',
      serviceName: 'svc',
      sampler: { name: 'parentbased_always_on', ratio: 1 },
      headers: {},
    });
    const s = tracingSettings(
      {
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c.example/otlp/spans',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20a,x-a=1',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-a=2',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource,deployment.environment=test',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      },
      'svc',
    );
    expect(s).toMatchObject({
      tracesUrl: 'https://c.example/otlp/spans',
      headers: { authorization: 'Bearer a', 'x-a': '2' },
      serviceName: 'from-resource',
      resourceAttributes: { 'deployment.environment': 'test' },
      sampler: { name: 'parentbased_traceidratio', ratio: 0.25 },
    });
    expect(s?.warning).toContain('http/protobuf');
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_SERVICE_NAME: 'named', OTEL_RESOURCE_ATTRIBUTES: 'service.name=r' }, 'svc')?.serviceName).toBe('named');
  });

  it('refuses what it cannot use, naming the variable', () => {
    const bad = (env: Record<string, string>) => () => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', ...env }, 'svc');
    expect(bad({ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4318' })).toThrow(AppError);
    expect(bad({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(bad({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(bad({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toThrow(/OTEL_EXPORTER_OTLP_HEADERS/);
    expect(bad({ OTEL_BSP_SCHEDULE_DELAY: '-1' })).toThrow(/OTEL_BSP_SCHEDULE_DELAY/);
  });
});

describe('tracing off', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'untraced' });
  });
  afterAll(async () => {
    await sys?.close();
  });

  it('registers nothing: no tracer, no provider, no propagator with the OpenTelemetry API', async () => {
    const tracing = await createTracing({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_HEADERS: 'a=b' }, { serviceName: 'svc', logger });
    expect(tracing.tracer).toBeUndefined();
    expect(tracing.tracerProvider).toBeUndefined();
    await tracing.close();
    const disabled = await createTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' }, { serviceName: 'svc', logger });
    expect(disabled.tracer).toBeUndefined();
    const span = trace.getTracer('probe').startSpan('probe');
    expect(span.isRecording()).toBe(false);
    span.end();
    expect(propagation.fields()).toEqual([]);
  });

  it("the SDK's own tracing is off and a job carries no trace context: not in its data, its record or its upstream request", async () => {
    const client = createUpstreamClient({ apiKey: 'k', baseUrl: sys.sim.url });
    expect(client.openTelemetry.traces.enabled).toBe(false);
    // The SDK's internal tracer (what starts its spans), absent when its tracing is off.
    expect((client as unknown as { _tracer?: unknown })._tracer).toBeUndefined();

    const { json } = await submitJob(
      sys.url,
      { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ text: words(3, 'o'), tag: 'untraced-off' }) }] },
      // A client's traceparent is not continued, nor stored, while tracing is off.
      { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    );
    const id = String(json['id']);
    expect((await jobEnded(sys.url, id))['status']).toBe('completed');
    const [sent] = sys.sim.requests.filter((r) => r.tag === 'untraced-off');
    expect(sent).toBeDefined();
    expect(sent?.headers['traceparent']).toBeUndefined();
    const fields = await sys.redis.hgetall(jobKeys(sys.config.keyPrefix, id).record);
    expect(fields[recordFields.status]).toBe('completed');
    expect(fields[recordFields.traceparent]).toBeUndefined();
    const queue = new Queue(queueName, { connection: sys.redis, prefix: globalKeys(sys.config.keyPrefix).queuePrefix });
    try {
      const job = await queue.getJob(String(fields[recordFields.queueJobId]));
      expect(job?.data).toEqual({ jobId: id });
    } finally {
      await queue.close();
    }
  });
});
