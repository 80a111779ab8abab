import { Redis } from 'ioredis';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKeys } from '../src/shared/keys.js';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { readSse, type SseEvent } from './support/sse.js';
import { metric } from './support/stalled-reader.js';
import { eventually, getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

/** Sends `request` on a raw socket and resolves with every byte the server sent until it closed. */
function rawExchange(url: string, request: string, timeoutMs = 5000): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.write(request));
    let got = '';
    socket.on('data', (b: Buffer) => (got += b.toString('latin1')));
    socket.on('close', () => resolve(got));
    socket.on('error', reject);
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got: ${got.slice(0, 300)}`));
    });
  });
}

// Streams that must end, and viewers that must not outlive their client: a cursor past the last
// event, a client that hangs up while the route waits on Redis, a job that Redis lost, HEAD.
describe('streams that always end', () => {
  let server: RedisServerHandle;
  let admin: Redis;
  let sys: TestSystem;
  beforeAll(async () => {
    // A private Redis: these tests pause it and restart it without its data.
    server = await startRedisServer();
    admin = new Redis(server.url, { maxRetriesPerRequest: null });
    admin.on('error', () => {});
    sys = await startSystem({ name: 'streams-end', env: { REDIS_URL: server.url, KEEPALIVE_MS: '500' } });
  });
  afterAll(async () => {
    await sys.close();
    admin.disconnect();
    await server.stop();
  });
  const longJob = async (tag: string) => {
    const { json } = await submitJob(sys.url, {
      max_tokens: 1000,
      messages: [{ role: 'user', content: simPrompt({ tokens: 600, tps: 20, tag }) }],
    });
    const id = String(json['id']);
    await eventually(async () => (String((await getRecord(sys.url, id))['text']).length > 0 ? true : undefined));
    return id;
  };
  const metrics = async () => (await fetch(`${sys.url}/metrics`)).text();

  it('a resume cursor past the last event is a 400 naming it, not a stream that never ends', async () => {
    const id = await longJob('cursor-ahead');
    const seq = Number(await admin.hget(jobKeys(sys.config.keyPrefix, id).record, 'seq'));
    for (const [headers, query, path] of [
      [{ 'last-event-id': String(seq + 1000) }, '', 'header:Last-Event-ID'],
      [{}, `?last_event_id=${seq + 1000}`, 'query:last_event_id'],
    ] as const) {
      const res = await fetch(`${sys.url}/v1/jobs/${id}/events${query}`, { headers, signal: AbortSignal.timeout(5000) });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await res.json()) as { errors: { path: string; message: string }[] };
      expect(problem.errors[0]).toMatchObject({ path, message: expect.stringMatching(/past the job's last event/) });
    }
    await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
  });

  it('a client that hangs up while the route waits on Redis leaves no viewer, subscription or presence behind', async () => {
    const id = await longJob('phantom');
    const channel = jobKeys(sys.config.keyPrefix, id).channel;
    const before = metric(await metrics(), 'genrelay_viewers{transport="sse"}');
    // Redis holds every command for 600 ms: the route is waiting on it when the client goes.
    await admin.client('PAUSE', '600', 'ALL');
    const { hostname, port } = new URL(sys.url);
    await new Promise<void>((resolve) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.write(`GET /v1/jobs/${id}/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 200);
      });
    });
    // Past the pause, and past a presence flush.
    await new Promise((r) => setTimeout(r, 1200));
    expect(metric(await metrics(), 'genrelay_viewers{transport="sse"}')).toBe(before);
    expect(await admin.pubsub('SHARDNUMSUB', channel)).toEqual([channel, 0]);
    expect((await getRecord(sys.url, id))['viewers']).toBe(0);
    await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
  });

  it('HEAD of the events answers the stream headers and no body', async () => {
    const id = await longJob('head');
    const got = await rawExchange(sys.url, `HEAD /v1/jobs/${id}/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(got.startsWith('HTTP/1.1 200 ')).toBe(true);
    expect(got).toMatch(/\r\ncontent-type: text\/event-stream/i);
    expect(got.slice(got.indexOf('\r\n\r\n') + 4)).toBe('');
    await fetch(`${sys.url}/v1/jobs/${id}/cancel`, { method: 'POST' });
  });

  // Last: it restarts Redis without its data.
  it('viewers of a job that Redis lost are ended, and their reconnect is a 404', async () => {
    const id = await longJob('lost');
    const seen: SseEvent[] = [];
    const viewing = readSse(`${sys.url}/v1/jobs/${id}/events`, { onEvent: (e) => seen.push(e) });
    await eventually(async () => (seen.length > 3 ? true : undefined));
    await server.kill();
    await server.restart();
    const view = await Promise.race([
      viewing,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the viewer of the lost job was never ended')), 15_000)),
    ]);
    expect(view.endedByServer).toBe(true);
    expect(view.events.some((e) => e.event === 'done')).toBe(false);
    const again = await fetch(`${sys.url}/v1/jobs/${id}/events`, { headers: { 'last-event-id': String(seen.at(-1)?.id) } });
    expect(again.status).toBe(404);
    expect((await fetch(`${sys.url}/v1/jobs/${id}`)).status).toBe(404);
  });
});
