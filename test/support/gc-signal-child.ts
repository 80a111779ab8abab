// Child of shared.gc-signal.test.ts: installs the benchmark's GC signal and reports forced full GCs.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { installGcSignal } from '../../src/shared/gc-signal.js';

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    // Only a collection that gc() forced, not one V8 chose to run by itself.
    const detail = entry.detail as { kind?: number; flags?: number } | undefined;
    const forced = ((detail?.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED) !== 0;
    if (detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR && forced) process.stdout.write('gc forced\n');
  }
}).observe({ entryTypes: ['gc'] });
process.stdout.write(`ready installed=${installGcSignal()}\n`);
setInterval(() => {}, 1000);
