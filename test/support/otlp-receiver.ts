import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An attribute value as the test compares it (OTLP's typed values unwrapped; int64 as a number). */
export type AttrValue = string | number | boolean | AttrValue[] | undefined;

/** One span as OTLP/HTTP JSON delivered it, decoded. */
export interface ReceivedSpan {
  readonly service: string;
  readonly scope: string;
  readonly name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly attributes: Record<string, AttrValue>;
  readonly events: { readonly name: string; readonly attributes: Record<string, AttrValue> }[];
  readonly links: { readonly traceId: string; readonly spanId: string }[];
  /** 0 unset, 1 ok, 2 error. */
  readonly status: number;
}

/** A real OTLP/HTTP receiver on an ephemeral port, accepting JSON at `/v1/traces`. */
export interface OtlpReceiver {
  /** The base URL, for `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** Bodies that were not OTLP JSON (a test asserts there are none). */
  readonly rejected: string[];
  close(): Promise<void>;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
type OtlpAttrs = { key: string; value: OtlpValue }[] | undefined;

function valueOf(v: OtlpValue): AttrValue {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}
const attrs = (list: OtlpAttrs): Record<string, AttrValue> => Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

/** Starts the receiver. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const rejected: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
          throw new Error(`${req.method} ${req.url} ${req.headers['content-type']}`);
        }
        const doc = JSON.parse(body) as { resourceSpans: { resource?: { attributes?: OtlpAttrs }; scopeSpans: { scope?: { name?: string }; spans: Record<string, unknown>[] }[] }[] };
        for (const rs of doc.resourceSpans) {
          const service = String(attrs(rs.resource?.attributes)['service.name']);
          for (const ss of rs.scopeSpans) {
            for (const s of ss.spans) {
              spans.push({
                service,
                scope: ss.scope?.name ?? '',
                name: String(s['name']),
                kind: Number(s['kind']),
                traceId: String(s['traceId']),
                spanId: String(s['spanId']),
                parentSpanId: String(s['parentSpanId'] ?? ''),
                attributes: attrs(s['attributes'] as OtlpAttrs),
                events: ((s['events'] ?? []) as { name: string; attributes?: OtlpAttrs }[]).map((e) => ({ name: e.name, attributes: attrs(e.attributes) })),
                links: ((s['links'] ?? []) as { traceId: string; spanId: string }[]).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
                status: Number((s['status'] as { code?: number } | undefined)?.code ?? 0),
              });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        rejected.push(`${String(err)}: ${body.slice(0, 200)}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    rejected,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
