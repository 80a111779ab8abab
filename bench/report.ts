import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ProfileSummary } from './profile-summary.js';
import type { Row, ScenarioResult } from './result.js';

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

/** The results table as text: scenario, metric, genrelay, baseline, target, met?. */
export function formatTable(rows: readonly Row[]): string {
  const head = ['scenario', 'metric', 'genrelay', 'baseline', 'target', 'met?'];
  const cell = (v: number | string | boolean | null): string => {
    if (v === null) return '—';
    if (typeof v === 'boolean') return v ? 'yes' : 'NO';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : v > 0 ? '∞ (lost)' : String(v);
    return v;
  };
  const body = rows.map((r) => [r.scenario, r.metric, cell(r.genrelay), cell(r.baseline), cell(r.target), cell(r.met)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

/** Everything written to the JSON file. */
export interface BenchResults {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationS: number;
  readonly argv: readonly string[];
  readonly machine: MachineInfo;
  readonly notes: readonly string[];
  readonly rows: readonly Row[];
  readonly scenarios: Readonly<Record<string, ScenarioResult['details'] | { error: string }>>;
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
