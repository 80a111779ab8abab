import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createBrotliCompress, createDeflate, createGzip, gzipSync } from 'node:zlib';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpFetch, type HttpFetch } from '../src/worker/http-fetch.js';
import { freePort } from './support/free-port.js';
import { simRequest, useSimulatorClient } from './support/simulator-client.js';

// The worker's upstream transport: what the SDK needs of a fetch, against a real HTTP server (and the
// simulator through the real SDK), including the ways a response goes wrong.
describe('the upstream fetch over node:http', () => {
  let server: Server;
  let base: string;
  let handler: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  const sockets = new Set<Socket>();
  let transport: HttpFetch;
  beforeAll(async () => {
    server = createServer((req, res) => handler(req, res));
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(() => transport?.close());
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const readAll = async (body: ReadableStream<Uint8Array> | null) => {
    const chunks: string[] = [];
    const decoder = new TextDecoder();
    for await (const chunk of body ?? []) chunks.push(decoder.decode(chunk, { stream: true }));
    return chunks;
  };

  // Writes `piece` `count` times, waiting for `drain` when the socket's buffer is full, then ends.
  // Serves 200 and `first`, keeping the response open (`then` may write more on it). The returned
  // function gives the latest response, for a test to write to or wait on.
  const serveOpen = (first: string, then: (res: ServerResponse) => void = () => {}) => {
    let open: ServerResponse | undefined;
    handler = (_req, res) => {
      open = res;
      res.writeHead(200);
      res.write(first);
      then(res);
    };
    return () => open;
  };
  const sendPieces = (piece: string, count: number) => (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200);
    let sent = 0;
    const more = () => {
      while (sent < count) {
        sent += 1;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  };

  it('sends the method, headers and body, and streams the response chunk by chunk, telling each', async () => {
    let seen: { method?: string | undefined; headers?: IncomingMessage['headers']; body?: string } = {};
    handler = (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { method: req.method, headers: req.headers, body };
        res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_1' });
        res.write('one ');
        setTimeout(() => res.write('two '), 20);
        setTimeout(() => res.end('three'), 40);
      });
    };
    let told = 0;
    transport = createHttpFetch({ activityOf: (init) => (init as { tell?: () => void } | undefined)?.tell });
    const res = await transport.fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: new Headers({ 'x-api-key': 'k', 'content-type': 'application/json' }),
      body: '{"q":"ü"}',
      tell: () => (told += 1),
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toBe('req_1');
    const afterHead = told;
    const chunks = await readAll(res.body);
    expect(chunks.join('')).toBe('one two three');
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(afterHead).toBeGreaterThanOrEqual(1);
    expect(told).toBe(1 + chunks.length);
    expect(seen.method).toBe('POST');
    expect(seen.headers?.['x-api-key']).toBe('k');
    expect(seen.headers?.['content-length']).toBe(String(Buffer.byteLength('{"q":"ü"}')));
    expect(seen.body).toBe('{"q":"ü"}');
  });

  it('keeps the connection alive between requests', async () => {
    const ports = new Set<number>();
    handler = (req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      res.end('ok');
    };
    transport = createHttpFetch();
    for (let i = 0; i < 3; i++) expect(await (await transport.fetch(`${base}/`)).text()).toBe('ok');
    expect(ports.size).toBe(1);
  });

  it('gives a null body for 204 and an error body as text', async () => {
    handler = (req, res) => {
      if (req.url === '/empty') res.writeHead(204).end();
      else res.writeHead(529, { 'content-type': 'application/json' }).end('{"type":"error"}');
    };
    transport = createHttpFetch();
    const empty = await transport.fetch(`${base}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    const overloaded = await transport.fetch(`${base}/busy`);
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toEqual({ type: 'error' });
  });

  it('asks for no compression, and decodes a body a gateway compressed all the same (gzip, deflate, br)', async () => {
    const text = 'event: content_block_delta\ndata: {"text":"déjà vu"}\n\n'.repeat(40);
    const asked: (string | undefined)[] = [];
    handler = (req, res) => {
      asked.push(req.headers['accept-encoding']);
      // As RFC 9110 allows a server when the request names no coding; `identity` is ignored on purpose here.
      const coding = req.url?.slice(1) ?? '';
      const encoder = coding === 'gzip' ? createGzip() : coding === 'deflate' ? createDeflate() : createBrotliCompress();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': coding });
      encoder.pipe(res);
      // Two flushed pieces: the reader sees the first before the body ends.
      encoder.write(text.slice(0, 500));
      encoder.flush(() => setTimeout(() => encoder.end(text.slice(500)), 20));
    };
    let told = 0;
    transport = createHttpFetch({ activityOf: () => () => (told += 1) });
    for (const coding of ['gzip', 'deflate', 'br']) {
      const res = await transport.fetch(`${base}/${coding}`, { method: 'POST', body: '{}' });
      expect(res.headers.get('content-encoding')).toBe(coding);
      const chunks = await readAll(res.body);
      expect(chunks.join('')).toBe(text);
    }
    expect(asked).toEqual(['identity', 'identity', 'identity']);
    expect(told).toBeGreaterThanOrEqual(6);
    // A caller that names a coding gets its own header sent.
    await transport.fetch(`${base}/gzip`, { headers: { 'accept-encoding': 'gzip' } }).then((r) => r.text());
    expect(asked.at(-1)).toBe('gzip');
  });

  it('fails a compressed body that does not decode, or is cut short', async () => {
    handler = (req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      if (req.url === '/garbage') res.end('this is not gzip at all');
      else {
        const encoder = createGzip();
        encoder.pipe(res);
        encoder.write('a first piece');
        encoder.flush(() => setTimeout(() => res.socket?.destroy(), 20));
      }
    };
    transport = createHttpFetch();
    const garbage = await readAll((await transport.fetch(`${base}/garbage`)).body).catch((e: unknown) => e);
    expect(garbage).toBeInstanceOf(Error);
    const cut = await readAll((await transport.fetch(`${base}/cut`)).body).catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(TypeError);
    expect((cut as Error).message).toBe('terminated');
    // An abort mid-body fails the read with the signal's reason and lets go of the signal.
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    const res = await transport.fetch(`${base}/cut`, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 5);
    expect(await readAll(res.body).catch((e: unknown) => e)).toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('a compressed body: leaving the loop early closes the connection and lets go of the signal', async () => {
    let open: ServerResponse | undefined;
    handler = (_req, res) => {
      open = res;
      res.writeHead(200, { 'content-encoding': 'gzip' });
      const encoder = createGzip();
      encoder.pipe(res);
      // Three pieces, then silence with the response left open: only the reader's leaving can close it.
      let sent = 0;
      const more = setInterval(() => {
        encoder.write('more');
        encoder.flush();
        if (++sent === 3) clearInterval(more);
      }, 5);
      res.once('close', () => clearInterval(more));
    };
    transport = createHttpFetch();
    const kept = new AbortController();
    const res = await transport.fetch(`${base}/`, { signal: kept.signal });
    const closed = new Promise((resolve) => open?.once('close', resolve));
    let seen = 0;
    for await (const _chunk of res.body!) if (++seen === 3) break;
    await closed;
    expect(getEventListeners(kept.signal, 'abort')).toHaveLength(0);
  });

  it('fails a body cut short with TypeError("terminated"), as undici does', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('part');
      setTimeout(() => res.socket?.destroy(), 20);
    };
    transport = createHttpFetch();
    const res = await transport.fetch(`${base}/`);
    const err = await readAll(res.body).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('terminated');
  });

  it('fails a refused connection with TypeError("fetch failed") and its cause', async () => {
    transport = createHttpFetch();
    const err = await transport.fetch(`http://127.0.0.1:${await freePort()}/`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('fetch failed');
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('aborts before the head, and mid-body, with the signal reason, leaving no listener behind', async () => {
    let open: ServerResponse | undefined;
    handler = (req, res) => {
      if (req.url === '/slow') return; // never answers
      open = res;
      res.writeHead(200);
      res.write('first');
    };
    transport = createHttpFetch();
    const before = new AbortController();
    const pending = transport.fetch(`${base}/slow`, { signal: before.signal });
    setTimeout(() => before.abort(), 20);
    expect(((await pending.catch((e: unknown) => e)) as Error).name).toBe('AbortError');

    const during = new AbortController();
    const res = await transport.fetch(`${base}/stream`, { signal: during.signal });
    const reader = res.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('first');
    const next = reader.read();
    during.abort(new Error('stop now'));
    expect(((await next.catch((e: unknown) => e)) as Error).message).toBe('stop now');
    const closed = new Promise((resolve) => open?.once('close', resolve));
    await closed;

    // A body read to its end lets go of the signal.
    handler = (_req, r) => r.end('done');
    const kept = new AbortController();
    let listeners = 0;
    const add = kept.signal.addEventListener.bind(kept.signal);
    const remove = kept.signal.removeEventListener.bind(kept.signal);
    kept.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      listeners += 1;
      add(...args);
    }) as AbortSignal['addEventListener'];
    kept.signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
      listeners -= 1;
      remove(...args);
    }) as AbortSignal['removeEventListener'];
    expect(await (await transport.fetch(`${base}/`, { signal: kept.signal })).text()).toBe('done');
    expect(listeners).toBe(0);
  });

  it('pauses the socket while the reader is behind, and loses nothing', async () => {
    const piece = 'x'.repeat(64 * 1024);
    handler = sendPieces(piece, 64);
    transport = createHttpFetch();
    const res = await transport.fetch(`${base}/`);
    const reader = res.body!.getReader();
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(bytes).toBe(64 * piece.length);
  });

  // The SDK reads the body through its async iterator, which skips the web stream's queue: the same
  // guarantees must hold on that path.
  it('through the body\'s async iterator: a slow reader loses nothing, and an abort mid-body rejects the waiting read', async () => {
    const piece = 'y'.repeat(64 * 1024);
    handler = sendPieces(piece, 64);
    transport = createHttpFetch();
    const res = await transport.fetch(`${base}/`);
    let bytes = 0;
    for await (const chunk of res.body!) {
      bytes += chunk.byteLength;
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(bytes).toBe(64 * piece.length);

    const open = serveOpen('first');
    const during = new AbortController();
    const streaming = await transport.fetch(`${base}/stream`, { signal: during.signal });
    const iterator = streaming.body![Symbol.asyncIterator]();
    expect(new TextDecoder().decode((await iterator.next()).value)).toBe('first');
    const next = iterator.next();
    const closed = new Promise((resolve) => open()?.once('close', resolve));
    during.abort(new Error('stop now'));
    expect(((await next.catch((e: unknown) => e)) as Error).message).toBe('stop now');
    await closed;
  });

  it('through the body\'s async iterator: reads made before earlier ones answer get the chunks in order; a failed body hands out nothing more', async () => {
    const open = serveOpen('one', (res) => setTimeout(() => res.write('two'), 20));
    transport = createHttpFetch();
    const controller = new AbortController();
    const res = await transport.fetch(`${base}/`, { signal: controller.signal });
    const iterator = res.body![Symbol.asyncIterator]();
    const [first, second] = await Promise.all([iterator.next(), iterator.next()]);
    const text = (r: IteratorResult<Uint8Array>) => new TextDecoder().decode(r.value);
    expect([text(first), text(second)]).toEqual(['one', 'two']);

    // A chunk that came while nobody was reading is dropped when the body fails, as fetch does.
    open()?.write('three');
    await new Promise((r) => setTimeout(r, 50));
    controller.abort(new Error('cancelled'));
    expect(((await iterator.next().catch((e: unknown) => e)) as Error).message).toBe('cancelled');
  });

  it('through the body\'s async iterator: leaving the loop early closes the connection and lets go of the signal', async () => {
    const open = serveOpen('first', (res) => {
      const more = setInterval(() => res.write('more'), 5);
      res.once('close', () => clearInterval(more));
    });
    transport = createHttpFetch();
    const kept = new AbortController();
    const res = await transport.fetch(`${base}/`, { signal: kept.signal });
    const closed = new Promise((resolve) => open()?.once('close', resolve));
    let seen = 0;
    for await (const _chunk of res.body!) if (++seen === 3) break;
    await closed;
    expect(getEventListeners(kept.signal, 'abort')).toHaveLength(0);
  });
});

describe('the SDK over the node:http fetch', () => {
  const ctx = useSimulatorClient();

  it('streams a message with the same events as the SDK on its default fetch', async () => {
    const transport = createHttpFetch();
    try {
      const ours = new Anthropic({ apiKey: 'test', baseURL: ctx.sim.url, maxRetries: 0, fetch: transport.fetch });
      const blocks = [
        { type: 'thinking', thinking: 'Weighing the question at some length.' },
        { type: 'text', text: 'The answer, streamed in many small pieces.' },
      ];
      const request = { ...simRequest({ blocks, chunk: 3 }), stream: true as const };
      // Message ids are random per request; everything else must match.
      const collect = async (client: Anthropic) => {
        const events: unknown[] = [];
        for await (const e of await client.messages.create(request)) {
          events.push(e.type === 'message_start' ? { ...e, message: { ...e.message, id: 'msg' } } : e);
        }
        return events;
      };
      const viaHttp = await collect(ours);
      expect(viaHttp).toEqual(await collect(ctx.client));
      expect(viaHttp.at(-1)).toEqual({ type: 'message_stop' });
    } finally {
      transport.close();
    }
  });

  it('reads an error body a gateway gzipped as the SDK error with its type', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(529, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'retry-after': '3' });
      res.end(gzipSync('{"type":"error","error":{"type":"overloaded_error","message":"busy"}}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const transport = createHttpFetch();
    try {
      const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ours = new Anthropic({ apiKey: 'test', baseURL, maxRetries: 0, fetch: transport.fetch });
      const err = await ours.messages.create({ ...simRequest({}), stream: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
      expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
      expect((err as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('3');
    } finally {
      transport.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('surfaces an upstream HTTP error as the SDK error with its status and retry-after', async () => {
    const transport = createHttpFetch();
    try {
      const ours = new Anthropic({ apiKey: 'test', baseURL: ctx.sim.url, maxRetries: 0, fetch: transport.fetch });
      const err = await ours.messages.create({ ...simRequest({ fault: 'http_529' }), stream: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect((err as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
      expect((err as InstanceType<typeof Anthropic.APIError>).type).toBe('overloaded_error');
    } finally {
      transport.close();
    }
  });
});
