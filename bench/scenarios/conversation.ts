import Anthropic from '@anthropic-ai/sdk';
import { randomBytes } from 'node:crypto';
import { benchModel, eventsPath, mapLimit, submitJob, type Directive } from '../genrelay-http.js';
import { inWindow, type ScenarioResult } from '../result.js';
import { openViewer } from '../sse-client.js';
import { round, rounded, summarize } from '../stats.js';
import type { BenchSystem } from '../system.js';
import { loopLag, pollUntil, wallClockMs } from '../timing.js';

/** The prepared conversations' system prompt (about 500 tokens). */
const systemPrompt = `You are a patient tutor. ${'Explain step by step, check understanding, and keep a friendly tone. '.repeat(28)}`;

/** Turns each prepared conversation has before the measured one. */
const historyTurns = 20;

/**
 * Scenario 7: a conversation's later turn against a first turn. Prepares `pairs` conversations of 20
 * turns (a user message and a 150-word answer each), then alternates: a one-turn job, and turn 21 of
 * one of them (`previous_job_id`: the API resolves the history at submission, the worker gets it with
 * the attempt's start). Each is timed from before the POST to its first delta at a viewer, and the
 * very request the upstream got is then sent again with the SDK alone (the simulator's log has it):
 * genrelay's overhead is the difference, so a longer request's own cost upstream does not count. The
 * target: turn 21's overhead within 1 ms of turn 1's (p50). Every run's prompts are new (a nonce), so
 * the cache figure is a cold chat's.
 */
export async function conversationTurn(sys: BenchSystem): Promise<ScenarioResult> {
  const pairs = sys.options.quick ? 10 : 40;
  // A chat of some substance: a 2,000-character system prompt, answers of about 150 words.
  const answer: Directive = { tokens: 150, tps: 100000, ttft_ms: 1 };
  const nonce = randomBytes(4).toString('hex');
  const measured = (tag: string): Directive => ({ tokens: 5, tps: 100, ttft_ms: 20, stamp: true, tag });
  const client = new Anthropic({ apiKey: 'bench', baseURL: sys.sim.url, maxRetries: 0 });
  // Input tokens of every prepared turn, as the upstream billed them: plain, cache writes, cache reads.
  const billed = { input: 0, write: 0, read: 0 };
  const chains = await mapLimit(Array.from({ length: pairs }, (_, i) => i), 8, async (i) => {
    let previous = '';
    for (let turn = 1; turn <= historyTurns; turn += 1) {
      previous = await submitTurn(sys, answer, previous, `Conversation ${nonce}-${i}, question ${turn}: tell me more about the topic so far.`);
      const usage = await waitEnded(sys, previous);
      billed.input += usage.input_tokens;
      billed.write += usage.cache_creation_input_tokens ?? 0;
      billed.read += usage.cache_read_input_tokens ?? 0;
    }
    return previous;
  });
  // Anthropic's prices relative to plain input: a 5-minute cache write 1.25×, a read 0.1×.
  const withoutCache = billed.input + billed.write + billed.read;
  const withCache = billed.input + 1.25 * billed.write + 0.1 * billed.read;

  const first: number[] = [];
  const later: number[] = [];
  const firstSubmit: number[] = [];
  const laterSubmit: number[] = [];
  const failures: string[] = [];
  const loop = loopLag();
  for (const [i, previous] of chains.entries()) {
    try {
      const tag1 = `conv1-${nonce}-${i}`;
      const a = await firstToken(sys, () => submitJob(sys.api.url, measured(tag1), 100));
      const a0 = await directFirstToken(client, await upstreamBody(sys, tag1));
      const tag21 = `conv21-${nonce}-${i}`;
      const b = await firstToken(sys, () => submitTurn(sys, measured(tag21), previous, `Conversation ${nonce}-${i}, the last question.`));
      const b0 = await directFirstToken(client, await upstreamBody(sys, tag21));
      first.push(a.ms - a0);
      firstSubmit.push(a.submitMs);
      later.push(b.ms - b0);
      laterSubmit.push(b.submitMs);
    } catch (err) {
      failures.push(String(err));
    }
  }
  const check = { machineBusyPct: Number.NaN, clientLoopDelayP99Ms: round(loop.p99Ms()), boundMs: 5 };
  loop.disable();
  const f = summarize(first, pairs - first.length);
  const l = summarize(later, pairs - later.length);
  const label = `7 conversation turn ${historyTurns + 1} vs turn 1 (${pairs} pairs)`;
  const delta = l.p50 - f.p50;
  return {
    name: 'conversation',
    rows: inWindow([
      { scenario: label, metric: 'p50 overhead: submit → first token − the SDK alone (ms)', genrelay: round(l.p50), baseline: round(f.p50), target: null, met: null },
      { scenario: label, metric: 'p99 overhead (ms)', genrelay: round(l.p99), baseline: round(f.p99), target: null, met: null },
      { scenario: label, metric: 'p50 overhead, turn 21 − turn 1 (ms)', genrelay: round(delta), baseline: 0, target: '≤ 1', met: delta <= 1, meets: (v) => v <= 1 },
      { scenario: label, metric: 'p50 POST /v1/jobs → 202 (ms)', genrelay: round(summarize(laterSubmit).p50), baseline: round(summarize(firstSubmit).p50), target: null, met: null },
      { scenario: label, metric: `input cost of ${historyTurns}-turn chats, % of uncached (turns' breakpoints)`, genrelay: round((100 * withCache) / withoutCache, 1), baseline: 100, target: null, met: null },
    ], check),
    details: { pairs, historyTurns, billed, turn1: rounded(f), turn21: rounded(l), submitTurn1: rounded(summarize(firstSubmit)), submitTurn21: rounded(summarize(laterSubmit)), failures },
  };
}

