/**
 * Probe: what reading the upstream costs the worker per delta, by transport under the SDK. One
 * simulator process; for each transport, a fresh child process (the worker's Node flags) streams `n`
 * generations at once through the real SDK (`messages.create`, `stream: true`, as `run-attempt.ts`)
 * and counts CPU (utime + stime) over a window against the content deltas it read:
 * - `undici`: the SDK's default, Node's global `fetch`;
 * - `undici+watch`: the same with the pull-through stream the worker used to put on every body to see
 *   bytes arrive for its idle watchdog (the worker before `http-fetch.ts`);
 * - `http`: `createHttpFetch` (`src/worker/http-fetch.ts`), with an activity callback per chunk as the
 *   worker has;
 * - `raw`: no SDK: the same requests over `node:http`, deltas counted by scanning the chunks for
 *   `content_block_delta`: the floor of reading the sockets at all, so `http` − `raw` is the SDK's part;
 * - `raw+redis`: `raw`, and for each chunk one EVALSHA (a PUBLISH of the chunk) through ioredis with
 *   auto-pipelining, each stream waiting for its previous write as the event writer does: the floor of
 *   a worker that reads a delta and writes it to Redis (the Redis at `REDIS_URL`, default 6379);
 * - `http+batch`: `http`, and every content delta's text written to Redis the way the worker gathers
 *   its jobs' appends under load: the deltas of one event-loop turn leave as one EVALSHA (a PUBLISH
 *   per job) at the end of the turn. The floor of a worker that keeps the SDK and batches its writes,
 *   with none of genrelay's own work (translator, event writer, replay guard, record, locks).
 * Run: `npx tsx bench/probes/upstream-transport.ts [generations] [seconds] [rounds]` (default 100 10 3);
 * each round runs every transport once, in a rotated order. `PROBE_ONLY=http,raw` runs only those. 10 deltas/s per generation, as the bench's
 * worker scenario.
 */
import { setMaxListeners } from 'node:events';
import Anthropic from '@anthropic-ai/sdk';
import { createHttpFetch } from '../../src/worker/http-fetch.js';
import { messagesBody } from '../genrelay-http.js';
import { freePort, scriptNodeFlags, startNode, stopAll, waitFor } from '../processes.js';
import { round, summarize } from '../stats.js';

const allTransports = ['undici', 'undici+watch', 'http', 'raw', 'raw+redis', 'http+batch'] as const;
type Transport = (typeof allTransports)[number];
const only = process.env['PROBE_ONLY']?.split(',');
const transports = only === undefined ? allTransports : allTransports.filter((t) => only.includes(t));
const DELTAS_PER_S = 10;

interface ChildResult {
  readonly transport: Transport;
  readonly deltas: number;
  readonly userUs: number;
  readonly systemUs: number;
  /** `http+batch`: the EVALSHA calls made in the window. */
  readonly writes?: number;
}

/** The `raw` transport's keep-alive agent, and the child's one ioredis client (declared before the child runs). */
let rawAgent: import('node:http').Agent | undefined;
let redisClient: Promise<import('ioredis').Redis> | undefined;

/** The child's ioredis client (auto-pipelining, as the worker's), with `source` loaded: its SHA. */
async function redisWithScript(source: string): Promise<{ redis: import('ioredis').Redis; sha: string }> {
  redisClient ??= import('ioredis').then(
    ({ Redis }) => new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true, maxRetriesPerRequest: null }),
  );
  const redis = await redisClient;
  return { redis, sha: (await redis.script('LOAD', source)) as string };
}

/**
 * One stream's writer for `raw+redis`: a chunk is written at once when none is in flight, else it
 * waits and goes with whatever came meanwhile (the event writer's self-clocking batching).
 */
async function chunkWriter(): Promise<(text: string) => void> {
  const { redis, sha } = await redisWithScript("return redis.call('PUBLISH', KEYS[1], ARGV[1])");
  const channel = `probe:upstream-transport:${Math.random().toString(36).slice(2)}`;
  let pending = '';
  let inFlight = false;
  const pump = async () => {
    inFlight = true;
    while (pending !== '') {
      const text = pending;
      pending = '';
      await redis.evalsha(sha, 1, channel, text);
    }
    inFlight = false;
  };
  return (text) => {
    pending += text;
    if (!inFlight) void pump();
  };
}

/** `http+batch`'s writer: one stream's text is queued, and the turn's texts leave as one EVALSHA. */
async function turnWriter(): Promise<(text: string) => void> {
  const { redis, sha } = await redisWithScript("for i, k in ipairs(KEYS) do redis.call('PUBLISH', k, ARGV[i]) end return #KEYS");
  const channel = `probe:upstream-transport:${Math.random().toString(36).slice(2)}`;
  return (text) => {
    turnBatch.push([channel, text]);
    if (turnBatch.length === 1) {
      setImmediate(() => {
        const batch = turnBatch;
        turnBatch = [];
        turnWrites += 1;
        void redis.evalsha(sha, batch.length, ...batch.map((b) => b[0]), ...batch.map((b) => b[1]));
      });
    }
  };
}
let turnBatch: [string, string][] = [];
let turnWrites = 0;

if (process.argv[2] === 'child') await child();
else await parent();

