/** What a scenario hands to the report: table rows, plus details for the JSON. */

/** One line of the results table. */
export interface Row {
  /** e.g. `1 relay overhead`. */
  readonly scenario: string;
  /** e.g. `p99 Δ vs direct SDK (ms)`. */
  readonly metric: string;
  readonly genrelay: number | string;
  /** The figure of the baseline measured in the same run (direct SDK, resumable-stream), if any. */
  readonly baseline: number | string | null;
  /** The target in words, e.g. `≤ 10`; null when the figure has none. */
  readonly target: string | null;
  /** Whether the target is met; null when there is none. */
  readonly met: boolean | null;
}

/** A scenario's outcome. */
export interface ScenarioResult {
  readonly name: string;
  readonly rows: Row[];
  /** Everything measured, for the JSON (sizes, windows, counts, raw summaries, CPU, errors). */
  readonly details: Record<string, unknown>;
}
