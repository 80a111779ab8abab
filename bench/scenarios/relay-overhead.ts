import { startFloor } from '../floor/floor.js';
import { eventsPath, mapLimit, messagesBody, submitJob } from '../genrelay-http.js';
import type { Row, ScenarioResult } from '../result.js';
import { inWindow } from '../result.js';
import { missingOf, round, roundAll, rounded, summarize } from '../stats.js';
import type { BenchSystem } from '../system.js';
import { sleep, sleepUntil, wallClockMs } from '../timing.js';
import { openWindow, type WindowResult } from '../window.js';
import { cancelAndSettle } from './jobs.js';

/** One load of the overhead scenario. */
interface Load {
  readonly name: string;
  readonly jobs: number;
  readonly viewersPerJob: number;
  readonly sampledPerJob: number;
  /** Targets apply at this load (the machine stays under about 60 % busy). */
  readonly targets: boolean;
  /** The clients' p99 event-loop delay past which the run is invalid. */
  readonly boundMs: number;
}

const tps = 20;
const warmupS = 1.5;
const graceMs = 2000;

/**
 * Scenario 1: upstream write → viewer read through genrelay, against the same kind of upstream stream
 * read directly with the SDK (one per job), at the same time, in the same client processes; every
 * delta carries the simulator's write time and each stamp is one sample. Two loads: a moderate one
 * (20 jobs × 5 viewers, the machine well under 60 % busy: the targets apply here) and the heavy one
 * (100 × 10). Beside the latencies, CPU per delta from /proc: the worker's per upstream delta, the
 * API's per delivered delta, and the socket floor's per delivered delta with the same viewers.
 */
export async function relayOverhead(sys: BenchSystem): Promise<ScenarioResult> {
  const quick = sys.options.quick;
  const loads: Load[] = [
    { name: 'moderate', jobs: quick ? 5 : 20, viewersPerJob: 5, sampledPerJob: 2, targets: true, boundMs: 5 },
    { name: 'heavy', jobs: quick ? 10 : 100, viewersPerJob: 10, sampledPerJob: 2, targets: false, boundMs: 20 },
  ];
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  for (const load of loads) {
    const measured = await measureLoad(sys, load);
    rows.push(...measured.rows);
    details[load.name] = measured.details;
  }
  return { name: 'relay_overhead', rows, details };
}

