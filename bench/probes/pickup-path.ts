/**
 * Probe (issue 20): where the queue pick-up's time goes, from the API's `add` of a job to the worker's
 * request to the upstream. One API and one worker process as `npm start` runs them (with their Node
 * flags), on a private redis-server; jobs are submitted one at a time, `gapMs` apart (default 100, as
 * the bench's TTFT scenario does). Times come from two clocks that read the same wall clock in µs:
 * - Redis `MONITOR`: when Redis received each command (the API's BullMQ add, the worker's
 *   `moveToActive`, the worker's `start.lua`);
 * - a TCP relay between the worker and the simulator: when the request's first bytes reached it.
 * Stages per job, medians over the jobs of a round (three rounds):
 * - `wake`: add → `moveToActive` received. Redis answers the worker's `BZPOPMIN` on the marker, the
 *   worker's event loop takes it and BullMQ sends `moveToActive`;
 * - `activate`: `moveToActive` → `start.lua` received. BullMQ's round trip and job parsing, then our
 *   processor up to the attempt's start;
 * - `to upstream`: `start.lua` → the upstream request's first bytes. Its round trip, then the SDK
 *   building and sending the request (a pooled keep-alive connection).
 * Run: `npx tsx bench/probes/pickup-path.ts [jobs] [rounds] [gapMs]` (default 100 3 100);
 * `PROBE_SHOW=1` prints every command Redis saw for the last job of the first round.
 *
 * Found (2026-12-05, quiet 2-core machine, 3 rounds of 100 jobs 100 ms apart): add → upstream request
 * 4.18 ms (4.11–4.83): wake 0.92, activate 0.79, to upstream 2.28. Of "to upstream", 0.4 ms was
 * `client.withOptions` making a whole SDK client per attempt (now once per worker): after, 3.82
 * (3.60–4.02), to upstream 1.89 (1.85–2.00). What is left there is mostly the SDK and undici: in one
 * idle process (100 ms apart) `messages.create` takes 0.48 ms to call its fetch and 1.34 ms until a
 * local server sees the request (0.16 and 0.52 back to back).
 */
import { createHash } from 'node:crypto';
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { addPrioritizedJob } from 'bullmq/dist/esm/scripts/addPrioritizedJob-9.js';
import { addStandardJob } from 'bullmq/dist/esm/scripts/addStandardJob-9.js';
import { moveToActive } from 'bullmq/dist/esm/scripts/moveToActive-11.js';
import { startSimulator } from '../../src/simulator/index.js';
import { messagesBody } from '../genrelay-http.js';
import { answers, freePort, scriptNodeFlags, startNode, startRedisServer, stopAll, waitFor } from '../processes.js';
import { round } from '../stats.js';

const [jobs = 100, rounds = 3, gapMs = 100] = process.argv.slice(2).map(Number);
const sha = (s: string) => createHash('sha1').update(s).digest('hex');
const addShas = new Set([sha(addStandardJob.content), sha(addPrioritizedJob.content)]);
const moveToActiveSha = sha(moveToActive.content);
const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;

const redis = await startRedisServer();
const sim = await startSimulator();

// The relay: the first chunk from the worker after a quiet spell is a request's start.
const upstreamStarts: { at: number; text: string }[] = [];
const simPort = Number(new URL(sim.url).port);
const relay = createServer((client: Socket) => {
  const server = connect(simPort, '127.0.0.1');
  let last = 0;
  client.on('data', (chunk: Buffer) => {
    const at = nowUs();
    if (at - last > 20_000) upstreamStarts.push({ at, text: chunk.toString('latin1') });
    else upstreamStarts.at(-1)!.text += chunk.toString('latin1');
    last = at;
  });
  client.pipe(server).pipe(client);
  client.on('error', () => server.destroy());
  server.on('error', () => client.destroy());
});
await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;

