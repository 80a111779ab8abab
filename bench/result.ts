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
  /**
   * The target as a test of figures, so that repeated runs are judged on their medians; rows with a
   * target and without it are judged by the run whose figure is the median.
   */
  readonly meets?: (genrelay: number, baseline: number) => boolean;
  /** The measurement window the row comes from: decides whether the run is valid. */
  readonly window?: WindowCheck;
}

/**
 * How trustworthy a window's latencies are: how busy the machine was, and how late the measuring
 * clients' own event loops ran (a client that lags adds its lag to every sample). A run whose clients
 * lagged past `boundMs` (p99 event-loop delay) is invalid: shown as such, left out of the medians.
 */
export interface WindowCheck {
  readonly machineBusyPct: number;
  readonly clientLoopDelayP99Ms: number;
  readonly boundMs: number;
  /** The measured stream had ended before the window closed (viewers took too long to connect). */
  readonly streamEnded?: boolean;
}

/** Whether a window's clients kept up. */
export function windowValid(w: WindowCheck | undefined): boolean {
  return w === undefined || (w.streamEnded !== true && !(w.clientLoopDelayP99Ms > w.boundMs));
}

/** `rows` with `window` attached. */
export function inWindow(rows: readonly Row[], window: WindowCheck): Row[] {
  return rows.map((r) => ({ ...r, window }));
}

/** A scenario's outcome. */
export interface ScenarioResult {
  readonly name: string;
  readonly rows: Row[];
  /** Everything measured, for the JSON (sizes, windows, counts, raw summaries, CPU, errors). */
  readonly details: Record<string, unknown>;
}

/** The least trustworthy of several windows (the most client lag), for rows that compare them. */
export function worstWindow(windows: readonly WindowCheck[]): WindowCheck {
  const invalid = windows.find((w) => w.streamEnded === true);
  return invalid ?? windows.reduce((a, b) => (b.clientLoopDelayP99Ms > a.clientLoopDelayP99Ms ? b : a));
}