/** `POST /v1/jobs` continuing `previous` (or a first turn when it is ''); the new job's id. */
async function submitTurn(sys: BenchSystem, directive: Directive, previous: string, words: string): Promise<string> {
  const body = {
    messages: [{ role: 'user', content: `${words} <<sim ${JSON.stringify(directive)}>>` }],
    ...(previous === '' ? { model: benchModel, max_tokens: 400, system: systemPrompt } : { previous_job_id: previous }),
  };
  const res = await fetch(`${sys.api.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as { id?: string };
  if (res.status !== 202 || json.id === undefined) throw new Error(`submit: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json.id;
}

/** Waits for a job to end (`?wait=`); its usage. */
async function waitEnded(sys: BenchSystem, id: string): Promise<{ input_tokens: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number }> {
  const res = await fetch(`${sys.api.url}/v1/jobs/${id}?wait=30`);
  const json = (await res.json()) as { status?: string; usage: { input_tokens: number } };
  if (json.status !== 'completed') throw new Error(`job ${id} ended ${String(json.status)}`);
  return json.usage;
}

/** The body the simulator received for the request tagged `tag` (its log), to send again directly. */
async function upstreamBody(sys: BenchSystem, tag: string): Promise<Anthropic.MessageCreateParamsStreaming> {
  const res = await fetch(`${sys.sim.url}/_sim/requests?tag=${encodeURIComponent(tag)}`);
  const [record] = (await res.json()) as { body: Anthropic.MessageCreateParamsStreaming }[];
  if (record === undefined) throw new Error(`no upstream request tagged ${tag}`);
  return record.body;
}

/** The SDK alone: ms from before `create` to its first content delta. */
async function directFirstToken(client: Anthropic, body: Anthropic.MessageCreateParamsStreaming): Promise<number> {
  const t0 = wallClockMs();
  let first = 0;
  const stream = await client.messages.create({ ...body, stream: true });
  for await (const event of stream) if (first === 0 && event.type === 'content_block_delta') first = wallClockMs();
  return first - t0;
}

/** Submits with `submit`, connects a viewer, waits for its first delta: ms from before the POST. */
async function firstToken(sys: BenchSystem, submit: () => Promise<string>): Promise<{ ms: number; submitMs: number }> {
  const t0 = wallClockMs();
  const id = await submit();
  const submitMs = wallClockMs() - t0;
  const viewer = await openViewer({ host: sys.api.host, port: sys.api.port, path: eventsPath(id), sampled: true });
  const got = await pollUntil(() => viewer.counters.firstStampAt > 0 || viewer.counters.closed !== undefined, 10_000, 1);
  const at = viewer.counters.firstStampAt;
  await pollUntil(() => viewer.counters.closed !== undefined, 5000, 5);
  viewer.close();
  if (!got || at === 0) throw new Error(`job ${id}: no delta`);
  return { ms: at - t0, submitMs };
}
