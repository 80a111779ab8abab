import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local OTLP/HTTP endpoint for `--trace`: takes every export, counts it, keeps nothing. */
export interface OtlpSink {
  /** For `OTEL_EXPORTER_OTLP_ENDPOINT`. */
  readonly url: string;
  /** Export requests and spans received so far (spans counted from the JSON's `spanId`s). */
  counts(): { readonly requests: number; readonly spans: number; readonly bytes: number };
  close(): Promise<void>;
}

/**
 * Starts the sink in the driver's process (it is idle while the clients measure): genrelay's
 * processes pay the whole cost of tracing on (making spans, batching, serializing, sending), the
 * collector's side is left out, as it would run elsewhere.
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  let requests = 0;
  let spans = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      requests += 1;
      bytes += Buffer.byteLength(body);
      spans += body.split('"spanId"').length - 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ requests, spans, bytes }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
