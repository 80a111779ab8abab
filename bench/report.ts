import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ProfileSummary } from './profile-summary.js';
import type { SummaryRow, Spread } from './aggregate.js';
import { windowValid, type Row, type ScenarioResult } from './result.js';

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));

/** The machine the figures come from. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGb: number;
  readonly node: string;
  readonly redis: string;
  readonly kernel: string;
  /** The commit measured, and the files under src/ that differed from it (other work in progress). */
  readonly git: { readonly commit: string; readonly dirtySrc: readonly string[] };
}

/** CPU, memory, Node and Redis versions. */
export function machineInfo(redisVersion: string): MachineInfo {
  let model = cpus()[0]?.model ?? 'unknown';
  try {
    model = /^Model name:\s*(.+)$/m.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1]?.trim() ?? model;
  } catch {
    // lscpu is optional
  }
  return {
    cpuModel: model,
    cores: cpus().length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: redisVersion,
    kernel: release(),
    git: gitState(),
  };
}

function gitState(): MachineInfo['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' });
    return { commit, dirtySrc: dirty.split('\n').filter((l) => l.trim() !== '').map((l) => l.slice(3)) };
  } catch {
    return { commit: 'unknown', dirtySrc: [] };
  }
}

const cell = (v: number | string | boolean | null): string => {
  if (v === null) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'NO';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Math.round(v * 100) / 100) : v > 0 ? '∞ (lost)' : String(v);
  return v;
};

function table(head: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

/** One run's table: scenario, metric, genrelay, baseline, target, met?, and the window's validity. */
export function formatTable(rows: readonly Row[]): string {
  const head = ['scenario', 'metric', 'genrelay', 'baseline', 'target', 'met?', 'busy % / client lag p99 ms'];
  const body = rows.map((r) => [
    r.scenario, r.metric, cell(r.genrelay), cell(r.baseline), cell(r.target), windowValid(r.window) ? cell(r.met) : 'invalid',
    r.window === undefined ? '—' : `${cell(r.window.machineBusyPct)} / ${cell(r.window.clientLoopDelayP99Ms)}${windowValid(r.window) ? '' : r.window.streamEnded === true ? ' (stream ended first)' : ` > ${r.window.boundMs}`}`,
  ]);
  return table(head, body);
}

const spreadCell = (s: Spread): string =>
  s.median === null ? '—' : s.min === null || s.max === null || s.min === s.max ? cell(s.median) : `${cell(s.median)} (${cell(s.min)}–${cell(s.max)})`;

/**
 * The final table: medians of the valid runs with their ranges (min–max), the target judged on the
 * medians, how many runs were valid, and the median machine busy share and client loop delay.
 */
export function formatSummary(rows: readonly SummaryRow[]): string {
  const head = ['scenario', 'metric', 'genrelay median (range)', 'baseline median (range)', 'target', 'met?', 'valid runs', 'busy %', 'client lag p99 ms (bound)'];
  const body = rows.map((r) => [
    r.scenario, r.metric, spreadCell(r.genrelay), spreadCell(r.baseline), cell(r.target),
    r.validRuns === 0 ? 'invalid' : cell(r.met), `${r.validRuns}/${r.runs}`,
    r.machineBusyPct === null ? '—' : cell(Math.round(r.machineBusyPct)),
    r.clientLoopDelayP99Ms === null ? '—' : `${cell(r.clientLoopDelayP99Ms)} (≤ ${r.boundMs ?? '—'})`,
  ]);
  return table(head, body);
}

/** Everything written to the JSON file. */
export interface BenchResults {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationS: number;
  readonly argv: readonly string[];
  readonly machine: MachineInfo;
  readonly notes: readonly string[];
  /** Medians and ranges over the runs: what the README quotes. */
  readonly summary: readonly SummaryRow[];
  /** Every run's rows, in order. */
  readonly rows: readonly (Row & { readonly run: number })[];
  /** Per scenario, each run's details in order. */
  readonly scenarios: Readonly<Record<string, readonly (ScenarioResult['details'] | { error: string })[]>>;
  readonly profiles: readonly ProfileSummary[];
}

/** Writes `results/<ISO timestamp>.json` and `results/latest.json`; the timestamped path. */
export function writeResults(results: BenchResults): string {
  mkdirSync(resultsDir, { recursive: true });
  const json = `${JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`;
  const file = `${resultsDir}${results.startedAt.replace(/:/g, '-')}.json`;
  writeFileSync(file, json);
  writeFileSync(`${resultsDir}latest.json`, json);
  return file;
}
