/**
 * Probe: what one job pays for tracing while it is off, in ns. With tracing off genrelay registers
 * nothing and makes no span; a job meets only the checks below, one per place the traced path
 * branches off (copied from those places, in the order a job meets them):
 * - `routes/jobs.ts`: the request span is a middleware registered only when on (no per-job check);
 *   `requestCarrier(res.locals)`: one property read;
 * - `submit-job.ts`: `trace?.traceparent` for the record, `trace === undefined` for the queue data;
 * - `job-store.ts` `recordFields`: `job.traceparent === undefined`;
 * - `create-processor.ts`: `deps.tracer === undefined`, then six `traced?.…` calls on undefined;
 * - `run-attempt.ts`: `observe === undefined`, once per attempt (not per event);
 * - `event-hub.ts` `attach`, per viewer: `deps.tracing === undefined` and two ternaries.
 * It times those checks on real objects shaped like the real ones against the same loop without them
 * (the same allocations), over `iterations` jobs, `rounds` times; prints the median and range.
 * Run: `npx tsx bench/probes/tracing-off-cost.ts [iterations] [rounds]` (default 5e6 5).
 */
import { performance } from 'node:perf_hooks';
import type { AttemptTrace } from '../../src/worker/attempt-trace.js';

const [iterations = 5_000_000, rounds = 5] = process.argv.slice(2).map(Number);

interface Deps {
  readonly tracer: object | undefined;
  readonly tracing: object | undefined;
}
interface Job {
  readonly jobId: string;
  readonly trace?: { readonly traceparent: string };
}

// Kept where the optimiser cannot drop the work.
let sink = 0;
// What the traced path would use; never set here, typed as the real code types them.
let attemptTrace: AttemptTrace | undefined;
let tracedDelivery: { readonly sink: number; end(n: number): void } | undefined;
const started: Parameters<AttemptTrace['started']> = [1, { model: 'm', max_tokens: 1, messages: [], stream: true }, new AbortController().signal];

function withChecks(deps: Deps, locals: Record<string, unknown>, i: number): void {
  const trace = locals['traceCarrier'] as Job['trace'];
  const record = { id: `j${i & 7}`, traceparent: trace?.traceparent };
  const data: Job = trace === undefined ? { jobId: record.id } : { jobId: record.id, trace };
  const fields = record.traceparent === undefined ? 1 : 2;
  const traced = deps.tracer === undefined ? undefined : attemptTrace;
  traced?.notStarted('x');
  traced?.started(...started);
  traced?.firstToken(i);
  traced?.outcome('completed', { kind: 'completed', stopReason: null });
  traced?.end();
  const observe = traced?.observe;
  const perEvent = observe === undefined ? 1 : 2;
  const delivery = deps.tracing === undefined ? undefined : tracedDelivery;
  const viewerSink = delivery === undefined ? i : delivery.sink;
  const onClose = delivery === undefined ? fields : perEvent;
  sink += data.jobId.length + fields + perEvent + viewerSink + onClose;
}

function withoutChecks(_deps: Deps, _locals: Record<string, unknown>, i: number): void {
  const record = { id: `j${i & 7}` };
  const data: Job = { jobId: record.id };
  sink += data.jobId.length + 1 + 1 + i + 1;
}

function time(fn: typeof withChecks, deps: Deps, locals: Record<string, unknown>): number {
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn(deps, locals, i);
  return ((performance.now() - t0) * 1e6) / iterations;
}

const deps: Deps = { tracer: undefined, tracing: undefined };
const locals: Record<string, unknown> = {};
// Warm both up first (the optimiser's tiers), then alternate so drift hits both alike.
time(withChecks, deps, locals);
time(withoutChecks, deps, locals);
const diffs: number[] = [];
for (let r = 0; r < rounds; r++) {
  const a = time(withChecks, deps, locals);
  const b = time(withoutChecks, deps, locals);
  diffs.push(a - b);
  console.log(`round ${r + 1}: with checks ${a.toFixed(2)} ns/job, without ${b.toFixed(2)} ns/job, difference ${(a - b).toFixed(2)} ns`);
}
diffs.sort((x, y) => x - y);
const median = diffs[Math.floor(diffs.length / 2)] ?? Number.NaN;
console.log(`tracing off costs ${median.toFixed(2)} ns per job (median of ${rounds}; range ${diffs[0]?.toFixed(2)}–${diffs.at(-1)?.toFixed(2)}; checksum ${sink % 997})`);