async function parent(): Promise<void> {
  const [n = 100, seconds = 10, rounds = 3] = process.argv.slice(2).map(Number);
  const simPort = await freePort();
  const sim = startNode('simulator', 'src/simulator/main.ts', { SIM_PORT: String(simPort) });
  const simUrl = `http://127.0.0.1:${simPort}`;
  await waitFor('the simulator', async () => sim.output().includes('listening on'), sim);
  const results: ChildResult[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < transports.length; i++) {
        const transport = transports[(i + r) % transports.length] as Transport;
        const result = await runChild(transport, simUrl, n, seconds);
        results.push(result);
        console.log(`round ${r + 1} ${transport}: ${round((result.userUs + result.systemUs) / result.deltas, 1)} µs per delta (user ${round(result.userUs / result.deltas, 1)}, system ${round(result.systemUs / result.deltas, 1)}), ${result.deltas} deltas${result.writes === undefined ? '' : `, ${round(result.writes / result.deltas, 3)} EVALSHA per delta`}`);
      }
    }
  } finally {
    await stopAll();
  }
  console.log(`\n${n} generations × ${DELTAS_PER_S} deltas/s, ${seconds} s windows, ${rounds} rounds: CPU µs per delta, median (range)`);
  for (const t of transports) {
    const mine = results.filter((x) => x.transport === t);
    const totals = mine.map((x) => (x.userUs + x.systemUs) / x.deltas);
    const total = summarize(totals);
    const user = summarize(mine.map((x) => x.userUs / x.deltas));
    const system = summarize(mine.map((x) => x.systemUs / x.deltas));
    console.log(`${t.padEnd(13)} total ${round(total.p50, 1)} (${round(Math.min(...totals), 1)}–${round(total.max, 1)})  user ${round(user.p50, 1)}  system ${round(system.p50, 1)}`);
  }
}

/** Runs one child process for `transport` and returns what it measured. */
async function runChild(transport: Transport, simUrl: string, n: number, seconds: number): Promise<ChildResult> {
  const { spawn } = await import('node:child_process');
  const flags = scriptNodeFlags('start:worker');
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', 'bench/probes/upstream-transport.ts', 'child', transport, simUrl, String(n), String(seconds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`child ${transport} exited ${code}: ${out}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ChildResult;
}

async function child(): Promise<void> {
  const [, , , transportArg, simUrl = '', nArg = '100', secondsArg = '10'] = process.argv;
  const transport = transportArg as Transport;
  const n = Number(nArg);
  const seconds = Number(secondsArg);
  let activity = 0;
  const onActivity = () => {
    activity += 1;
  };
  const http = transport === 'http' || transport === 'http+batch' ? createHttpFetch({ activityOf: () => onActivity }) : undefined;
  const fetchOption = http !== undefined ? { fetch: http.fetch } : transport === 'undici+watch' ? { fetch: pullThroughFetch(onActivity) } : {};
  const client = new Anthropic({ apiKey: 'probe', baseURL: simUrl, maxRetries: 0, ...fetchOption });
  const deltasEach = DELTAS_PER_S * (seconds + 20);
  const controller = new AbortController();
  // Every stream of the child listens on this one signal.
  setMaxListeners(0, controller.signal);
  let deltas = 0;
  let started = 0;
  const streams = Array.from({ length: n }, async () => {
    const body = messagesBody({ tokens: deltasEach, tps: DELTAS_PER_S, ttft_ms: 20, tokens_per_delta: 5 }, deltasEach * 5 + 10);
    if (transport === 'raw' || transport === 'raw+redis') {
      const write = transport === 'raw' ? undefined : await chunkWriter();
      await rawStream(`${simUrl}/v1/messages`, JSON.stringify({ ...body, stream: true }), controller.signal, () => (started += 1), (k, text) => {
        deltas += k;
        write?.(text);
      });
      return;
    }
    const write = transport === 'http+batch' ? await turnWriter() : undefined;
    const stream = await client.messages.create({ ...body, stream: true }, { signal: controller.signal });
    started += 1;
    for await (const event of stream) {
      if (event.type !== 'content_block_delta') continue;
      deltas += 1;
      if (write !== undefined && event.delta.type === 'text_delta') write(event.delta.text);
    }
  });
  while (started < n) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 2000));
  const d0 = deltas;
  const w0 = turnWrites;
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const c1 = process.cpuUsage(c0);
  const d1 = deltas;
  const writes = turnWrites - w0;
  controller.abort();
  await Promise.allSettled(streams);
  http?.close();
  if (redisClient !== undefined) (await redisClient).disconnect();
  const result: ChildResult = { transport, deltas: d1 - d0, userUs: c1.user, systemUs: c1.system, ...(transport === 'http+batch' ? { writes } : {}) };
  void activity;
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

/** One streamed request over `node:http` with no SDK: counts `content_block_delta` in the chunks. */
async function rawStream(url: string, body: string, signal: AbortSignal, onHead: () => void, onDeltas: (k: number, text: string) => void): Promise<void> {
  const { request, Agent } = await import('node:http');
  rawAgent ??= new Agent({ keepAlive: true });
  const marker = 'content_block_delta';
  await new Promise<void>((resolve) => {
    const req = request(url, { method: 'POST', agent: rawAgent, signal, headers: { 'content-type': 'application/json', 'x-api-key': 'probe', 'anthropic-version': '2023-06-01' } }, (res) => {
      onHead();
      res.setEncoding('utf8');
      // Each event names its type twice (the `event:` line and the data's `type`).
      res.on('data', (text: string) => {
        let k = 0;
        for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + marker.length)) k += 1;
        onDeltas(k / 2, text);
      });
      res.once('close', resolve);
    });
    req.once('error', () => resolve());
    req.end(body);
  });
}
/** The worker's former watched fetch: undici's `fetch`, its body re-streamed to see each chunk. */
function pullThroughFetch(onActivity: () => void): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    onActivity();
    if (res.body === null) return res;
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) {
            controller.close();
            return;
          }
          onActivity();
          controller.enqueue(value);
        },
        cancel(reason) {
          return reader.cancel(reason);
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
