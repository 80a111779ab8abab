/**
 * Probe: what one SSE viewer costs the API's heap. Starts Redis, the simulator, an API (with
 * `--heapsnapshot-signal=SIGUSR1` and the GC signal) and a worker; holds one job's first token back,
 * takes a heap snapshot, connects N raw viewers, takes another, into /tmp/heap. Compare them by
 * constructor with `node bench/probes/heap-diff.mjs N`.
 * Run: `mkdir -p /tmp/heap && rm -f /tmp/heap/*.heapsnapshot && npx tsx bench/probes/viewer-heap.ts 2000`.
 */
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { eventsPath, submitJob } from '../genrelay-http.js';
import { answers, freePort, scriptNodeFlags, startNode, startRedisServer, stopAll, waitFor } from '../processes.js';
import { rssBytes } from '../proc-stats.js';
const N = Number(process.argv[2] ?? 2000);
const { url: redisUrl } = await startRedisServer();
const simPort = await freePort();
const sim = startNode('simulator', 'src/simulator/main.ts', { SIM_PORT: String(simPort) });
await waitFor('sim', async () => sim.output().includes('listening on'), sim);
const shared = { REDIS_URL: redisUrl, KEY_PREFIX: 'hp', LOG_LEVEL: 'warn', ANTHROPIC_BASE_URL: `http://127.0.0.1:${simPort}`, ANTHROPIC_API_KEY: 'p', VIEWER_TOKEN_SECRET: 'x'.repeat(32) };
const apiPort = await freePort();
const api = startNode('api', 'src/api/main.ts', { ...shared, HOST: '127.0.0.1', PORT: String(apiPort), GC_ON_SIGUSR2: '1' }, { nodeFlags: [...scriptNodeFlags('start:api'), '--expose-gc', '--heapsnapshot-signal=SIGUSR1', '--diagnostic-dir=/tmp/heap'] });
const apiUrl = `http://127.0.0.1:${apiPort}`;
await waitFor('api', () => answers(`${apiUrl}/healthz`), api);
startNode('worker', 'src/worker/main.ts', shared, { nodeFlags: scriptNodeFlags('start:worker') });
const id = await submitJob(apiUrl, { tokens: 10000, tps: 5, ttft_ms: 60000 }, 20000);
const gcRss = async () => { process.kill(api.pid, 'SIGUSR2'); await new Promise((r) => setTimeout(r, 700)); return rssBytes(api.pid); };
const snap = async () => { const before = readdirSync('/tmp/heap').length; process.kill(api.pid, 'SIGUSR1'); while (readdirSync('/tmp/heap').length === before) await new Promise((r) => setTimeout(r, 200)); await new Promise((r) => setTimeout(r, 3000)); };
await new Promise((r) => setTimeout(r, 1000));
const r0 = await gcRss();
await snap();
const socks: ReturnType<typeof connect>[] = [];
for (let i = 0; i < N; i++) {
  const s = connect(apiPort, '127.0.0.1');
  s.on('data', () => {});
  s.write(`GET ${eventsPath(id)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  socks.push(s);
  if (i % 100 === 0) await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 3000));
const r1 = await gcRss();
await snap();
console.log('viewers', N, 'rss per viewer KB', ((r1 - r0) / N / 1024).toFixed(2));
await stopAll();
process.exit(0);
