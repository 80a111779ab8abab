/**
 * Probe: where one delta's time goes between the upstream and Redis, at low load. One job streams
 * through a real worker process (the flags of `npm run start:worker`) while this process, otherwise
 * idle, reads the same kind of stream directly with the SDK. Per stamped delta:
 * - `sdk`: simulator write → the SDK's `content_block_delta` here (the floor of any SDK reader);
 * - `redis`: simulator write → Redis receiving the worker's EVALSHA (from `MONITOR`, whose times are
 *   the same machine's wall clock, µs), i.e. the worker's share;
 * - `hop`: simulator write → the event's SPUBLISH arriving at a subscriber here (the worker hop the
 *   bench's targets speak of: within 0.5 ms of `sdk`).
 * Run: `npx tsx bench/probes/worker-hop.ts [deltas/s] [seconds] [rounds]` (default 50 10 3); profile
 * the worker with `PROBE_PROFILE=1` (`--cpu-prof` into bench/profiles/worker-hop-*); the per-stage trace
 * inside the worker is `bench/profiles/kept/worker-hop-trace.patch` (see the README there).
 */
import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import { jobKeys } from '../../src/shared/keys.js';
import { forEachStamp, wallClockMs } from '../../src/simulator/stamp.js';
import { messagesBody, submitJob } from '../genrelay-http.js';
import { answers, freePort, scriptNodeFlags, startNode, startRedisServer, stopAll, waitFor } from '../processes.js';
import { round, summarize } from '../stats.js';

const [tps = 50, seconds = 10, rounds = 3] = process.argv.slice(2).map(Number);
const profile = process.env['PROBE_PROFILE'] === '1';

const { proc: redisProc, url: redisUrl } = await startRedisServer();
void redisProc;
const simPort = await freePort();
const sim = startNode('simulator', 'src/simulator/main.ts', { SIM_PORT: String(simPort) });
const simUrl = `http://127.0.0.1:${simPort}`;
await waitFor('the simulator', async () => sim.output().includes('listening on'), sim);
const keyPrefix = 'hop';
const shared = { REDIS_URL: redisUrl, KEY_PREFIX: keyPrefix, LOG_LEVEL: 'warn', ANTHROPIC_BASE_URL: simUrl, ANTHROPIC_API_KEY: 'probe', VIEWER_TOKEN_SECRET: 'x'.repeat(32) };
const apiPort = await freePort();
const api = startNode('api', 'src/api/main.ts', { ...shared, HOST: '127.0.0.1', PORT: String(apiPort) }, { nodeFlags: scriptNodeFlags('start:api') });
const apiUrl = `http://127.0.0.1:${apiPort}`;
await waitFor('the API', () => answers(`${apiUrl}/healthz`), api);
// HOP_TRACE passes through for the stage trace of bench/profiles/kept/worker-hop-trace.patch.
const trace = process.env['HOP_TRACE'];
const worker = startNode('worker-hop', 'src/worker/main.ts', { ...shared, ...(trace === undefined ? {} : { HOP_TRACE: trace }) }, { nodeFlags: scriptNodeFlags('start:worker'), profile });

const sdk = new Anthropic({ apiKey: 'probe', baseURL: simUrl, maxRetries: 0 });
const sub = new Redis(redisUrl);
// PROBE_MONITOR=0 leaves MONITOR off (it costs Redis time per command): no `redis` column then.
const monitor = process.env['PROBE_MONITOR'] === '0' ? undefined : await new Redis(redisUrl).monitor();

const rows: Record<string, unknown>[] = [];
for (let r = -1; r < rounds; r++) {
  const warm = r < 0;
  const holdMs = 1000;
  const tokens = Math.ceil(tps * ((warm ? 2 : seconds) + 2));
  const id = await submitJob(apiUrl, { tokens, tps, ttft_ms: holdMs, stamp: true }, tokens + 10);
  const keys = jobKeys(keyPrefix, id);
  const hop: number[] = [];
  const atRedis: number[] = [];
  const direct: number[] = [];
  await sub.ssubscribe(keys.channel);
  const onMessage = (channel: string, message: string) => {
    const at = wallClockMs();
    if (channel === keys.channel) forEachStamp(message, (s) => hop.push(at - s));
  };
  sub.on('smessage', onMessage);
  const onMonitor = (time: string, args: string[]) => {
    if (args[0]?.toLowerCase() !== 'evalsha' || !args.some((a) => a.includes(`{job:${id}}`))) return;
    const at = Number(time) * 1000;
    // MONITOR escapes bytes outside ASCII: ⟨ and ⟩ come as \xe2\x9f\xa8 and \xe2\x9f\xa9.
    for (const a of args) forEachStamp(a.replaceAll('\\xe2\\x9f\\xa8', '\u27e8').replaceAll('\\xe2\\x9f\\xa9', '\u27e9'), (s) => atRedis.push(at - s));
  };
  monitor?.on('monitor', onMonitor);
  await new Promise((resolve) => setTimeout(resolve, holdMs - 100));
  const stream = await sdk.messages.create({ ...messagesBody({ tokens, tps, ttft_ms: 0, stamp: true }, tokens + 10), stream: true });
  for await (const event of stream) {
    if (event.type !== 'content_block_delta' || event.delta.type !== 'text_delta') continue;
    const at = wallClockMs();
    forEachStamp(event.delta.text, (s) => direct.push(at - s));
  }
  await new Promise((resolve) => setTimeout(resolve, 1500));
  sub.off('smessage', onMessage);
  monitor?.off('monitor', onMonitor);
  await sub.sunsubscribe(keys.channel);
  if (warm) continue;
  const s = summarize(direct);
  const w = summarize(atRedis);
  const h = summarize(hop);
  rows.push({
    round: r,
    n: `${s.n}/${w.n}/${h.n}`,
    sdk_p50: round(s.p50, 3), redis_p50: round(w.p50, 3), hop_p50: round(h.p50, 3),
    sdk_p99: round(s.p99, 3), redis_p99: round(w.p99, 3), hop_p99: round(h.p99, 3),
    'hop-sdk_p50': round(h.p50 - s.p50, 3),
  });
}
console.table(rows);
if (worker.child.exitCode !== null) console.error(`the worker exited:\n${worker.output()}`);
sub.disconnect();
monitor?.disconnect();
const stats = String(await new Redis(redisUrl).info('commandstats')).split('\n').filter((l) => /evalsha|spublish|xadd/.test(l));
console.log(stats.join('\n'));
await stopAll();
process.exit(0);