async function measureLoad(sys: BenchSystem, load: Load): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const { jobs, viewersPerJob, sampledPerJob } = load;
  const windowS = sys.options.quick ? 4 : 12;
  // The job streams start after the viewers are connected: the simulator holds the first delta back.
  const holdMs = 2000 + jobs * viewersPerJob * 2;
  const tokens = Math.ceil(tps * (holdMs / 1000 + warmupS + windowS + 30));

  const submittedAt = wallClockMs();
  const ids = await mapLimit(Array.from({ length: jobs }), 20, () =>
    submitJob(sys.api.url, { tokens, tps, ttft_ms: holdMs, stamp: true, tag: 'overhead' }, tokens + 10));
  const viewers = ids.flatMap((id) => Array.from({ length: viewersPerJob }, (_, k) => ({ path: eventsPath(id), sampled: k < sampledPerJob })));
  const opened = await sys.clients.open(sys.api.host, sys.api.port, viewers);
  // The direct streams start now, with no hold, so they are streaming when the window opens.
  await sys.clients.sdk(sys.sim.url, messagesBody({ tokens, tps, ttft_ms: 0, stamp: true, tag: 'overhead-direct' }, tokens + 10), jobs);

  const from = Math.max(wallClockMs(), submittedAt + holdMs) + warmupS * 1000;
  await sleepUntil(from);
  const window = await openWindow(sys.clients, { api: sys.api.proc.pid, worker: sys.worker.pid, redis: sys.redisProc.pid, simulator: sys.sim.proc.pid }, load.boundMs);
  await sleep(windowS * 1000);
  const to = wallClockMs();
  const measured = await window.close();
  await sleep(graceMs);
  const report = await sys.clients.report(from, to);
  const unsettled = await cancelAndSettle(sys, ids);
  await sys.clients.close();

  const floor = sys.options.floor ? await measureFloor(sys, load, windowS) : undefined;

  const expectedPerStream = tps * windowS - 1;
  const relay = summarize(report.viewerLatencies, missingOf(report.viewerLatencies.length, opened.sampledOpened * expectedPerStream));
  const direct = summarize(report.sdkLatencies, missingOf(report.sdkLatencies.length, jobs * expectedPerStream));
  const d50 = relay.p50 - direct.p50;
  const d99 = relay.p99 - direct.p99;
  // Deltas in the window: what the upstream wrote for the jobs, and what reached the viewers.
  const upstreamDeltas = jobs * tps * measured.seconds;
  const deliveredDeltas = opened.opened * tps * measured.seconds;
  const workerUs = (measured.cpuUs['worker'] ?? Number.NaN) / upstreamDeltas;
  const apiUs = (measured.cpuUs['api'] ?? Number.NaN) / deliveredDeltas;
  const label = `1 relay overhead, ${load.name} (${jobs}×${viewersPerJob})`;
  const target = (text: string, meets: (v: number) => boolean, v: number): Pick<Row, 'target' | 'met' | 'meets'> =>
    load.targets ? { target: text, met: meets(v), meets } : { target: null, met: null };
  const rows: Row[] = [
    { scenario: label, metric: 'p50 upstream→viewer (ms)', genrelay: round(relay.p50), baseline: round(direct.p50), target: null, met: null },
    { scenario: label, metric: 'p99 upstream→viewer (ms)', genrelay: round(relay.p99), baseline: round(direct.p99), target: null, met: null },
    { scenario: label, metric: 'p50 overhead Δ vs SDK (ms)', genrelay: round(d50), baseline: 0, ...target('≤ 1', (v) => v <= 1, d50) },
    { scenario: label, metric: 'p99 overhead Δ vs SDK (ms)', genrelay: round(d99), baseline: 0, ...target('≤ 5', (v) => v <= 5, d99) },
    { scenario: label, metric: 'worker CPU per upstream delta (µs)', genrelay: round(workerUs, 1), baseline: null, target: null, met: null },
    {
      scenario: label, metric: 'API CPU per delivered delta (µs; baseline: socket floor)', genrelay: round(apiUs, 1),
      baseline: floor === undefined ? null : round(floor.usPerDelivered, 1), target: null, met: null,
    },
    { scenario: label, metric: 'machine busy (% of all cores)', genrelay: round(measured.check.machineBusyPct, 1), baseline: null, target: null, met: null },
  ];
  return {
    rows: inWindow(rows, measured.check),
    details: {
      jobs, viewersPerJob, sampledViewers: opened.sampledOpened, directStreams: jobs, deltasPerS: tps, windowS,
      open: opened, viewers: report.viewers, sdk: report.sdk,
      genrelay: rounded(relay), direct: rounded(direct),
      deltaP50Ms: round(d50), deltaP99Ms: round(d99),
      cpuPercent: roundAll(measured.cpuPercent), window: measured.check,
      workerCpuUsPerUpstreamDelta: round(workerUs, 1), apiCpuUsPerDeliveredDelta: round(apiUs, 1),
      floor, jobsNotSettled: unsettled,
    },
  };
}

/**
 * The socket floor (`bench/floor/`) with the same streams and viewers: the CPU a bare Node relay
 * spends per delivered delta, and its delivery latency (its frames are made in-process: no upstream).
 */
async function measureFloor(sys: BenchSystem, load: Load, windowS: number): Promise<{ usPerDelivered: number; latency: ReturnType<typeof rounded>; cpuPercent: Record<string, number> }> {
  const floor = await startFloor(`overhead-${load.name}`, sys.options.profile.has('floor'));
  try {
    const holdMs = 2000 + load.jobs * load.viewersPerJob * 2;
    const tokens = Math.ceil(tps * (holdMs / 1000 + warmupS + windowS + 30));
    const startedAt = wallClockMs();
    const streams = await Promise.all(Array.from({ length: load.jobs }, () => floor.start({ tokens, tps, ttft_ms: holdMs })));
    const viewers = streams.flatMap((s) => Array.from({ length: load.viewersPerJob }, (_, k) => ({ path: s.path, sampled: k < load.sampledPerJob })));
    const opened = await sys.clients.open(floor.host, floor.port, viewers);
    const from = Math.max(wallClockMs(), startedAt + holdMs) + warmupS * 1000;
    await sleepUntil(from);
    const window: { close(): Promise<WindowResult> } = await openWindow(sys.clients, { server: floor.proc.pid }, load.boundMs);
    await sleep(windowS * 1000);
    const to = wallClockMs();
    const measured = await window.close();
    await sleep(graceMs);
    const report = await sys.clients.report(from, to);
    await Promise.all(streams.map((s) => s.stop()));
    await sys.clients.close();
    const latency = rounded(summarize(report.viewerLatencies, missingOf(report.viewerLatencies.length, opened.sampledOpened * (tps * windowS - 1))));
    return { usPerDelivered: (measured.cpuUs['server'] ?? Number.NaN) / (opened.opened * tps * measured.seconds), latency, cpuPercent: roundAll(measured.cpuPercent) };
  } finally {
    await floor.close();
  }
}
