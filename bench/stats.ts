/** Percentiles and summaries of latency samples (milliseconds). */

/** p50 / p99 / mean / max of a set of samples, with the count; NaN fields when there are none. */
export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

/** Nearest-rank percentile of sorted samples (`q` in 0..1); NaN when empty. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/**
 * Summarises samples (any order; the input is not modified). `missing` samples that never arrived
 * count as infinitely late, so a percentile they reach is `Infinity` rather than a flattering number;
 * `n` counts the samples that did arrive.
 */
export function summarize(samples: ArrayLike<number>, missing = 0): Summary {
  const present = Float64Array.from(samples).sort();
  const sorted = new Float64Array(present.length + Math.max(0, Math.round(missing)));
  sorted.set(present);
  sorted.fill(Number.POSITIVE_INFINITY, present.length);
  let sum = 0;
  for (const v of present) sum += v;
  return {
    n: present.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    mean: present.length === 0 ? Number.NaN : sum / present.length,
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] ?? Number.NaN),
  };
}

/** Samples expected but not received (never negative). */
export function missingOf(received: number, expected: number): number {
  return Math.max(0, Math.floor(expected) - received);
}

/** Rounds for display and JSON: 3 significant decimals are noise at these scales. */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A summary with every figure rounded. */
export function rounded(s: Summary, digits = 2): Summary {
  return { n: s.n, p50: round(s.p50, digits), p90: round(s.p90, digits), p99: round(s.p99, digits), mean: round(s.mean, digits), max: round(s.max, digits) };
}

/** Rounds every value of a record. */
export function roundAll(values: Readonly<Record<string, number>>, digits = 1): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v, digits)]));
}
