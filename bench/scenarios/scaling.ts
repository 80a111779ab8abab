import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { startRedisCluster, type RedisClusterHandle } from '../../test/support/redis-cluster.js';
import { eventsPath, mapLimit, readRecordField, submitJob } from '../genrelay-http.js';
import { openWindow } from '../window.js';
import { answers, freePort, scriptNodeFlags, startNode, startRedisServer, waitFor, type Proc } from '../processes.js';
import { inWindow, worstWindow, type Row, type ScenarioResult } from '../result.js';
import { missingOf, round, roundAll, rounded, summarize } from '../stats.js';
import type { BenchSystem } from '../system.js';
import { pollUntil, sleep, wallClockMs } from '../timing.js';
import { countStreaming, simDeltas } from './worker-scale.js';

const DELTAS_PER_S = 10;
const TOKENS_PER_DELTA = 5;

/** One Redis or a 3-master cluster, with its own API and worker processes on it. */
interface Stack {
  readonly name: string;
  readonly redisPids: readonly number[];
  readonly redis: Redis | Cluster;
  readonly keyPrefix: string;
  readonly api: { url: string; host: string; port: number; proc: Proc };
  readonly worker: Proc;
  stop(): Promise<void>;
}

async function startStack(sys: BenchSystem, kind: 'one' | 'cluster'): Promise<Stack> {
  let cluster: RedisClusterHandle | undefined;
  let single: { proc: Proc; url: string } | undefined;
  if (kind === 'cluster') cluster = await startRedisCluster({ masters: 3 });
  else single = await startRedisServer();
  const where: Record<string, string> = cluster !== undefined ? { REDIS_CLUSTER_NODES: cluster.seeds } : { REDIS_URL: single?.url ?? '' };
  const keyPrefix = `bench-scale-${randomBytes(3).toString('hex')}`;
  const env = {
    ...where,
    KEY_PREFIX: keyPrefix,
    LOG_LEVEL: 'warn',
    ANTHROPIC_BASE_URL: sys.sim.url,
    ANTHROPIC_API_KEY: 'bench',
    VIEWER_TOKEN_SECRET: randomBytes(24).toString('hex'),
  };
  const port = await freePort();
  const api = startNode(`api-${kind}`, 'src/api/main.ts', { ...env, HOST: '127.0.0.1', PORT: String(port) }, { nodeFlags: scriptNodeFlags('start:api') });
  const url = `http://127.0.0.1:${port}`;
  await waitFor('the API', () => answers(`${url}/healthz`), api);
  const worker = startNode(`worker-${kind}`, 'src/worker/main.ts', { ...env, WORKER_CONCURRENCY: '1200', SHUTDOWN_TIMEOUT_MS: '2000' }, {
    nodeFlags: scriptNodeFlags('start:worker'),
  });
  const redis = cluster !== undefined ? new Cluster(cluster.seeds.split(',').map((hp) => ({ host: '127.0.0.1', port: Number(hp.split(':')[1]) }))) : new Redis(single?.url ?? '');
  return {
    name: kind === 'cluster' ? '3-master Redis Cluster' : 'one Redis',
    redisPids: cluster !== undefined ? cluster.nodes.map((n) => n.pid) : [single?.proc.pid ?? -1],
    redis,
    keyPrefix,
    api: { url, host: '127.0.0.1', port, proc: api },
    worker,
    async stop() {
      redis.disconnect();
      await Promise.all([api.stop(), worker.stop()]);
      await cluster?.stop();
      await single?.proc.stop();
    },
  };
}

/**
 * Scenario 6, scaling out: the same load on one Redis and on a 3-master Redis Cluster (three
 * `redis-server` processes on this machine's cores), side by side. A worker-scale round (N generations
 * at 50 tokens/s, 100 viewers sampled) and a fan-out round (V viewers over 20 streams at 20 deltas/s),
 * with the CPU of each Redis process (shard), so one can see how the load splits and what the cluster
 * costs in all.
 */
export async function scaling(sys: BenchSystem): Promise<ScenarioResult> {
  const quick = sys.options.quick;
  const generations = quick ? 100 : 500;
  const viewers = quick ? 500 : 2000;
  const windowS = quick ? 4 : 10;
  const rounds: { backend: string; workers: Awaited<ReturnType<typeof workerRound>>; fanout: Awaited<ReturnType<typeof fanoutRound>> }[] = [];
  for (const kind of ['one', 'cluster'] as const) {
    const stack = await startStack(sys, kind);
    try {
      const workers = await workerRound(sys, stack, generations, windowS);
      const fanout = await fanoutRound(sys, stack, viewers, windowS);
      rounds.push({ backend: stack.name, workers, fanout });
    } finally {
      await stack.stop();
    }
  }
  const [one, cluster] = rounds;
  const rows: Row[] = [];
  const scenario = (what: string) => `6 scaling out: ${what}`;
  const pair = (metric: string, f: (r: (typeof rounds)[number]) => number | string, what: string) =>
    rows.push({ scenario: scenario(what), metric, genrelay: cluster === undefined ? Number.NaN : f(cluster), baseline: one === undefined ? Number.NaN : f(one), target: null, met: null });
  const w = `${generations} generations, 3-master cluster vs one Redis`;
  pair('delivered tokens/s (upstream wrote)', (r) => `${r.workers.deliveredTokensPerS} (${r.workers.offeredTokensPerS})`, w);
  pair('Redis CPU per process (% of a core)', (r) => r.workers.redisCpu.join(' / '), w);
  pair('Redis CPU in all (% of a core)', (r) => r.workers.redisCpuTotal, w);
  pair('worker CPU (% of a core)', (r) => r.workers.cpu['worker'] ?? Number.NaN, w);
  pair('viewer delivery p50 / p99 (ms)', (r) => `${r.workers.latency.p50} / ${r.workers.latency.p99}`, w);
  const f = `${viewers} viewers over 20 streams, 3-master cluster vs one Redis`;
  pair('delivery p50 / p99 (ms)', (r) => `${r.fanout.latency.p50} / ${r.fanout.latency.p99}`, f);
  pair('Redis CPU per process (% of a core)', (r) => r.fanout.redisCpu.join(' / '), f);
  pair('API CPU (% of a core)', (r) => r.fanout.cpu['api'] ?? Number.NaN, f);
  const check = worstWindow(rounds.flatMap((r) => [r.workers.check, r.fanout.check]));
  return { name: 'scaling', rows: inWindow(rows, check), details: { generations, viewers, windowS, rounds } };
}

