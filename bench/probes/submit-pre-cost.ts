/**
 * Probe: what the submit path's own request handling costs, warm, in one process: the steps of
 * `POST /v1/jobs` that run before its first Redis command and that genrelay writes (the body's
 * `JSON.parse`, the zod schema, the request hash, a job id). `submit-path.ts` measures the whole "pre"
 * stage (request → first Redis command) at 0.36 ms back to back; this says how much of it these are.
 * Each figure is the mean time of one call over 20,000 calls, median of 5 rounds (range).
 * Run: `npx tsx bench/probes/submit-pre-cost.ts`.
 *
 * Found (2026-12-06 19:33 UTC, 2-core machine, three runs, the median of their medians and their
 * range): JSON.parse 0.92 (0.89–0.92) µs, zod 7.68 (7.37–7.76), hash 3.22 (3.17–3.26), id 2.32
 * (2.04–2.38): about 14 µs of the 360, so the stage's cost is Express's middleware chain, reading the
 * body and the async hops between them, not validation.
 */
import { jobRequestSchema, parseJobRequest } from '../../src/api/job-request.js';
import { hashJson, newJobId } from '../../src/shared/ids.js';
import { round, summarize } from '../stats.js';

const schema = jobRequestSchema({ maxTokensLimit: 64_000, webhookSecrets: [], webhookAllowPrivate: false });
// A typical submission: one user message, a model, metadata (as the bench's TTFT scenario sends).
const body = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages: [{ role: 'user', content: 'Tell me about the weather in a long sentence please.' }],
  metadata: { user: 'u1' },
};
const text = JSON.stringify(body);
const parsed = parseJobRequest(schema, JSON.parse(text));

const steps: Record<string, () => unknown> = {
  'JSON.parse': () => JSON.parse(text),
  'zod (parseJobRequest)': () => parseJobRequest(schema, JSON.parse(text)),
  'request hash (hashJson)': () => hashJson(parsed),
  'job id (newJobId)': () => newJobId(),
};

const calls = 20_000;
const rounds = 5;
const results = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  for (const [name, step] of Object.entries(steps)) {
    for (let i = 0; i < 2_000; i++) step();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) step();
    const us = Number(process.hrtime.bigint() - t0) / calls / 1000;
    results.set(name, [...(results.get(name) ?? []), us]);
  }
}
console.log(`${calls} calls per round, ${rounds} rounds: µs per call, median (range)`);
for (const [name, values] of results) {
  const { p50, max } = summarize(values);
  console.log(`${name.padEnd(26)} ${round(p50, 2)} (${round(Math.min(...values), 2)}–${round(max, 2)})`);
}
