import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseOptions, type ScenarioName } from './options.js';
import { killAllNow, profileDir, stopAll } from './processes.js';
import { formatProfile, summarizeProfile, type ProfileSummary } from './profile-summary.js';
import { redisVersion } from './redis-stats.js';
import { summarizeRuns, type SummaryRow } from './aggregate.js';
import { formatSummary, formatTable, machineInfo, writeResults, type BenchResults } from './report.js';
import type { Row, ScenarioResult } from './result.js';
import { coalescing } from './scenarios/coalesce.js';
import { conversationTurn } from './scenarios/conversation.js';
import { fanout } from './scenarios/fanout.js';
import { relayOverhead } from './scenarios/relay-overhead.js';
import { scaling } from './scenarios/scaling.js';
import { timeToFirstToken } from './scenarios/ttft.js';
import { workerScale } from './scenarios/worker-scale.js';
import { startSystem, type BenchSystem } from './system.js';

/**
 * `npm run bench [-- --quick] [--only=…] [--profile=…]`: starts Redis, the simulator, genrelay's API
 * and worker and the client processes, runs the scenarios, prints the table and writes the JSON.
 * Every child process is stopped at the end, on failure and on Ctrl-C.
 */
const scenarios: Record<ScenarioName, (sys: BenchSystem) => Promise<ScenarioResult>> = {
  overhead: relayOverhead,
  ttft: timeToFirstToken,
  fanout,
  workers: workerScale,
  coalesce: coalescing,
  scaling,
  conversation: conversationTurn,
};

const notes = [
  'Each scenario runs --runs times (default 3); the summary shows the median of the valid runs and the range (min–max); a target is met when the median meets it.',
  'A run is invalid (left out of the medians) when the measuring clients\' own event loop lagged past the bound shown (p99 of the window): it would measure the clients, not genrelay.',
  'Latency = receive time at the viewer − the simulator\'s wall-clock stamp in the delta (performance.timeOrigin + now(), one machine); coalesced deltas give one sample per stamp.',
  'Samples written in the window but not received within the grace period count as infinitely late (∞).',
  'Memory per viewer (fan-out) = (held with N viewers − held by the fresh server) / N, held = VmRSS − the V8 heap\'s free space (heapTotal − heapUsed), each after a full GC; the same for SSE, socket, floor and peer (RSS alone: memoryPerViewerRssKb in the details).',
  'Everything (Redis, simulator, API, worker, peer, client processes) shares the machine\'s cores: latencies include client-side scheduling delay.',
  'Worker scale: 50 tokens/s per generation = 10 deltas/s × 5 tokens per delta (simulator tokens_per_delta); delivered = output tokens recorded by genrelay × 5.',
  'Fan-out baseline = vercel resumable-stream 2.2.13 (ioredis), producer in its own process like genrelay\'s worker, one server process like genrelay\'s API.',
];

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const started = new Date();
  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\nbench: ${signal}, stopping every child process`);
    void stopAll(2000).finally(() => process.exit(130));
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('exit', killAllNow);

  const rows: (Row & { run: number })[] = [];
  const summary: SummaryRow[] = [];
  const details: Record<string, (ScenarioResult['details'] | { error: string })[]> = {};
  let machine = machineInfo('unknown');
  let failed = false;
  try {
    console.log(`bench: starting Redis, simulator, API, worker${options.quick ? ' (quick run)' : ''}…`);
    const sys = await startSystem(options);
    machine = machineInfo(await redisVersion(sys.redis));
    for (const name of Object.keys(scenarios) as ScenarioName[]) {
      if (!options.only.has(name)) continue;
      // Each scenario runs `--runs` times in a row; the summary takes the medians of the valid runs.
      const runs: Row[][] = [];
      for (let run = 1; run <= options.runs; run++) {
        const t0 = Date.now();
        console.log(`bench: ${name}, run ${run} of ${options.runs}…`);
        try {
          const result = await scenarios[name](sys);
          runs.push(result.rows);
          rows.push(...result.rows.map((r) => ({ ...r, run })));
          (details[name] ??= []).push(result.details);
          console.log(`${formatTable(result.rows)}\n(${Math.round((Date.now() - t0) / 1000)} s)\n`);
        } catch (err) {
          failed = true;
          (details[name] ??= []).push({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
          // A run that failed counts as a run with no valid figure (the summary says n-1 of n valid).
          runs.push([]);
          console.error(`bench: ${name} failed:`, err);
          await sys.clients.close().catch(() => {});
        }
      }
      const folded = summarizeRuns(runs);
      summary.push(...folded);
      if (options.runs > 1) console.log(`${formatSummary(folded)}\n`);
    }
    if (sys.traceSink !== undefined) {
      const c = sys.traceSink.counts();
      console.log(`bench: tracing on: ${c.spans} spans in ${c.requests} OTLP/HTTP JSON exports (${Math.round(c.bytes / 1024)} KiB) reached the local sink`);
      details['trace_sink'] = [{ ...c }];
      await sys.traceSink.close();
    }
    sys.redis.disconnect();
  } catch (err) {
    failed = true;
    console.error('bench: could not run:', err);
  } finally {
    await stopAll();
  }

  const profiles = newProfiles(started.getTime());
  const results: BenchResults = {
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: Math.round((Date.now() - started.getTime()) / 1000),
    argv: process.argv.slice(2),
    machine,
    notes,
    summary,
    rows,
    scenarios: details,
    profiles,
  };
  const file = writeResults(results);
  console.log(`\n${formatSummary(summary)}\n`);
  for (const p of profiles) console.log(`${formatProfile(p)}\n`);
  console.log(`machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, Redis ${machine.redis}; genrelay ${machine.git.commit}${machine.git.dirtySrc.length > 0 ? ` + uncommitted ${machine.git.dirtySrc.join(', ')}` : ''}`);
  console.log(`results: ${file} (and bench/results/latest.json), ${results.durationS} s`);
  return failed ? 1 : 0;
}

/** Summaries of the main-thread profiles written since `since` (processes write them when they exit). */
function newProfiles(since: number): ProfileSummary[] {
  const files: string[] = [];
  try {
    for (const dir of readdirSync(profileDir)) {
      const path = join(profileDir, dir);
      if (!statSync(path).isDirectory() || statSync(path).mtimeMs < since) continue;
      for (const f of readdirSync(path)) if (/\.\d+\.0\.\d+\.cpuprofile$/.test(f)) files.push(join(path, f));
    }
  } catch {
    return [];
  }
  return files.sort().map((f) => summarizeProfile(f));
}

main().then((code) => process.exit(code), (err: unknown) => {
  console.error(err);
  process.exit(1);
});
