/** Repeated runs of a scenario, folded into one row per figure: the median, the range, the validity. */
import { windowValid, type Row } from './result.js';
import { percentile } from './stats.js';

/** One figure over the runs. */
export interface Spread {
  /** The median of the valid runs (a string figure: the median run's; NaN when no run was valid). */
  readonly median: number | string | null;
  readonly min: number | null;
  readonly max: number | null;
}

/** One line of the final table. */
export interface SummaryRow {
  readonly scenario: string;
  readonly metric: string;
  readonly genrelay: Spread;
  readonly baseline: Spread;
  readonly target: string | null;
  /** Judged on the medians; null without a target or without a valid run. */
  readonly met: boolean | null;
  readonly validRuns: number;
  readonly runs: number;
  /** Median over the valid runs of the machine's busy share (%) and the clients' p99 loop delay (ms). */
  readonly machineBusyPct: number | null;
  readonly clientLoopDelayP99Ms: number | null;
  /** The clients' loop-delay bound the runs were held to. */
  readonly boundMs: number | null;
}

/** Lower median of numbers, the nearest-rank p50 (Infinity sorts last, so lost samples are not hidden); NaN when empty. */
export function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 0.5);
}

const key = (r: Row) => `${r.scenario}\u0000${r.metric}`;

/** Folds the rows of `runs` (one array per run of the same scenario) into one summary row per figure. */
export function summarizeRuns(runs: readonly (readonly Row[])[]): SummaryRow[] {
  const order: string[] = [];
  const byKey = new Map<string, Row[]>();
  for (const rows of runs) {
    for (const r of rows) {
      const k = key(r);
      if (!byKey.has(k)) {
        byKey.set(k, []);
        order.push(k);
      }
      byKey.get(k)?.push(r);
    }
  }
  return order.map((k) => summarizeFigure(byKey.get(k) ?? [], runs.length));
}

function summarizeFigure(rows: readonly Row[], runs: number): SummaryRow {
  const first = rows[0] as Row;
  // Runs that failed have no row: they count in `runs`, not in `validRuns`.
  const valid = rows.filter((r) => windowValid(r.window));
  const genrelay = spread(valid.map((r) => r.genrelay));
  const baseline = spread(valid.map((r) => r.baseline));
  let met: boolean | null = null;
  if (first.target !== null && valid.length > 0) {
    if (first.meets !== undefined && typeof genrelay.median === 'number') {
      met = first.meets(genrelay.median, typeof baseline.median === 'number' ? baseline.median : Number.NaN);
    } else {
      met = medianRun(valid)?.met ?? null;
    }
  }
  const windows = valid.flatMap((r) => (r.window === undefined ? [] : [r.window]));
  return {
    scenario: first.scenario,
    metric: first.metric,
    genrelay,
    baseline,
    target: first.target,
    met,
    validRuns: valid.length,
    runs,
    machineBusyPct: windows.length === 0 ? null : median(windows.map((w) => w.machineBusyPct)),
    clientLoopDelayP99Ms: windows.length === 0 ? null : median(windows.map((w) => w.clientLoopDelayP99Ms)),
    boundMs: rows.find((r) => r.window !== undefined)?.window?.boundMs ?? null,
  };
}

/** The run whose genrelay figure is the median (its own verdict stands for figures without `meets`). */
function medianRun(rows: readonly Row[]): Row | undefined {
  const numeric = rows.filter((r) => typeof r.genrelay === 'number');
  if (numeric.length === 0) return rows[Math.floor((rows.length - 1) / 2)];
  const m = median(numeric.map((r) => r.genrelay as number));
  return numeric.find((r) => r.genrelay === m);
}

function spread(values: readonly (number | string | null)[]): Spread {
  const numeric = values.filter((v): v is number => typeof v === 'number');
  if (numeric.length > 0 && numeric.length === values.length) {
    // A run that measured nothing (NaN) has no figure: the others' median, not a silent pick.
    const numbers = numeric.filter((v) => !Number.isNaN(v));
    if (numbers.length === 0) return { median: Number.NaN, min: null, max: null };
    return { median: median(numbers), min: Math.min(...numbers), max: Math.max(...numbers) };
  }
  if (values.length === 0) return { median: null, min: null, max: null };
  // Text figures (counts like "10000 / 0 / 0", a peer's failure): the middle run's, with no range.
  return { median: values[Math.floor((values.length - 1) / 2)] ?? null, min: null, max: null };
}
