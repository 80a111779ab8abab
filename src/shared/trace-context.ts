import { propagation, ROOT_CONTEXT, trace, type Context, type Span } from '@opentelemetry/api';

/**
 * A span's W3C trace context as it travels in job data and on the record: the `traceparent` header's
 * value, and `tracestate` when there is one.
 */
export interface TraceCarrier {
  readonly traceparent: string;
  readonly tracestate?: string;
}

/** The carrier of `span` (through the registered propagator); undefined if it writes no `traceparent`. */
export function carrierOf(span: Span): TraceCarrier | undefined {
  const out: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), out);
  const { traceparent, tracestate } = out;
  if (traceparent === undefined) return undefined;
  return tracestate === undefined || tracestate === '' ? { traceparent } : { traceparent, tracestate };
}

/** The context a carrier continues: a remote parent, or the root (a new trace) without one. */
export function contextOf(carrier: TraceCarrier | Readonly<Record<string, unknown>> | undefined): Context {
  if (carrier === undefined) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier as Readonly<Record<string, unknown>>, {
    get: (c, key) => (typeof c[key] === 'string' ? (c[key] as string) : undefined),
    keys: (c) => Object.keys(c),
  });
}
