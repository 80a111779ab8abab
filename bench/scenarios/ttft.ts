import Anthropic from '@anthropic-ai/sdk';
import { eventsPath, messagesBody, submitJob, type Directive } from '../genrelay-http.js';
import { jobKeys } from '../../src/shared/keys.js';
import { startCpus } from '../proc-stats.js';
import { inWindow, type ScenarioResult } from '../result.js';
import { openViewer } from '../sse-client.js';
import { round, rounded, summarize } from '../stats.js';
import type { BenchSystem } from '../system.js';
import { loopLag, pollUntil, wallClockMs, type LoopLag } from '../timing.js';

/**
 * Scenario 2: time to first token. genrelay: `POST /v1/jobs`, then a viewer connects; until the first
 * delta reaches the viewer (queue pick-up, attempt start, upstream request, append, relay). Direct:
 * `messages.create({stream: true})` until the first text delta. Pairs alternate, one at a time, from
 * the driver process (which is otherwise idle), so neither path waits behind the other.
 */
export async function timeToFirstToken(sys: BenchSystem): Promise<ScenarioResult> {
  const pairs = sys.options.quick ? 12 : 50;
  const warmup = 3;
  const directive: Directive = { tokens: 5, tps: 100, ttft_ms: 20, stamp: true, tag: 'ttft' };
  const client = new Anthropic({ apiKey: 'bench', baseURL: sys.sim.url, maxRetries: 0 });
  const relay: number[] = [];
  const direct: number[] = [];
  // From the record (Redis clock, whole ms): created → started is the queue's pick-up; started →
  // first token is the attempt's start, the upstream's first token and its append.
  const pickUp: number[] = [];
  const submitMs: number[] = [];
  const startToFirst: number[] = [];
  const failures: string[] = [];
  // The viewers live in this process here: its own loop lag is the clients'.
  let loop: LoopLag | undefined;
  let cpu: ReturnType<typeof startCpus> | undefined;

  for (let i = 0; i < warmup + pairs; i++) {
    if (i === warmup) {
      loop = loopLag();
      cpu = startCpus({ api: sys.api.proc.pid, worker: sys.worker.pid });
    }
    const g = await genrelayFirstToken(sys, directive).catch((err: unknown) => {
      failures.push(String(err));
      return undefined;
    });
    const d = await directFirstToken(client, directive);
    if (i < warmup) continue;
    if (g !== undefined) {
      relay.push(g.ms);
      submitMs.push(g.submitMs);
      const fields = await sys.redis.hmget(jobKeys(sys.keyPrefix, g.id).record, 'created_at', 'started_at', 'first_token_at', 'attempt');
      const [created = Number.NaN, started = Number.NaN, first = Number.NaN] = fields.slice(0, 3).map((f) => (f === null ? Number.NaN : Number(f)));
      // One attempt only: started_at is the first attempt's, first_token_at the last one's.
      if (fields[3] === '1' && [created, started, first].every(Number.isFinite)) {
        pickUp.push(started - created);
        startToFirst.push(first - started);
      }
    }
    direct.push(d);
  }
  const cpuPct = cpu?.stop() ?? {};
  const check = { machineBusyPct: round(cpuPct['machine'] ?? Number.NaN, 1), clientLoopDelayP99Ms: round(loop?.p99Ms() ?? Number.NaN), boundMs: 5 };
  loop?.disable();

  const g = summarize(relay, pairs - relay.length);
  const d = summarize(direct);
  const label = `2 time to first token (${pairs} pairs)`;
  return {
    name: 'ttft',
    rows: inWindow([
      { scenario: label, metric: 'p50 TTFT (ms)', genrelay: round(g.p50), baseline: round(d.p50), target: null, met: null },
      { scenario: label, metric: 'p99 TTFT (ms)', genrelay: round(g.p99), baseline: round(d.p99), target: null, met: null },
      { scenario: label, metric: 'p50 Δ (ms)', genrelay: round(g.p50 - d.p50), baseline: 0, target: '< 5', met: g.p50 - d.p50 < 5, meets: (v) => v < 5 },
      { scenario: label, metric: 'p99 Δ (ms)', genrelay: round(g.p99 - d.p99), baseline: 0, target: null, met: null },
      { scenario: label, metric: 'p50 POST /v1/jobs → 202 (ms)', genrelay: round(summarize(submitMs).p50), baseline: null, target: null, met: null },
      { scenario: label, metric: 'p50 queue pick-up: created → started (ms, Redis clock)', genrelay: summarize(pickUp).p50, baseline: null, target: null, met: null },
      { scenario: label, metric: 'p50 started → first token (ms, Redis clock)', genrelay: summarize(startToFirst).p50, baseline: round(d.p50), target: null, met: null },
    ], check),
    details: {
      submitMs: rounded(summarize(submitMs)), pickUpMs: rounded(summarize(pickUp)), startToFirstTokenMs: rounded(summarize(startToFirst)), window: check, cpuPercent: cpuPct,
      pairs, simulatorTtftMs: directive['ttft_ms'], genrelay: rounded(g), direct: rounded(d),
      deltaP50Ms: round(g.p50 - d.p50), deltaP99Ms: round(g.p99 - d.p99), failures,
    },
  };
}

/** POST a job, connect a viewer, wait for its first delta: ms from before the POST, and the job. */
async function genrelayFirstToken(sys: BenchSystem, directive: Directive): Promise<{ ms: number; submitMs: number; id: string }> {
  const t0 = wallClockMs();
  const id = await submitJob(sys.api.url, directive, 100);
  const submitMs = wallClockMs() - t0;
  const viewer = await openViewer({ host: sys.api.host, port: sys.api.port, path: eventsPath(id), sampled: true });
  const got = await pollUntil(() => viewer.counters.firstStampAt > 0 || viewer.counters.closed !== undefined, 10_000, 1);
  const first = viewer.counters.firstStampAt;
  // The job is 5 deltas long: let it end, so the next pair starts from an idle system.
  await pollUntil(() => viewer.counters.closed !== undefined, 5000, 5);
  viewer.close();
  if (!got || first === 0) throw new Error(`job ${id}: no delta (status ${viewer.counters.status}, ${viewer.counters.closed})`);
  return { ms: first - t0, submitMs, id };
}

/** The SDK's first text delta: ms from before `create`. */
async function directFirstToken(client: Anthropic, directive: Directive): Promise<number> {
  const t0 = wallClockMs();
  let first = 0;
  const stream = await client.messages.create({ ...messagesBody(directive, 100), stream: true });
  for await (const event of stream) {
    if (first === 0 && event.type === 'content_block_delta') first = wallClockMs();
  }
  return first - t0;
}
