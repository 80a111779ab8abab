/**
 * Probe (issue 20): how many submissions a second one API process sustains with a worker taking them,
 * beside what the same process serves of `GET /v1/jobs/{id}`. A private redis-server, the simulator,
 * one API and one worker process (`WORKER_CONCURRENCY=200`, jobs of 5 deltas that end at once); this
 * process is the client: `concurrency` keep-alive loops with undici's fetch for `seconds` per phase.
 * Per phase: requests answered per second, the API's CPU (% of a core) and its CPU per request (µs),
 * the figure that moves least with the machine. Rounds alternate the two phases; medians and ranges.
 * Run: `npx tsx bench/probes/submit-throughput.ts [seconds] [rounds] [concurrency]` (default 8 3 32).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startCpus } from '../proc-stats.js';
import { freePort, startNode, startRedisServer, stopAll, waitFor, answers } from '../processes.js';
import { messagesBody } from '../genrelay-http.js';
import { round } from '../stats.js';

const [seconds = 8, rounds = 3, concurrency = 32] = process.argv.slice(2).map(Number);

const redis = await startRedisServer();
const simPort = await freePort();
const sim = startNode('simulator', 'src/simulator/main.ts', { SIM_PORT: String(simPort) });
await waitFor('the simulator', async () => sim.output().includes('listening on'), sim);
const apiPort = await freePort();
const shared = {
  REDIS_URL: redis.url,
  KEY_PREFIX: 'probe',
  ANTHROPIC_BASE_URL: `http://127.0.0.1:${simPort}`,
  ANTHROPIC_API_KEY: 'probe',
  VIEWER_TOKEN_SECRET: 'x'.repeat(32),
  LOG_LEVEL: 'warn',
};
// PROBE_PROFILE=1: the API writes a CPU profile to bench/profiles/ when it stops.
const api = startNode('api', 'src/api/main.ts', { ...shared, HOST: '127.0.0.1', PORT: String(apiPort) }, { profile: process.env['PROBE_PROFILE'] === '1' });
startNode('worker', 'src/worker/main.ts', { ...shared, WORKER_CONCURRENCY: '200' });
const base = `http://127.0.0.1:${apiPort}`;
await waitFor('api', () => answers(`${base}/readyz`), api);

const body = JSON.stringify(messagesBody({ tokens: 5, tps: 1000, ttft_ms: 0 }, 50));
const submit = async (): Promise<string> => {
  const res = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const json = (await res.json()) as { id?: string };
  if (res.status !== 202 || json.id === undefined) throw new Error(`POST ${res.status}`);
  return json.id;
};
const someId = await submit();
const read = async (): Promise<void> => {
  const res = await fetch(`${base}/v1/jobs/${someId}`);
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`GET ${res.status}`);
};

/** `concurrency` loops of `call` for `seconds`: answers per second and the API's CPU. */
async function phase(call: () => Promise<unknown>): Promise<{ perS: number; cpuPct: number; usPerReq: number }> {
  let done = 0;
  const until = Date.now() + seconds * 1000;
  const cpu = startCpus({ api: api.pid });
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until) {
      await call();
      done += 1;
    }
  }));
  const elapsed = (Date.now() - started) / 1000;
  const cpuPct = cpu.stop()['api'] ?? Number.NaN;
  return { perS: done / elapsed, cpuPct, usPerReq: ((cpuPct / 100) * elapsed * 1e6) / done };
}

const results: Record<string, { perS: number[]; cpuPct: number[]; usPerReq: number[] }> = {};
const keep = (name: string, r: { perS: number; cpuPct: number; usPerReq: number }) => {
  const k = (results[name] ??= { perS: [], cpuPct: [], usPerReq: [] });
  k.perS.push(r.perS);
  k.cpuPct.push(r.cpuPct);
  k.usPerReq.push(r.usPerReq);
};
// A warm-up of each, then the rounds.
await phase(submit);
await phase(read);
for (let r = 0; r < rounds; r++) {
  keep('POST /v1/jobs', await phase(submit));
  await sleep(2000); // the worker drains what was submitted
  keep('GET /v1/jobs/{id}', await phase(read));
}
const med = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1]! + s[s.length >> 1]!) / 2;
};
const fmt = (xs: number[], digits: number) => `${round(med(xs), digits)} (${round(Math.min(...xs), digits)}–${round(Math.max(...xs), digits)})`;
console.log(`${rounds} rounds of ${seconds} s, ${concurrency} concurrent requests, medians (range):`);
for (const [name, r] of Object.entries(results)) {
  console.log(`  ${name.padEnd(20)} ${fmt(r.perS, 0)} answers/s, API ${fmt(r.cpuPct, 1)} % of a core, ${fmt(r.usPerReq, 0)} µs API CPU per request`);
}
await stopAll();
