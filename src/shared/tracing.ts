import type { Tracer, TracerProvider } from '@opentelemetry/api';
import type { Logger } from './logger.js';
import { tracingSettings } from './tracing-config.js';

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

/**
 * Tracing from the standard `OTEL_*` variables in `env` (see `tracing-config.ts` and docs/tracing.md).
 * Off unless an OTLP endpoint is set: then nothing is loaded or registered and nothing runs per job.
 * On, it registers a provider with the OpenTelemetry API (with the W3C trace-context propagator and an
 * AsyncLocalStorage context manager, so the Anthropic SDK's spans nest under the active one), which
 * batches spans to the endpoint as OTLP/HTTP JSON. One per process.
 */
export async function createTracing(env: Readonly<Record<string, string | undefined>>, options: TracingOptions): Promise<Tracing> {
  const settings = tracingSettings(env, options.serviceName);
  if (settings === undefined) return off;
  // The SDK and the exporter are loaded only when tracing is on: off, a process does not pay their
  // start-up time (seconds on a busy machine) for nothing.
  const { startProvider } = await import('./tracing-provider.js');
  return startProvider(settings, options.logger);
}
