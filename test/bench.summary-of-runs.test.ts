import { describe, expect, it } from 'vitest';
import { median, summarizeRuns } from '../bench/aggregate.js';
import { formatSummary } from '../bench/report.js';
import type { Row, WindowCheck } from '../bench/result.js';

// The bench's table of repeated runs: medians of the valid runs with their ranges, a target judged on
// the medians, and runs whose measuring clients lagged past the bound left out (and said so).
const ok = (lag = 1): WindowCheck => ({ machineBusyPct: 40, clientLoopDelayP99Ms: lag, boundMs: 5 });
const delta = (v: number, window: WindowCheck): Row => ({
  scenario: '1 overhead', metric: 'p50 Δ (ms)', genrelay: v, baseline: 0, target: '≤ 1', met: v <= 1, meets: (x) => x <= 1, window,
});

describe('the summary of repeated bench runs', () => {
  it('takes the median of the valid runs, with the range, and judges the target on the median', () => {
    // One good run alone would meet the target; the median of three does not.
    const [row] = summarizeRuns([[delta(0.8, ok())], [delta(1.4, ok())], [delta(1.2, ok())]]);
    expect(row?.genrelay).toEqual({ median: 1.2, min: 0.8, max: 1.4 });
    expect(row?.met).toBe(false);
    expect(row?.validRuns).toBe(3);
  });

  it('leaves out runs whose clients lagged past the bound, and marks a figure with no valid run invalid', () => {
    const [row] = summarizeRuns([[delta(0.5, ok(9))], [delta(0.9, ok())], [delta(3, ok())]]);
    expect(row?.validRuns).toBe(2);
    expect(row?.genrelay.min).toBe(0.9);
    const [none] = summarizeRuns([[delta(0.5, ok(9))], [delta(0.6, ok(7))]]);
    expect(none?.validRuns).toBe(0);
    expect(none?.met).toBeNull();
    expect(formatSummary(none === undefined ? [] : [none])).toContain('invalid');
  });

  it('keeps lost samples visible: an infinite run is the median when it is the middle one', () => {
    expect(median([2, Number.POSITIVE_INFINITY, 1])).toBe(2);
    expect(median([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 1])).toBe(Number.POSITIVE_INFINITY);
    expect(median([])).toBeNaN();
  });

  it('a target without a test of figures is judged by the median run', () => {
    const row = (v: number, met: boolean): Row => ({ scenario: 's', metric: 'm', genrelay: v, baseline: null, target: 'all running', met });
    expect(summarizeRuns([[row(1, false)], [row(3, true)], [row(2, true)]])[0]?.met).toBe(true);
    expect(summarizeRuns([[row(1, true)], [row(3, true)], [row(2, false)]])[0]?.met).toBe(false);
  });
});
