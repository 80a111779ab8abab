import type { ClientPool } from '../client-pool.js';
import type { Directive } from '../genrelay-http.js';
import { rssBytes } from '../proc-stats.js';
import type { WindowCheck } from '../result.js';
import { missingOf, round, roundAll, rounded, summarize, type Summary } from '../stats.js';
import { pollUntil, sleep, sleepUntil, wallClockMs } from '../timing.js';
import { openWindow } from '../window.js';

/** A system under fan-out: genrelay's API, or the resumable-stream peer. */
export interface FanoutTarget {
  /** Label in the results. */
  readonly name: string;
  /** A fresh server process, warmed up (so every round starts from the same memory baseline). */
  prepare(round: string): Promise<{ host: string; port: number; serverPid: number; serverOutput: () => string; otherPids: Readonly<Record<string, number>> }>;
  /** Starts one stream with `directive`; the path viewers GET (or, on a socket, the frame they send), and how to end it. */
  startStream(directive: Directive, maxTokens: number): Promise<{ path: string; subscribe?: string; stop: () => Promise<void> }>;
  /** After the round: stops whatever could still load the machine during the next one. */
  finish(): Promise<void>;
}

/** What one round measured. */
export interface FanoutRound {
  readonly system: string;
  readonly viewers: number;
  readonly opened: number;
  readonly outcomes: Readonly<Record<string, number>>;
  readonly connectMs: number;
  readonly latency: Summary;
  readonly missingSamples: number;
  readonly serverCpuPercent: number;
  readonly cpuPercent: Record<string, number>;
  readonly rssBeforeMb: number;
  readonly rssWithViewersMb: number;
  /** Memory held (see {@link memoryAfterGc}) before the viewers connected, and with them. */
  readonly heldBeforeMb: number;
  readonly heldWithViewersMb: number;
  /** (held with viewers − held before) / viewers connected, in KB; both read after a full GC. */
  readonly memoryPerViewerKb: number;
  /** The same from RSS alone (the figure before 2026-12-05): noisier by the V8 heap's free space. */
  readonly memoryPerViewerRssKb: number;
  /** The server's CPU per delta delivered to a viewer, µs. */
  readonly serverCpuUsPerDelivered: number;
  readonly check: WindowCheck;
  /** Viewers whose stream closed before it was stopped (errors, cut-offs), by reason. */
  readonly closedEarly: Readonly<Record<string, number>>;
  /** Viewers still connected long after the stream was stopped. */
  readonly stuckAfterStop: number;
  readonly framesMin: number;
  readonly framesMax: number;
  readonly clientLoopDelayP99Ms: number;
}

/** Sizes of a round. */
export interface RoundPlan {
  readonly viewers: number;
  readonly sampled: number;
  readonly tps: number;
  readonly windowS: number;
  /** The clients' p99 loop lag past which the round is invalid. */
  readonly boundMs: number;
}

/** Memory of a server after a full GC: its RSS, and what it holds (RSS − the V8 heap's free space). */
interface Memory {
  readonly rss: number;
  readonly held: number;
}

/** The last `gc-memory <n> {…}` line a server wrote (`src/shared/gc-signal.ts`). */
function lastGcMemory(output: string): { n: number; heapTotal: number; heapUsed: number } | undefined {
  const lines = [...output.matchAll(/^gc-memory (\d+) (\{.*\})$/gm)];
  const last = lines.at(-1);
  if (last === undefined) return undefined;
  const usage = JSON.parse(last[2] ?? '{}') as { heapTotal: number; heapUsed: number };
  return { n: Number(last[1]), heapTotal: usage.heapTotal, heapUsed: usage.heapUsed };
}

/**
 * Memory of `pid` after a full GC (the servers of this scenario run SIGUSR2 → gc(), see
 * gc-signal.ts). RSS alone moves by several MB between identical fresh processes with how much V8 heap
 * they keep committed but empty (fresh API processes: 112–127 MB), as much as 1,000 viewers cost, so a
 * difference of two readings could go negative. `held` takes the heap's free space (heapTotal −
 * heapUsed, reported by the process right after the collection) off the RSS: live objects, code,
 * buffers and native memory stay in it.
 */
async function memoryAfterGc(pid: number, output: () => string): Promise<Memory> {
  const before = lastGcMemory(output())?.n ?? 0;
  process.kill(pid, 'SIGUSR2');
  await sleep(500);
  await pollUntil(() => (lastGcMemory(output())?.n ?? 0) > before, 5000, 50);
  const rss = rssBytes(pid);
  const usage = lastGcMemory(output());
  // No line after this collection (a server without the signal): no figure rather than a wrong one.
  if (usage === undefined || usage.n <= before) return { rss, held: Number.NaN };
  return { rss, held: rss - (usage.heapTotal - usage.heapUsed) };
}

