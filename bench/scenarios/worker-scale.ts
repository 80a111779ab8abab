import { randomBytes } from 'node:crypto';
import { eventsPath, mapLimit, readRecordField, submitJob } from '../genrelay-http.js';
import { openWindow } from '../window.js';
import { commandCalls, diffCalls, readsProcessed, totalCalls } from '../redis-stats.js';
import { inWindow, type Row, type ScenarioResult } from '../result.js';
import { missingOf, round, roundAll, rounded, summarize } from '../stats.js';
import type { BenchSystem } from '../system.js';
import { pollUntil, sleep, wallClockMs } from '../timing.js';
import { cancelAndSettle } from './jobs.js';

/** Deltas per second of each generation, and output tokens each delta counts for: 10 × 5 = 50 tokens/s. */
const DELTAS_PER_S = 10;
/** Client lag (p99, ms) past which a round is invalid: its figures are throughput and cost, the latency only shown. */
const BOUND_MS = 50;
const TOKENS_PER_DELTA = 5;

/**
 * Scenario 4: one worker process running 100 / 500 / 1,000 generations at once, 50 tokens/s each (10
 * deltas/s of 5 tokens: 50,000 frames/s is more than the simulator can write on this machine).
 * Delivered tokens/s = output tokens genrelay recorded on the jobs (the worker's per-delta count ×
 * tokens per delta) per second of wall time, against what the simulator wrote in the same window.
 * Redis cost from INFO commandstats over the window (script-internal commands included).
 */
export async function workerScale(sys: BenchSystem): Promise<ScenarioResult> {
  const quick = sys.options.quick;
  const sizes = sys.options.workerSizes ?? (quick ? [20, 50, 100] : [100, 500, 1000]);
  const windowS = quick ? 4 : 10;
  const rounds = [];
  for (const n of sizes) rounds.push(await workerRound(sys, n, windowS));
  const largest = Math.max(...sizes);
  const rows: Row[] = [];
  for (const r of rounds) {
    const own: Row[] = [];
    const scenario = `4 worker ${r.generations} generations`;
    const atLargest = r.generations === largest;
    const deliveredOk = r.deliveredTokensPerS >= 0.95 * r.offeredTokensPerS && r.generationsRunning >= r.generations;
    own.push({
      scenario, metric: 'delivered tokens/s (upstream wrote)', genrelay: r.deliveredTokensPerS, baseline: r.offeredTokensPerS,
      target: atLargest ? '≥ 95% of upstream, all running' : null, met: atLargest ? deliveredOk : null,
    });
    own.push({ scenario, metric: 'worker CPU (% of a core)', genrelay: r.cpuPercent['worker'] ?? Number.NaN, baseline: null, target: null, met: null });
    // The figure issue 20 asks for: it moves less with the machine's load than latency does.
    const cpuPerTokenUs = ((r.cpuPercent['worker'] ?? Number.NaN) / 100) * 1e6 / r.deliveredTokensPerS;
    own.push({ scenario, metric: 'worker CPU per delivered token (µs)', genrelay: round(cpuPerTokenUs, 1), baseline: null, target: null, met: null });
    // Redis serves every worker of a fleet: what one token costs it bounds how far the fleet scales.
    const redisCpuPerTokenUs = ((r.cpuPercent['redis'] ?? Number.NaN) / 100) * 1e6 / r.deliveredTokensPerS;
    own.push({ scenario, metric: 'Redis CPU per delivered token (µs)', genrelay: round(redisCpuPerTokenUs, 1), baseline: null, target: null, met: null });
    own.push({ scenario, metric: 'upstream deltas per published event', genrelay: r.upstreamDeltasPerPublishedEvent, baseline: null, target: null, met: null });
    own.push({ scenario, metric: 'Redis commands per delivered token', genrelay: r.redisCommandsPerToken, baseline: null, target: null, met: null });
    own.push({ scenario, metric: 'EVALSHA calls per published event', genrelay: r.evalshaPerPublishedEvent, baseline: null, target: null, met: null });
    own.push({
      scenario, metric: 'Redis round trips (socket reads, all clients) per published event', genrelay: r.readsPerPublishedEvent, baseline: null,
      target: '≤ 1 per batch', met: r.readsPerPublishedEvent <= 1,
    });
    own.push({ scenario, metric: 'viewer delivery p50 / p99 (ms)', genrelay: `${r.latency.p50} / ${r.latency.p99}`, baseline: null, target: null, met: null });
    own.push({ scenario, metric: 'machine busy (% of all cores)', genrelay: r.check.machineBusyPct, baseline: null, target: null, met: null });
    rows.push(...inWindow(own, r.check));
  }
  return { name: 'worker_scale', rows, details: { deltasPerS: DELTAS_PER_S, tokensPerDelta: TOKENS_PER_DELTA, windowS, rounds } };
}

