import { eventsPath, mapLimit, messagesBody, submitJob } from '../genrelay-http.js';
import type { ScenarioResult } from '../result.js';
import { missingOf, round, roundAll, rounded, summarize } from '../stats.js';
import { startCpus } from '../proc-stats.js';
import type { BenchSystem } from '../system.js';
import { sleep, sleepUntil, wallClockMs } from '../timing.js';
import { cancelAndSettle } from './jobs.js';

/**
 * Scenario 1: upstream write → viewer read through genrelay (100 jobs × 10 viewers), against the same
 * kind of upstream stream read directly with the SDK (100 streams), at the same time, in the same
 * client processes. Every delta carries the simulator's write time; each stamp is one sample.
 */
export async function relayOverhead(sys: BenchSystem): Promise<ScenarioResult> {
  const quick = sys.options.quick;
  const jobs = quick ? 10 : 100;
  const viewersPerJob = 10;
  const sampledPerJob = 2;
  const tps = 20;
  const windowS = quick ? 4 : 12;
  const warmupS = 1.5;
  const graceMs = 2000;
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
  const cpu = startCpus({ api: sys.api.proc.pid, worker: sys.worker.pid, redis: sys.redisProc.pid, simulator: sys.sim.proc.pid, clients: sys.clients.procs.map((p) => p.pid) });
  await sleep(windowS * 1000);
  const to = wallClockMs();
  const cpuPct = cpu.stop();
  await sleep(graceMs);
  const report = await sys.clients.report(from, to);
  const unsettled = await cancelAndSettle(sys, ids);
  await sys.clients.close();

  const expectedPerStream = tps * windowS - 1;
  const relay = summarize(report.viewerLatencies, missingOf(report.viewerLatencies.length, opened.sampledOpened * expectedPerStream));
  const direct = summarize(report.sdkLatencies, missingOf(report.sdkLatencies.length, jobs * expectedPerStream));
  const d50 = relay.p50 - direct.p50;
  const d99 = relay.p99 - direct.p99;
  const label = `1 relay overhead (${jobs}×${viewersPerJob})`;
  return {
    name: 'relay_overhead',
    rows: [
      { scenario: label, metric: 'p50 upstream→viewer (ms)', genrelay: round(relay.p50), baseline: round(direct.p50), target: null, met: null },
      { scenario: label, metric: 'p99 upstream→viewer (ms)', genrelay: round(relay.p99), baseline: round(direct.p99), target: null, met: null },
      { scenario: label, metric: 'p50 overhead Δ (ms)', genrelay: round(d50), baseline: 0, target: '≤ 2', met: d50 <= 2 },
      { scenario: label, metric: 'p99 overhead Δ (ms)', genrelay: round(d99), baseline: 0, target: '≤ 10', met: d99 <= 10 },
    ],
    details: {
      jobs, viewersPerJob, sampledViewers: opened.sampledOpened, directStreams: jobs, deltasPerS: tps, windowS,
      open: opened, viewers: report.viewers, sdk: report.sdk,
      genrelay: rounded(relay), direct: rounded(direct),
      deltaP50Ms: round(d50), deltaP99Ms: round(d99),
      cpuPercent: roundAll(cpuPct), clientLoopDelayP99Ms: round(report.loopDelayP99Ms), jobsNotSettled: unsettled,
    },
  };
}

