import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiProcess, type NodeProcess } from './support/processes.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

/** A raw connection to `url` that records what the server sends and when it closes. */
function rawSocket(url: string) {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect({ host: hostname, port: Number(port) });
  let got = '';
  socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const opened = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, opened, closed, got: () => got };
}

// Requests that take too long to arrive are cut (408); responses are not, so an SSE stream outlives
// REQUEST_TIMEOUT_MS; an API process holds at most MAX_CONNECTIONS connections.
describe('request and connection limits', () => {
  let sys: TestSystem;
  let api: NodeProcess & { url: string };
  beforeAll(async () => {
    sys = await startSystem({ name: 'limits', workers: 1 });
    api = await startApiProcess({
      REDIS_URL: sys.config.redisUrl,
      KEY_PREFIX: sys.config.keyPrefix,
      REQUEST_TIMEOUT_MS: '1000',
      MAX_CONNECTIONS: '4',
    });
  });
  afterAll(async () => {
    await api.stop();
    await sys.close();
  });

  it('a body trickled slower than REQUEST_TIMEOUT_MS is cut with a 408', async () => {
    const conn = rawSocket(api.url);
    await conn.opened;
    conn.socket.write('POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    const trickle = setInterval(() => conn.socket.write(' '), 200);
    try {
      await Promise.race([conn.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the trickling request was never cut')), 8000))]);
    } finally {
      clearInterval(trickle);
    }
    expect(conn.got()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('headers that never finish are cut too', async () => {
    const conn = rawSocket(api.url);
    await conn.opened;
    conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(() => conn.socket.write('X-Slow: 1\r\n'), 200);
    try {
      await Promise.race([conn.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the slow headers were never cut')), 8000))]);
    } finally {
      clearInterval(trickle);
    }
    expect(conn.got()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('an SSE stream runs past REQUEST_TIMEOUT_MS to its done', async () => {
    const text = Array.from({ length: 50 }, (_, i) => ` w${i}`).join('');
    // Two and a half seconds of streaming.
    const { json } = await submitJob(sys.url, { max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ text, tps: 20 }) }] });
    const view = await readSse(`${api.url}/v1/jobs/${String(json['id'])}/events`);
    checkContiguous(view.events);
    expect(view.events.at(-1)?.event).toBe('done');
    expect(viewerText(view.events)).toBe(text);
  });

  it('past MAX_CONNECTIONS a new connection is closed at once; once one ends, others are served again', async () => {
    const held = Array.from({ length: 4 }, () => rawSocket(api.url));
    await Promise.all(held.map((c) => c.opened));
    // Each held connection has sent a request line, so the server has seen it (not just the kernel).
    for (const c of held) c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 200));
    const extra = rawSocket(api.url);
    extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await extra.closed;
    expect(extra.got()).toBe('');
    for (const c of held) c.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
  });
});
