import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { createResumableStreamContext } from 'resumable-stream/ioredis';
import { installGcSignal } from '../../src/shared/gc-signal.js';

/**
 * The peer's API process: `GET /streams/{id}` resumes stream `id` with resumable-stream and relays it
 * as SSE (the package's documented `resumeExistingStream` route, on node:http). Reads PEER_PORT,
 * REDIS_URL and PEER_PREFIX.
 */
const env = process.env;
const redisUrl = env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const ctx = createResumableStreamContext({
  waitUntil: null,
  keyPrefix: env['PEER_PREFIX'] ?? 'bench-peer',
  publisher: new Redis(redisUrl),
  subscriber: new Redis(redisUrl),
});

// Memory per viewer is read after a full GC (SIGUSR2, see gc-signal.ts), as for genrelay's API.
installGcSignal();
const server = createServer((req, res) => {
  if (req.url === '/healthz') return void res.end('ok');
  const id = /^\/streams\/([\w-]+)$/.exec(req.url ?? '')?.[1];
  if (id === undefined) {
    res.writeHead(404).end();
    return;
  }
  void (async () => {
    let stream: ReadableStream<string> | null | undefined;
    try {
      stream = await ctx.resumeExistingStream(id);
    } catch (err) {
      // The package rejects when the producer does not answer within 1 s ("Timeout waiting for ack").
      res.writeHead(504, { 'content-type': 'text/plain' }).end(String(err));
      return;
    }
    if (stream === undefined || stream === null) {
      res.writeHead(stream === null ? 422 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform' });
    res.socket?.setNoDelay(true);
    // The same first bytes as genrelay's API; they also send the headers at once.
    res.write('retry: 2000\n\n');
    const reader = stream.getReader();
    res.on('close', () => void reader.cancel().catch(() => {}));
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value !== '') res.write(value);
    }
    res.end();
  })().catch(() => res.destroy());
});
server.requestTimeout = 0;
server.keepAliveTimeout = 65_000;
server.listen(Number(env['PEER_PORT'] ?? 0), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
