import { performance } from 'node:perf_hooks';

/** Opens a wall-clock stamp in a delta's text (U+27E8). */
export const STAMP_OPEN = '\u27e8';
/** Closes a wall-clock stamp (U+27E9). */
export const STAMP_CLOSE = '\u27e9';

/**
 * Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine
 * (`performance.timeOrigin + performance.now()`: Date.now() only has whole milliseconds).
 */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The text `directive.stamp` appends to each streamed text delta: ` ⟨1795216744469.123⟩`. */
export function formatStamp(ms: number = wallClockMs()): string {
  return ` ${STAMP_OPEN}${ms.toFixed(3)}${STAMP_CLOSE}`;
}

const STAMP = /\u27e8(\d+(?:\.\d+)?)\u27e9/g;

/** Calls `each` with every stamp in `text` (several when a relay coalesced deltas), in order. */
export function forEachStamp(text: string, each: (ms: number) => void): void {
  STAMP.lastIndex = 0;
  for (let m = STAMP.exec(text); m !== null; m = STAMP.exec(text)) each(Number(m[1]));
}
