import { context, diag, DiagLogLevel, propagation, trace, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Logger } from './logger.js';
import { logRepeatedErrors } from './repeated-errors.js';
import { tracingSettings, type SamplerSettings } from './tracing-config.js';

/** The name of genrelay's own tracer (the SDK's spans have their own scope). */
export const tracerName = 'genrelay';

/** A process's tracing: on (a tracer, a registered provider) or off (both undefined). */
export interface Tracing {
  /** genrelay's tracer; undefined when tracing is off, so a caller's check costs one comparison. */
  readonly tracer: Tracer | undefined;
  /** The provider, for the Anthropic SDK's own spans; undefined when off. */
  readonly tracerProvider: TracerProvider | undefined;
  /** Exports what is buffered, shuts the provider down and unregisters it; idempotent. */
  close(): Promise<void>;
}

/** Options of {@link createTracing}. */
export interface TracingOptions {
  /** `service.name` unless `OTEL_SERVICE_NAME` (or `OTEL_RESOURCE_ATTRIBUTES`) names one. */
  readonly serviceName: string;
  readonly logger: Logger;
}

const off: Tracing = Object.freeze({ tracer: undefined, tracerProvider: undefined, close: () => Promise.resolve() });

function samplerOf({ name, ratio }: SamplerSettings): Sampler {
  const root = name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(ratio) : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/**
 * Tracing from the standard `OTEL_*` variables in `env` (see `tracing-config.ts` and docs/tracing.md).
 * Off unless an OTLP endpoint is set: then nothing is registered and nothing runs per job. On, it
 * registers a provider with the OpenTelemetry API (with the W3C trace-context propagator and an
 * AsyncLocalStorage context manager, so the Anthropic SDK's spans nest under the active one), which
 * batches spans to the endpoint as OTLP/HTTP JSON. One per process.
 */
export function createTracing(env: Readonly<Record<string, string | undefined>>, options: TracingOptions): Tracing {
  const settings = tracingSettings(env, options.serviceName);
  if (settings === undefined) return off;
  const { logger } = options;
  if (settings.warning !== undefined) logger.warn(settings.warning);
  // The exporter reports a collector it cannot reach through `diag`: throttled, so a dead collector
  // is one warning per window, not one per batch.
  const exportErrors = logRepeatedErrors(logger, 'trace export failed', { level: 'warn', stack: false });
  diag.setLogger(
    {
      error: (msg, ...args) => exportErrors(new Error([msg, ...args.map(String)].join(' '))),
      warn: (msg, ...args) => exportErrors(new Error([msg, ...args.map(String)].join(' '))),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const exporter = new OTLPTraceExporter({ url: settings.tracesUrl, headers: { ...settings.headers }, timeoutMillis: settings.exportTimeoutMs });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName }),
    sampler: samplerOf(settings.sampler),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: settings.scheduleDelayMs, exportTimeoutMillis: settings.exportTimeoutMs })],
  });
  provider.register();
  logger.info({ endpoint: settings.tracesUrl, service: settings.serviceName }, 'tracing on: exporting spans as OTLP/HTTP JSON');
  let closing: Promise<void> | undefined;
  return {
    tracer: provider.getTracer(tracerName),
    tracerProvider: provider,
    close() {
      closing ??= (async () => {
        try {
          // shutdown() flushes what the batch holds first.
          await provider.shutdown();
        } finally {
          trace.disable();
          context.disable();
          propagation.disable();
          diag.disable();
        }
      })();
      return closing;
    },
  };
}
