import { AppError } from './errors.js';

/** How spans are sampled (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`). */
export interface SamplerSettings {
  /** The standard names: `parentbased_always_on` (default), `always_on`, `traceidratio`, … */
  readonly name: string;
  /** The ratio of the `*traceidratio` samplers, 0–1. Default 1. */
  readonly ratio: number;
}

/** Tracing as the standard `OTEL_*` variables ask for it, settled. */
export interface TracingSettings {
  /** Where spans are POSTed: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
  readonly tracesUrl: string;
  /** `OTEL_EXPORTER_OTLP_HEADERS` then `OTEL_EXPORTER_OTLP_TRACES_HEADERS` (`k=v,k2=v2`, percent-decoded). */
  readonly headers: Readonly<Record<string, string>>;
  /** `OTEL_SERVICE_NAME`, else `service.name` of `OTEL_RESOURCE_ATTRIBUTES`, else the process's default. */
  readonly serviceName: string;
  /** `OTEL_RESOURCE_ATTRIBUTES` (`k=v,…`, percent-decoded). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: SamplerSettings;
  /** `OTEL_BSP_SCHEDULE_DELAY`: milliseconds between batch exports. Default 5000. */
  readonly scheduleDelayMs: number;
  /** `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT`: milliseconds per export. Default 10000. */
  readonly exportTimeoutMs: number;
  /** Set when the variables ask for something this build cannot do (a protocol other than http/json). */
  readonly warning?: string;
}

const samplers = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

/** `k=v,k2=v2` as the OTLP header and resource variables write it, values percent-decoded. */
function pairs(raw: string | undefined, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? '').split(',')) {
    if (part.trim() === '') continue;
    const at = part.indexOf('=');
    if (at <= 0) throw new AppError('config_invalid', `${name}: "${part.trim()}" is not key=value.`);
    out[decodeURIComponent(part.slice(0, at).trim())] = decodeURIComponent(part.slice(at + 1).trim());
  }
  return out;
}

function positive(env: Readonly<Record<string, string | undefined>>, names: readonly string[], fallback: number): number {
  for (const name of names) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) throw new AppError('config_invalid', `${name} must be a positive number of milliseconds.`);
    return n;
  }
  return fallback;
}

/**
 * Reads the standard OpenTelemetry variables from `env`. Undefined means tracing is off: no endpoint
 * is set, `OTEL_SDK_DISABLED=true`, or `OTEL_TRACES_EXPORTER=none`. Throws `config_invalid` for an
 * endpoint that is not a URL, a malformed header list or an unknown sampler. Pure: reads only `env`.
 */
export function tracingSettings(env: Readonly<Record<string, string | undefined>>, defaultServiceName: string): TracingSettings | undefined {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return undefined;
  if (env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase() === 'none') return undefined;
  const signal = env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']?.trim();
  const base = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  if (!signal && !base) return undefined;
  const tracesUrl = signal ? signal : `${(base ?? '').replace(/\/+$/, '')}/v1/traces`;
  if (!URL.canParse(tracesUrl) || !/^https?:$/.test(new URL(tracesUrl).protocol)) {
    throw new AppError('config_invalid', `The OTLP traces endpoint "${tracesUrl}" is not an http(s) URL.`);
  }
  const resourceAttributes = pairs(env['OTEL_RESOURCE_ATTRIBUTES'], 'OTEL_RESOURCE_ATTRIBUTES');
  const samplerName = env['OTEL_TRACES_SAMPLER']?.trim().toLowerCase() || 'parentbased_always_on';
  if (!samplers.includes(samplerName)) {
    throw new AppError('config_invalid', `OTEL_TRACES_SAMPLER must be one of ${samplers.join(', ')}.`);
  }
  const ratioRaw = env['OTEL_TRACES_SAMPLER_ARG'];
  const ratio = ratioRaw === undefined || ratioRaw === '' ? 1 : Number(ratioRaw);
  if (!(ratio >= 0 && ratio <= 1)) throw new AppError('config_invalid', 'OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1.');
  const protocol = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'] || 'http/json').trim();
  return {
    tracesUrl,
    headers: {
      ...pairs(env['OTEL_EXPORTER_OTLP_HEADERS'], 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...pairs(env['OTEL_EXPORTER_OTLP_TRACES_HEADERS'], 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
    },
    serviceName: env['OTEL_SERVICE_NAME']?.trim() || resourceAttributes['service.name'] || defaultServiceName,
    resourceAttributes,
    sampler: { name: samplerName, ratio },
    scheduleDelayMs: positive(env, ['OTEL_BSP_SCHEDULE_DELAY'], 5000),
    exportTimeoutMs: positive(env, ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT'], 10_000),
    // Collectors (and Jaeger) take OTLP/HTTP JSON on the same path as protobuf; gRPC is another port.
    ...(protocol === 'http/json'
      ? {}
      : { warning: `OTLP protocol "${protocol}" is not supported here: sending OTLP/HTTP JSON to ${tracesUrl}` }),
  };
}
