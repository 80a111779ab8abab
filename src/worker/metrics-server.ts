import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { listen } from '../shared/listen.js';

/**
 * A tiny HTTP server for a standalone worker: `GET /metrics` (Prometheus) and `GET /healthz`. The
 * registry is looked up per scrape, so the server can listen (and fail on a taken port) before the
 * worker starts taking jobs.
 */
export async function startMetricsServer(
  registryOf: () => Registry | undefined,
  port: number,
  host: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const registry = registryOf();
    if (req.method === 'GET' && req.url === '/metrics' && registry !== undefined) {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404).end();
    }
  });
  await listen(server, port, host, 'WORKER_METRICS_PORT');
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
