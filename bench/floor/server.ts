import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { formatStamp, wallClockMs } from '../../src/simulator/stamp.js';
import { installGcSignal } from '../../src/shared/gc-signal.js';

/**
 * The socket floor: the least any one-process Node relay can do for the fan-out scenario. It has no
 * Redis, no upstream and no parsing: it makes the stream's frames itself on a timer (stamped with the
 * time each was due) and writes each turn's frames, joined, to every viewer's socket, as genrelay's
 * API does (unframed response, `retry:` first, one write per viewer per turn). What it cannot beat is
 * the kernel: a loopback `write` also runs the receiver's TCP path. Reads FLOOR_PORT.
 *
 * `POST /streams/{id}?tps=50&ttft_ms=2000&tokens=N` starts a stream, `DELETE /streams/{id}` ends it,
 * `GET /streams/{id}` views it.
 */
interface Stream {
  readonly viewers: Set<Socket>;
  timer: NodeJS.Timeout | undefined;
  stop(): void;
}
const streams = new Map<string, Stream>();

function startStream(id: string, tps: number, ttftMs: number, tokens: number): void {
  const viewers = new Set<Socket>();
  const periodMs = 1000 / tps;
  const firstAt = wallClockMs() + ttftMs;
  let sent = 0;
  const stream: Stream = {
    viewers,
    timer: undefined,
    stop() {
      clearTimeout(stream.timer);
      const done = Buffer.from(`id: ${sent + 1}\nevent: done\ndata: {"status":"cancelled"}\n\n`);
      for (const socket of viewers) socket.end(done);
      streams.delete(id);
    },
  };
  // Every frame whose time has come, in one buffer: a late turn catches up in one write per viewer.
  const tick = () => {
    const now = wallClockMs();
    const due = Math.min(tokens, Math.floor((now - firstAt) / periodMs) + 1);
    const frames: string[] = [];
    for (; sent < due; sent += 1) {
      const data = JSON.stringify({ text: ` tok${sent}${formatStamp(firstAt + sent * periodMs)}` });
      frames.push(`id: ${sent + 1}\nevent: delta\ndata: ${data}\n\n`);
    }
    if (frames.length > 0) {
      const chunk = Buffer.from(frames.join(''));
      for (const socket of viewers) socket.write(chunk);
    }
    if (sent >= tokens) return stream.stop();
    stream.timer = setTimeout(tick, Math.max(0, firstAt + sent * periodMs - wallClockMs()));
  };
  stream.timer = setTimeout(tick, ttftMs);
  streams.set(id, stream);
}

function view(stream: Stream, res: ServerResponse): void {
  res.useChunkedEncodingByDefault = false;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'close' });
  res.write('retry: 2000\n\n');
  const socket = res.socket;
  if (socket === null) return;
  socket.setNoDelay(true);
  stream.viewers.add(socket);
  res.on('close', () => stream.viewers.delete(socket));
}

// Memory per viewer is read after a full GC (SIGUSR2, see gc-signal.ts), as for genrelay's API.
installGcSignal();
const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://floor');
  if (url.pathname === '/healthz') return void res.end('ok');
  const id = /^\/streams\/([\w-]+)$/.exec(url.pathname)?.[1];
  const stream = id === undefined ? undefined : streams.get(id);
  if (id !== undefined && req.method === 'POST') {
    const n = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
    startStream(id, n('tps', 50), n('ttft_ms', 0), n('tokens', 1000));
    return void res.writeHead(201).end();
  }
  if (stream === undefined) return void res.writeHead(404).end();
  if (req.method === 'DELETE') {
    stream.stop();
    return void res.writeHead(204).end();
  }
  view(stream, res);
});
server.requestTimeout = 0;
server.listen(Number(process.env['FLOOR_PORT'] ?? 0), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