async function workerRound(sys: BenchSystem, n: number, windowS: number) {
  const tag = `workers-${n}-${randomBytes(3).toString('hex')}`;
  const deltas = DELTAS_PER_S * (windowS + 90);
  const directive = { tokens: deltas, tps: DELTAS_PER_S, ttft_ms: 20, stamp: true, tokens_per_delta: TOKENS_PER_DELTA, tag };
  const submitStart = wallClockMs();
  const ids = await mapLimit(Array.from({ length: n }), 50, () => submitJob(sys.api.url, directive, deltas * TOKENS_PER_DELTA + 10));
  const submitMs = wallClockMs() - submitStart;
  const sampled = ids.slice(0, Math.min(n, 100));
  await sys.clients.open(sys.api.host, sys.api.port, sampled.map((id) => ({ path: eventsPath(id), sampled: true })));

  const streaming = () => countStreaming(sys.sim.url, tag);
  const rampStart = wallClockMs();
  await pollUntil(async () => (await streaming()) >= n, 60_000, 500);
  const rampMs = wallClockMs() - rampStart;
  await sleep(2000);

  const tokens0 = await recordedTokens(sys, ids);
  const sim0 = await simDeltas(sys.sim.url, tag);
  const calls0 = await commandCalls(sys.redis);
  const reads0 = await readsProcessed(sys.redis);
  const window = await openWindow(sys.clients, { worker: sys.worker.pid, redis: sys.redisProc.pid, simulator: sys.sim.proc.pid, api: sys.api.proc.pid }, BOUND_MS);
  const t0 = wallClockMs();
  await sleep(windowS * 1000);
  const calls1 = await commandCalls(sys.redis);
  const reads1 = await readsProcessed(sys.redis);
  const t1 = wallClockMs();
  const measured = await window.close();
  const cpuPct = measured.cpuPercent;
  const sim1 = await simDeltas(sys.sim.url, tag);
  const tokens1 = await recordedTokens(sys, ids);
  const running = await streaming();
  await sleep(2000);
  const report = await sys.clients.report(t0, t1);
  await sys.clients.close();
  const unsettled = await cancelAndSettle(sys, ids, 60_000);
  const attempts = await readRecordField(sys.redis, sys.keyPrefix, ids, 'attempt');
  // Why attempts were retried (the record keeps the last error of a failed attempt).
  const retryReasons: Record<string, number> = {};
  for (const e of await readRecordField(sys.redis, sys.keyPrefix, ids, 'last_error')) {
    if (e !== null) retryReasons[e.slice(0, 120)] = (retryReasons[e.slice(0, 120)] ?? 0) + 1;
  }

  const seconds = (t1 - t0) / 1000;
  const calls = diffCalls(calls0, calls1);
  const recordedDeltas = tokens1 - tokens0;
  const delivered = recordedDeltas * TOKENS_PER_DELTA;
  // The job scripts publish with SPUBLISH (sharded pub/sub).
  const published = calls['spublish'] ?? calls['publish'] ?? 0;
  const missing = missingOf(report.viewerLatencies.length, sampled.length * (DELTAS_PER_S * windowS - 1));
  return {
    generations: n,
    check: measured.check,
    generationsRunning: running,
    submitMs: round(submitMs, 0),
    rampMs: round(rampMs, 0),
    offeredTokensPerS: round(((sim1 - sim0) * TOKENS_PER_DELTA) / seconds, 0),
    deliveredTokensPerS: round(delivered / seconds, 0),
    cpuPercent: roundAll(cpuPct),
    redisCommands: calls,
    redisCommandsPerToken: round(totalCalls(calls) / Math.max(1, delivered), 3),
    evalshaPerPublishedEvent: round((calls['evalsha'] ?? 0) / Math.max(1, published), 3),
    // Includes every other client's reads (BullMQ, the API, the bench's own INFO calls): an upper bound.
    readsPerPublishedEvent: round((reads1 - reads0) / Math.max(1, published), 3),
    upstreamDeltasPerPublishedEvent: round(recordedDeltas / Math.max(1, published), 3),
    latency: rounded(summarize(report.viewerLatencies, missing)),
    sampledViewers: sampled.length,
    viewers: report.viewers,
    jobsRetried: attempts.filter((a) => Number(a) > 1).length,
    retryReasons,
    jobsNotSettled: unsettled,
  };
}

/** Σ output_tokens on the records (while streaming, the worker's count of deltas). */
async function recordedTokens(sys: BenchSystem, ids: readonly string[]): Promise<number> {
  const values = await readRecordField(sys.redis, sys.keyPrefix, ids, 'output_tokens');
  return values.reduce((s, v) => s + (Number(v) || 0), 0);
}

interface SimRecord {
  readonly outcome: string;
  readonly deltasSent: number;
}

async function simRecords(simUrl: string, tag: string): Promise<SimRecord[]> {
  const res = await fetch(`${simUrl}/_sim/requests?tag=${encodeURIComponent(tag)}`);
  return (await res.json()) as SimRecord[];
}

/** Requests tagged `tag` that the simulator is streaming right now (at least one delta written). */
export async function countStreaming(simUrl: string, tag: string): Promise<number> {
  return (await simRecords(simUrl, tag)).filter((r) => r.outcome === 'in_progress' && r.deltasSent > 0).length;
}

/** Σ text deltas the simulator wrote for `tag`. */
export async function simDeltas(simUrl: string, tag: string): Promise<number> {
  return (await simRecords(simUrl, tag)).reduce((s, r) => s + r.deltasSent, 0);
}