const apiPort = await freePort();
const shared = { REDIS_URL: redis.url, KEY_PREFIX: 'probe', ANTHROPIC_BASE_URL: relayUrl, ANTHROPIC_API_KEY: 'probe', VIEWER_TOKEN_SECRET: 'x'.repeat(32), LOG_LEVEL: 'warn' };
const api = startNode('api', 'src/api/main.ts', { ...shared, HOST: '127.0.0.1', PORT: String(apiPort) }, { nodeFlags: scriptNodeFlags('start:api') });
const worker = startNode('worker', 'src/worker/main.ts', shared, { nodeFlags: scriptNodeFlags('start:worker') });
const base = `http://127.0.0.1:${apiPort}`;
await waitFor('api', () => answers(`${base}/readyz`), api);
// The worker is up once it has run a job to its end (it logs only warnings).
const first = (await (await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(messagesBody({ tokens: 2 }, 20)) })).json()) as { id: string };
await waitFor('worker', async () => ((await (await fetch(`${base}/v1/jobs/${first.id}`)).json()) as { status?: string }).status === 'completed', worker, 60_000);

// MONITOR lines: `<seconds.micros> [<db> <addr>] "<command>" "<arg>" …`.
const monitorLines: { at: number; line: string }[] = [];
const monitorClient = new Redis(redis.url);
const monitor = await monitorClient.monitor();
monitor.on('monitor', (time: string, args: string[]) => monitorLines.push({ at: Number(time) * 1e6, line: args.map(String).join(' ') }));

const median = (xs: number[]) => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};
const perRound: Record<string, number[]>[] = [];
for (let r = -1; r < rounds; r++) {
  const stages: Record<string, number[]> = { wake: [], activate: [], 'to upstream': [], 'add → upstream': [] };
  const n = r < 0 ? 20 : jobs;
  for (let i = 0; i < n; i++) {
    await sleep(gapMs);
    const tag = `pickup-${r}-${i}`;
    monitorLines.length = 0;
    upstreamStarts.length = 0;
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(messagesBody({ tokens: 2, tps: 1000, ttft_ms: 0, tag }, 20)) });
    const { id } = (await res.json()) as { id: string };
    // Until the upstream request arrived and MONITOR has shown what came before it.
    for (let w = 0; w < 200 && !upstreamStarts.some((u) => u.text.includes(tag)); w++) await sleep(5);
    await sleep(20);
    const add = monitorLines.find((m) => m.line.startsWith('evalsha ') && addShas.has(m.line.split(' ')[1] ?? '') && m.line.includes(id));
    const mta = monitorLines.find((m) => add !== undefined && m.at >= add.at && m.line.startsWith(`evalsha ${moveToActiveSha}`));
    const start = monitorLines.find((m) => mta !== undefined && m.at >= mta.at && m.line.startsWith('evalsha ') && m.line.includes(id) && !addShas.has(m.line.split(' ')[1] ?? ''));
    const up = upstreamStarts.find((u) => u.text.includes(tag));
    if (add === undefined || mta === undefined || start === undefined || up === undefined) continue;
    if (process.env['PROBE_SHOW'] === '1' && r === 0 && i === n - 1) {
      for (const m of monitorLines.filter((m) => m.at >= add.at)) console.log(`  +${round((m.at - add.at) / 1000, 3)} ms  ${m.line.slice(0, 110)}`);
      console.log(`  +${round((up.at - add.at) / 1000, 3)} ms  upstream request`);
    }
    stages['wake']!.push((mta.at - add.at) / 1000);
    stages['activate']!.push((start.at - mta.at) / 1000);
    stages['to upstream']!.push((up.at - start.at) / 1000);
    stages['add → upstream']!.push((up.at - add.at) / 1000);
  }
  if (r >= 0) perRound.push(stages);
}
console.log(`${rounds} rounds of ${jobs} jobs, ${gapMs} ms apart; ms, median of the round medians (range):`);
for (const name of Object.keys(perRound[0] ?? {})) {
  const meds = perRound.map((s) => median(s[name] ?? []));
  console.log(`  ${name.padEnd(16)} ${round(median(meds), 3)} (${round(Math.min(...meds), 3)}–${round(Math.max(...meds), 3)})  [samples ${perRound.map((s) => s[name]?.length).join(', ')}]`);
}
monitor.disconnect();
monitorClient.disconnect();
relay.close();
await sim.close();
await stopAll();
