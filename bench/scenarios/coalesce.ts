import { randomBytes } from 'node:crypto';
import { eventsPath, mapLimit, submitJob } from '../genrelay-http.js';
import { openWindow } from '../window.js';
import { commandCalls, diffCalls, totalCalls } from '../redis-stats.js';
import { inWindow, worstWindow, type Row, type ScenarioResult } from '../result.js';
import { missingOf, round, roundAll, rounded, summarize } from '../stats.js';
import type { BenchSystem } from '../system.js';
import { pollUntil, sleep, wallClockMs } from '../timing.js';
import { cancelAndSettle } from './jobs.js';
import { countStreaming, simDeltas } from './worker-scale.js';

/** The window measured against the default (0: self-clocked batching only). */
const WINDOW_MS = 20;
/** Deltas per second of each generation: one token each, about as fast as Claude streams. */
const DELTAS_PER_S = 100;

/**
 * Scenario 4b: what `COALESCE_WINDOW_MS` buys. 100 generations at 100 deltas/s, one sampled viewer
 * each, through a worker started with the default window (0) and then through one started with a
 * 20 ms window: published events and Redis commands per upstream delta, the CPU of worker, Redis and
 * API, and delivery latency, side by side. The worker is restarted with the default afterwards.
 */
export async function coalescing(sys: BenchSystem): Promise<ScenarioResult> {
  const jobs = sys.options.quick ? 20 : 100;
  const windowS = sys.options.quick ? 3 : 8;
  const base = await coalesceRound(sys, 0, jobs, windowS);
  const windowed = await coalesceRound(sys, WINDOW_MS, jobs, windowS);
  await sys.restartWorker('default', {});
  const scenario = `4b coalescing (${jobs} gens × ${DELTAS_PER_S} deltas/s), ${WINDOW_MS} ms window vs 0`;
  const row = (metric: string, pick: (r: CoalesceRound) => number | string): Row => ({
    scenario, metric, genrelay: pick(windowed), baseline: pick(base), target: null, met: null,
  });
  return {
    name: 'coalescing',
    rows: inWindow([
      row('upstream deltas per published event', (r) => r.deltasPerEvent),
      row('Redis commands per upstream delta', (r) => r.redisCommandsPerDelta),
      row('worker CPU (% of a core)', (r) => r.cpuPercent['worker'] ?? Number.NaN),
      row('Redis CPU (% of a core)', (r) => r.cpuPercent['redis'] ?? Number.NaN),
      row('API CPU (% of a core)', (r) => r.cpuPercent['api'] ?? Number.NaN),
      row('viewer delivery p50 / p99 (ms)', (r) => `${r.latency.p50} / ${r.latency.p99}`),
      row('machine busy (% of all cores)', (r) => r.check.machineBusyPct),
    ], worstWindow([base.check, windowed.check])),
    details: { windowMs: WINDOW_MS, deltasPerS: DELTAS_PER_S, jobs, windowS, rounds: [base, windowed] },
  };
}

type CoalesceRound = Awaited<ReturnType<typeof coalesceRound>>;

async function coalesceRound(sys: BenchSystem, windowMs: number, jobs: number, windowS: number) {
  await sys.restartWorker(`coalesce-${windowMs}`, { COALESCE_WINDOW_MS: String(windowMs) });
  const tag = `coalesce-${windowMs}-${randomBytes(3).toString('hex')}`;
  const deltas = DELTAS_PER_S * (windowS + 60);
  const ids = await mapLimit(Array.from({ length: jobs }), 50, () =>
    submitJob(sys.api.url, { tokens: deltas, tps: DELTAS_PER_S, ttft_ms: 20, stamp: true, tag }, deltas + 10));
  await sys.clients.open(sys.api.host, sys.api.port, ids.map((id) => ({ path: eventsPath(id), sampled: true })));
  await pollUntil(async () => (await countStreaming(sys.sim.url, tag)) >= jobs, 60_000, 250);
  await sleep(1500);

  const sim0 = await simDeltas(sys.sim.url, tag);
  const calls0 = await commandCalls(sys.redis);
  const window = await openWindow(sys.clients, { worker: sys.worker.pid, redis: sys.redisProc.pid, api: sys.api.proc.pid, simulator: sys.sim.proc.pid }, 50);
  const t0 = wallClockMs();
  await sleep(windowS * 1000);
  const t1 = wallClockMs();
  const measured = await window.close();
  const cpuPct = measured.cpuPercent;
  const calls = diffCalls(calls0, await commandCalls(sys.redis));
  const upstream = (await simDeltas(sys.sim.url, tag)) - sim0;
  await sleep(2000);
  const report = await sys.clients.report(t0, t1);
  await sys.clients.close();
  const unsettled = await cancelAndSettle(sys, ids, 60_000);

  // The job scripts publish with SPUBLISH (sharded pub/sub).
  const published = calls['spublish'] ?? calls['publish'] ?? 0;
  return {
    windowMs,
    check: measured.check,
    upstreamDeltas: upstream,
    publishedEvents: published,
    deltasPerEvent: round(upstream / Math.max(1, published), 2),
    redisCommandsPerDelta: round(totalCalls(calls) / Math.max(1, upstream), 3),
    cpuPercent: roundAll(cpuPct),
    latency: rounded(summarize(report.viewerLatencies, missingOf(report.viewerLatencies.length, jobs * (DELTAS_PER_S * windowS - 1)))),
    jobsNotSettled: unsettled,
  };
}
