/**
 * Probe: what an open viewer page costs Redis per minute, by the way it reads its counters. Starts
 * Redis, the simulator, an API and a worker; a job streams a 200,000-character answer and then stalls
 * (still `running`, as a page sees a long answer mid-way). N page-equivalent viewers each hold the
 * job's SSE stream (the text, as the page gets it) and poll every 2 s, at spread-out phases, as the
 * viewer page does:
 *   - `record`: `GET /v1/jobs/{id}` (the page before issue 19 §3: the whole record, text included),
 *   - `stats`:  `GET /v1/jobs/{id}/stats` (the page after: counters only, shared per node for 1 s),
 *   - `none`:   the SSE streams alone (the baseline both are measured against).
 * For each, Redis commands (`INFO commandstats`) and bytes Redis sent (`INFO stats`
 * total_net_output_bytes) over a window, minus the baseline, per viewer per minute. Each run uses a
 * fresh job and fresh viewers; the summary is the median of the runs with the range.
 * Run: `npx tsx bench/probes/page-redis-cost.ts [viewers=20] [windowS=30] [runs=3]`.
 */
import { Redis } from 'ioredis';
import { submitJob } from '../genrelay-http.js';
import { answers, freePort, scriptNodeFlags, startNode, startRedisServer, stopAll, waitFor } from '../processes.js';
import { commandCalls, diffCalls, totalCalls } from '../redis-stats.js';

const viewers = Number(process.argv[2] ?? 20);
const windowS = Number(process.argv[3] ?? 30);
const runs = Number(process.argv[4] ?? 3);
const answerChars = 200_000;
const pollMs = 2000;
type Mode = 'none' | 'record' | 'stats';

const { url: redisUrl } = await startRedisServer();
const redis = new Redis(redisUrl);
const simPort = await freePort();
const sim = startNode('simulator', 'src/simulator/main.ts', { SIM_PORT: String(simPort) });
await waitFor('sim', async () => sim.output().includes('listening on'), sim);
const shared = {
  REDIS_URL: redisUrl, KEY_PREFIX: 'pc', LOG_LEVEL: 'warn', ANTHROPIC_BASE_URL: `http://127.0.0.1:${simPort}`,
  ANTHROPIC_API_KEY: 'p', VIEWER_TOKEN_SECRET: 'x'.repeat(32), UPSTREAM_IDLE_TIMEOUT_MS: '3600000', MAX_DURATION_MS: '3600000',
};
const apiPort = await freePort();
const api = startNode('api', 'src/api/main.ts', { ...shared, HOST: '127.0.0.1', PORT: String(apiPort) }, { nodeFlags: scriptNodeFlags('start:api') });
const apiUrl = `http://127.0.0.1:${apiPort}`;
await waitFor('api', () => answers(`${apiUrl}/healthz`), api);
startNode('worker', 'src/worker/main.ts', shared, { nodeFlags: scriptNodeFlags('start:worker') });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const outputBytes = async () => Number(/^total_net_output_bytes:(\d+)/m.exec(await redis.info('stats'))?.[1]);

/** A job whose text reaches `answerChars` and then stalls, still running. */
async function stalledJob(): Promise<string> {
  const chunk = 200;
  const deltas = answerChars / chunk;
  const id = await submitJob(apiUrl, { tokens: deltas + 1, chunk, tps: 500, fault: 'stall', fault_after: deltas }, deltas * 2);
  for (;;) {
    const record = (await (await fetch(`${apiUrl}/v1/jobs/${id}`)).json()) as { status: string; text: string };
    if (record.status === 'running' && record.text.length >= answerChars) return id;
    if (record.status !== 'queued' && record.status !== 'running') throw new Error(`job ended ${record.status}`);
    await sleep(200);
  }
}

/** Measures one window of `mode` with `viewers` page-equivalents on job `id`; Redis totals per minute. */
async function window(id: string, mode: Mode): Promise<{ commands: number; bytes: number; byCommand: Record<string, number> }> {
  const stop = new AbortController();
  await Promise.all(Array.from({ length: viewers }, async () => {
    const res = await fetch(`${apiUrl}/v1/jobs/${id}/events`, { signal: stop.signal });
    void res.body?.pipeTo(new WritableStream()).catch(() => {});
  }));
  const path = mode === 'record' ? `/v1/jobs/${id}` : `/v1/jobs/${id}/stats`;
  const pollers = mode === 'none' ? [] : Array.from({ length: viewers }, async (_, i) => {
    await sleep((pollMs * i) / viewers);
    while (!stop.signal.aborted) {
      await fetch(`${apiUrl}${path}`, { signal: stop.signal }).then((r) => r.arrayBuffer()).catch(() => {});
      await sleep(pollMs);
    }
  });
  await sleep(3000); // the replays of the 200 KB answer to the new streams are done before the window
  const [calls0, bytes0] = [await commandCalls(redis), await outputBytes()];
  await sleep(windowS * 1000);
  const [calls1, bytes1] = [await commandCalls(redis), await outputBytes()];
  stop.abort();
  await Promise.all(pollers);
  await sleep(1000);
  const perMinute = 60 / windowS;
  const byCommand = diffCalls(calls0, calls1);
  return { commands: totalCalls(byCommand) * perMinute, bytes: (bytes1 - bytes0) * perMinute, byCommand };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const results: Record<'record' | 'stats', { commands: number[]; bytes: number[] }> = {
  record: { commands: [], bytes: [] },
  stats: { commands: [], bytes: [] },
};
for (let run = 1; run <= runs; run += 1) {
  const id = await stalledJob();
  const base = await window(id, 'none');
  for (const mode of ['record', 'stats'] as const) {
    const m = await window(id, mode);
    const commands = (m.commands - base.commands) / viewers;
    const bytes = (m.bytes - base.bytes) / viewers;
    results[mode].commands.push(commands);
    results[mode].bytes.push(bytes);
    console.log(JSON.stringify({ run, mode, viewers, commandsPerViewerMin: Math.round(commands * 10) / 10, bytesPerViewerMin: Math.round(bytes), byCommandInWindow: m.byCommand }));
  }
  await fetch(`${apiUrl}/v1/jobs/${id}/cancel`, { method: 'POST' });
}
for (const mode of ['record', 'stats'] as const) {
  const { commands, bytes } = results[mode];
  console.log(`${mode}: commands/viewer/min median ${median(commands).toFixed(1)} (${Math.min(...commands).toFixed(1)}–${Math.max(...commands).toFixed(1)}); ` +
    `bytes/viewer/min median ${Math.round(median(bytes))} (${Math.round(Math.min(...bytes))}–${Math.round(Math.max(...bytes))})`);
}
await redis.quit();
await stopAll();
process.exit(0);
