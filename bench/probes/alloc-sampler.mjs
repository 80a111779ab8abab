// What allocates, garbage included: V8's sampling heap profiler with the objects that minor and major
// GCs collected kept in the samples (`--heap-prof` keeps only live ones, so it cannot say what makes
// the garbage). Preload it into one process:
//   ALLOC_SAMPLE=worker/main NODE_OPTIONS="--import=$PWD/bench/probes/alloc-sampler.mjs" npm run bench -- --only=workers --workers=1000 --runs=1
// It starts after ALLOC_START_MS (default 6000), samples for ALLOC_DURATION_MS (default 8000) and writes
// `<ALLOC_OUT or /tmp>/alloc-<pid>.heapprofile` and its GC pauses by kind to `….gc.json`
// (ALLOC_GC_ONLY=1: the pauses alone, without the profiler's cost); summarise with `npx tsx bench/probes/alloc-summary.ts <file>`.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { constants, PerformanceObserver } from 'node:perf_hooks';

const match = process.env.ALLOC_SAMPLE;
if (match !== undefined && (process.argv[1] ?? '').includes(match)) {
  const startMs = Number(process.env.ALLOC_START_MS ?? 6000);
  const durationMs = Number(process.env.ALLOC_DURATION_MS ?? 8000);
  const out = `${process.env.ALLOC_OUT ?? '/tmp'}/alloc-${process.pid}.heapprofile`;
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
  // GC pauses by kind over the same window (perf_hooks' gc entries), written beside the profile.
  const kinds = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb' };
  const gc = {};
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = kinds[e.detail?.kind] ?? String(e.detail?.kind);
      const k = (gc[kind] ??= { count: 0, ms: 0, maxMs: 0 });
      k.count += 1;
      k.ms += e.duration;
      k.maxMs = Math.max(k.maxMs, e.duration);
    }
  });
  setTimeout(async () => {
    observer.observe({ entryTypes: ['gc'] });
    if (process.env.ALLOC_GC_ONLY === '1') {
      setTimeout(() => {
        observer.disconnect();
        writeFileSync(`${out}.gc.json`, JSON.stringify({ windowMs: durationMs, gc }));
      }, durationMs).unref();
      return;
    }
    await post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      // ALLOC_LIVE=1: only what is still alive when sampling stops (what survives, not what is made).
      includeObjectsCollectedByMajorGC: process.env.ALLOC_LIVE !== '1',
      includeObjectsCollectedByMinorGC: process.env.ALLOC_LIVE !== '1',
    });
    setTimeout(async () => {
      observer.disconnect();
      const { profile } = await post('HeapProfiler.stopSampling');
      writeFileSync(`${out}.gc.json`, JSON.stringify({ windowMs: durationMs, gc }));
      writeFileSync(out, JSON.stringify(profile));
      process.stderr.write(`alloc-sampler: wrote ${out}\n`);
    }, durationMs).unref();
  }, startMs).unref();
}
