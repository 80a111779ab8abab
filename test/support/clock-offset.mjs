// Preload (`node --import`) that shifts this process's clock by CLOCK_OFFSET_MS: `Date.now()` and
// `new Date()` run that far ahead (negative: behind), as on a host whose clock is off. Timers and
// `performance.now()` are untouched, as they are on such a host.
const offset = Number(process.env.CLOCK_OFFSET_MS ?? 0);
const RealDate = Date;
class OffsetDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offset);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offset;
  }
}
globalThis.Date = OffsetDate;
