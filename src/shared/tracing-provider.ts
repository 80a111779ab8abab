import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
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
import type { SamplerSettings, TracingSettings } from './tracing-config.js';
import { tracerName, type Tracing } from './tracing.js';

/** The sampler the standard name asks for. */
function samplerOf({ name, ratio }: SamplerSettings): Sampler {
  const root = name.endsWith('always_off') ? new AlwaysOffSampler() : name.endsWith('traceidratio') ? new TraceIdRatioBasedSampler(ratio) : new AlwaysOnSampler();
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root }) : root;
}

/**
 * Registers a NodeTracerProvider for `settings` with the OpenTelemetry API (W3C propagator,
 * AsyncLocalStorage context manager) that batches spans as OTLP/HTTP JSON. Loaded by `createTracing`
 * only when tracing is on.
 */
export function startProvider(settings: TracingSettings, logger: Logger): Tracing {
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