async function workerRound(sys: BenchSystem, stack: Stack, n: number, windowS: number) {
  const tag = `scale-${stack.keyPrefix}`;
  const deltas = DELTAS_PER_S * (windowS + 60);
  const directive = { tokens: deltas, tps: DELTAS_PER_S, ttft_ms: 20, stamp: true, tokens_per_delta: TOKENS_PER_DELTA, tag };
  const ids = await mapLimit(Array.from({ length: n }), 50, () => submitJob(stack.api.url, directive, deltas * TOKENS_PER_DELTA + 10));
  const sampled = ids.slice(0, Math.min(n, 100));
  await sys.clients.open(stack.api.host, stack.api.port, sampled.map((id) => ({ path: eventsPath(id), sampled: true })));
  await pollUntil(async () => (await countStreaming(sys.sim.url, tag)) >= n, 60_000, 500);
  await sleep(2000);
  const tokens = async () => (await readRecordField(stack.redis, stack.keyPrefix, ids, 'output_tokens')).reduce((s, v) => s + (Number(v) || 0), 0);
  const tokens0 = await tokens();
  const sim0 = await simDeltas(sys.sim.url, tag);
  const pids: Record<string, number | readonly number[]> = { worker: stack.worker.pid, api: stack.api.proc.pid };
  stack.redisPids.forEach((pid, i) => (pids[`redis${i}`] = pid));
  const window = await openWindow(sys.clients, pids, 50);
  const t0 = wallClockMs();
  await sleep(windowS * 1000);
  const t1 = wallClockMs();
  const measured = await window.close();
  const cpuPct = roundAll(measured.cpuPercent);
  const seconds = (t1 - t0) / 1000;
  const delivered = ((await tokens()) - tokens0) * TOKENS_PER_DELTA;
  const offered = ((await simDeltas(sys.sim.url, tag)) - sim0) * TOKENS_PER_DELTA;
  await sleep(2000);
  const report = await sys.clients.report(t0, t1);
  await sys.clients.close();
  const redisCpu = stack.redisPids.map((_, i) => cpuPct[`redis${i}`] ?? Number.NaN);
  return {
    check: measured.check,
    deliveredTokensPerS: round(delivered / seconds, 0),
    offeredTokensPerS: round(offered / seconds, 0),
    cpu: cpuPct,
    redisCpu,
    redisCpuTotal: round(redisCpu.reduce((s, c) => s + c, 0), 1),
    latency: rounded(summarize(report.viewerLatencies, missingOf(report.viewerLatencies.length, sampled.length * (DELTAS_PER_S * windowS - 1)))),
  };
}

async function fanoutRound(sys: BenchSystem, stack: Stack, viewers: number, windowS: number) {
  const tag = `scale-fan-${stack.keyPrefix}`;
  const streams = 20;
  const tps = 20;
  const deltas = tps * (windowS + 60);
  const directive = { tokens: deltas, tps, ttft_ms: 20, stamp: true, tag };
  const ids = await mapLimit(Array.from({ length: streams }), 20, () => submitJob(stack.api.url, directive, deltas + 10));
  await pollUntil(async () => (await countStreaming(sys.sim.url, tag)) >= streams, 30_000, 250);
  const specs = Array.from({ length: viewers }, (_, i) => ({ path: eventsPath(ids[i % streams] ?? ''), sampled: i < 200 }));
  await sys.clients.open(stack.api.host, stack.api.port, specs);
  await sleep(1000);
  const pids: Record<string, number | readonly number[]> = { api: stack.api.proc.pid, worker: stack.worker.pid };
  stack.redisPids.forEach((pid, i) => (pids[`redis${i}`] = pid));
  const window = await openWindow(sys.clients, pids, 50);
  const t0 = wallClockMs();
  await sleep(windowS * 1000);
  const t1 = wallClockMs();
  const measured = await window.close();
  const cpuPct = roundAll(measured.cpuPercent);
  await sleep(2000);
  const report = await sys.clients.report(t0, t1);
  await sys.clients.close();
  return {
    check: measured.check,
    cpu: cpuPct,
    redisCpu: stack.redisPids.map((_, i) => cpuPct[`redis${i}`] ?? Number.NaN),
    latency: rounded(summarize(report.viewerLatencies, missingOf(report.viewerLatencies.length, 200 * (tps * windowS - 1)))),
  };
}