/**
 * One round: fresh server, RSS baseline, one stream held back while `viewers` connect, then a window
 * of streaming at `tps` during which the server's CPU is measured; RSS at the end of the window.
 * Latency samples are the stamps written inside the window, collected after a grace period; those
 * that never arrived count as infinitely late.
 */
export async function runFanoutRound(target: FanoutTarget, clients: ClientPool, plan: RoundPlan): Promise<FanoutRound> {
  try {
    return await measureRound(target, clients, plan);
  } finally {
    await target.finish();
  }
}

async function measureRound(target: FanoutTarget, clients: ClientPool, plan: RoundPlan): Promise<FanoutRound> {
  const warmupS = 1.5;
  const graceMs = 3000;
  const server = await target.prepare(`${plan.viewers}`);
  await sleep(500);
  const memBefore = await memoryAfterGc(server.serverPid, server.serverOutput);
  // The first delta waits until the viewers are (probably) connected; if they take longer they replay.
  const holdMs = 2000 + plan.viewers * 1.2;
  // Room for slow connects (a saturated machine took minutes at 10,000); the stream is stopped after
  // the window anyway, and a window that outlived the stream is marked invalid.
  const streamS = holdMs / 1000 + warmupS + plan.windowS + 60 + plan.viewers * 0.03;
  const tokens = Math.ceil(plan.tps * streamS);
  const startedAt = wallClockMs();
  const stream = await target.startStream({ tokens, tps: plan.tps, ttft_ms: holdMs, stamp: true, tag: `fanout-${target.name}` }, tokens + 10);
  const step = Math.max(1, Math.floor(plan.viewers / plan.sampled));
  const viewers = Array.from({ length: plan.viewers }, (_, i) => ({
    path: stream.path,
    sampled: i % step === 0,
    ...(stream.subscribe === undefined ? {} : { subscribe: stream.subscribe }),
  }));
  const opened = await clients.open(server.host, server.port, viewers);

  const from = Math.max(wallClockMs(), startedAt + holdMs) + warmupS * 1000;
  await sleepUntil(from);
  const window = await openWindow(clients, { server: server.serverPid, ...server.otherPids }, plan.boundMs);
  await sleep(plan.windowS * 1000);
  const to = wallClockMs();
  const closed = await window.close();
  const measured = { ...closed, check: { ...closed.check, ...(to > startedAt + streamS * 1000 ? { streamEnded: true } : {}) } };
  const cpuPct = measured.cpuPercent;
  const memWith = await memoryAfterGc(server.serverPid, server.serverOutput);
  await sleep(graceMs);
  const report = await clients.report(from, to);
  await stream.stop();
  let stuck = report.viewers.open;
  await pollUntil(async () => (stuck = (await clients.report(0, 0)).viewers.open) === 0, 20_000, 250);
  await clients.close();

  const expected = opened.sampledOpened * (plan.tps * plan.windowS - 1);
  const missing = missingOf(report.viewerLatencies.length, expected);
  return {
    system: target.name,
    viewers: plan.viewers,
    opened: opened.opened,
    outcomes: opened.outcomes,
    connectMs: round(opened.ms, 0),
    latency: rounded(summarize(report.viewerLatencies, missing)),
    missingSamples: missing,
    serverCpuPercent: round(cpuPct['server'] ?? Number.NaN, 1),
    cpuPercent: roundAll(cpuPct),
    rssBeforeMb: round(memBefore.rss / 2 ** 20, 1),
    rssWithViewersMb: round(memWith.rss / 2 ** 20, 1),
    heldBeforeMb: round(memBefore.held / 2 ** 20, 1),
    heldWithViewersMb: round(memWith.held / 2 ** 20, 1),
    memoryPerViewerKb: round((memWith.held - memBefore.held) / Math.max(1, opened.opened) / 1024, 2),
    memoryPerViewerRssKb: round((memWith.rss - memBefore.rss) / Math.max(1, opened.opened) / 1024, 2),
    serverCpuUsPerDelivered: round((measured.cpuUs['server'] ?? Number.NaN) / Math.max(1, opened.opened * plan.tps * measured.seconds), 2),
    check: measured.check,
    closedEarly: report.viewers.closed,
    stuckAfterStop: stuck,
    framesMin: report.viewers.framesMin,
    framesMax: report.viewers.framesMax,
    clientLoopDelayP99Ms: measured.check.clientLoopDelayP99Ms,
  };
}
