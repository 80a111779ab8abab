/**
 * Probe: where the time of `POST /v1/jobs` → 202 goes (issue 20). One API runs in this process on a
 * private redis-server; sequential submissions from a keep-alive `node:http` client are timed stage by
 * stage, without touching src/:
 * - `in`: the client's write → the server's `request` event (HTTP parsing, the loopback hop);
 * - `pre`: `request` → the first Redis command (body parser, auth, zod, hashing, ids);
 * - each Redis command the request sends, `send → reply` (ioredis' `sendCommand`, wrapped here), and
 *   `gap` the time between one command's reply and the next command (our code and BullMQ's in between);
 * - `post`: the last reply → the response's `finish` (token, JSON, write);
 * - `out`: `finish` → the client's `end`.
 * Beside it, the floors in the same run: a bare `node:http` server answering 202 to the same client, and
 * an ioredis PING. Run: `npx tsx bench/probes/submit-path.ts [requests] [rounds]` (default 400 3); `PROBE_CLIENT=fetch`
 * and `PROBE_GAP_MS=100` as the bench's TTFT scenario submits.
 *
 * Found (2026-12-05, quiet 2-core machine, medians of 3 rounds; docs/performance.md has the table):
 * back to back the client sees 1.51 ms, of which pre 0.36, the three scripts 0.27 + 0.23 + 0.16, post
 * 0.19, against a bare node:http 202 at 0.16 ms. With fetch and 100 ms between submissions every stage
 * is 2-3x slower, floors too (bare 202: 1.56 ms): waking idle processes costs more than our code.
 */
import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startApi } from '../../src/api/create-api.js';
import { loadConfig } from '../../src/shared/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { messagesBody } from '../genrelay-http.js';
import { startRedisServer, stopAll } from '../processes.js';
import { round } from '../stats.js';

const [requests = 400, rounds = 3] = process.argv.slice(2).map(Number);
// PROBE_CLIENT=fetch submits with undici's fetch (as the bench does); PROBE_GAP_MS idles between
// submissions (the bench's TTFT pairs leave ~100 ms between them).
const useFetch = process.env['PROBE_CLIENT'] === 'fetch';
const gapMs = Number(process.env['PROBE_GAP_MS'] ?? 0);

interface Sent { readonly name: string; readonly at: number; done?: number }
let commands: Sent[] | undefined;
const original = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, command: Parameters<Redis['sendCommand']>[0], stream?: Parameters<Redis['sendCommand']>[1]) {
  const c = command as unknown as { name: string; promise: Promise<unknown> };
  if (commands !== undefined && c.name !== 'bzpopmin') {
    const sent: Sent = { name: c.name === 'evalsha' ? `evalsha ${(command as unknown as { args: unknown[] }).args[0]?.toString().slice(0, 6)}` : c.name, at: performance.now() };
    commands.push(sent);
    void c.promise.then(() => (sent.done = performance.now()), () => (sent.done = performance.now()));
  }
  return original.call(this, command, stream);
} as Redis['sendCommand'];

const { url: redisUrl } = await startRedisServer();
const config = loadConfig({ REDIS_URL: redisUrl, KEY_PREFIX: 'probe', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn', VIEWER_TOKEN_SECRET: 'x'.repeat(32) });
const api = await startApi(config, createLogger('warn', 'api'));
const bare = await listenBare();
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const body = JSON.stringify(messagesBody({ tokens: 5 }, 50));

let serverMarks: { request?: number; finish?: number } = {};
api.server.prependListener('request', (_req, res) => {
  serverMarks.request = performance.now();
  res.once('finish', () => (serverMarks.finish = performance.now()));
});

/** One POST to `url`; the client's write and end times. */
async function post(url: string): Promise<{ start: number; end: number; status: number }> {
  if (useFetch) {
    const start = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await res.arrayBuffer();
    return { start, end: performance.now(), status: res.status };
  }
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = httpRequest(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve({ start, end: performance.now(), status: res.statusCode ?? 0 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};

const ping = new Redis(redisUrl);
for (let r = -1; r < rounds; r++) {
  const stages = new Map<string, number[]>();
  const add = (k: string, v: number) => (stages.get(k) ?? stages.set(k, []).get(k)!).push(v);
  const n = r < 0 ? 100 : requests;
  for (let i = 0; i < n; i++) {
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    commands = [];
    serverMarks = {};
    const { start, end, status } = await post(`${api.url}/v1/jobs`);
    if (status !== 202) throw new Error(`HTTP ${status}`);
    const { request = NaN, finish = NaN } = serverMarks;
    add('total (client)', end - start);
    add('in', request - start);
    const mine = commands.filter((c) => c.at >= request && c.at <= finish);
    let last = request;
    mine.forEach((c, k) => {
      add(k === 0 ? 'pre' : `gap before ${k + 1}`, c.at - last);
      add(`redis ${k + 1}: ${c.name}`, (c.done ?? NaN) - c.at);
      last = c.done ?? NaN;
    });
    add('post', finish - last);
    add('out', end - finish);
    add('redis commands', mine.length);
  }
  commands = undefined;
  const floorHttp: number[] = [];
  const floorPing: number[] = [];
  for (let i = 0; i < n; i++) {
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    const { start, end } = await post(bare.url);
    floorHttp.push(end - start);
    const t = performance.now();
    await ping.ping();
    floorPing.push(performance.now() - t);
  }
  if (r < 0) continue;
  console.log(`\nround ${r + 1}: ${n} sequential submissions, median ms per stage`);
  for (const [k, v] of stages) console.log(`  ${k.padEnd(34)} ${round(median(v), 3)}`);
  console.log(`  ${'floor: bare node:http 202'.padEnd(34)} ${round(median(floorHttp), 3)}`);
  console.log(`  ${'floor: ioredis PING'.padEnd(34)} ${round(median(floorPing), 3)}`);
}
ping.disconnect();
agent.destroy();
bare.server.close();
await api.close();
await stopAll();

/** A bare HTTP server that reads the body and answers 202 with a small JSON, the floor of any API. */
async function listenBare(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"id":"x","status":"queued"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
