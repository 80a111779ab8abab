/**
 * A diagnostic for the benchmark: with `node --expose-gc` and `GC_ON_SIGUSR2=1`, SIGUSR2 runs a full
 * garbage collection, so memory read right after it is what the process holds, not garbage the
 * collector has not reached yet (memory per viewer is read that way). After each collection the process
 * writes `gc-memory <n> <process.memoryUsage() as JSON>` on stdout (n counts the collections): the bench takes the V8 heap's free space
 * off the resident size, which a fresh process has more or less of by chance. Without both, SIGUSR2
 * keeps Node's default and nothing is installed. Whether it was installed.
 */
export function installGcSignal(env: NodeJS.ProcessEnv = process.env): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (env['GC_ON_SIGUSR2'] !== '1' || typeof gc !== 'function') return false;
  let collections = 0;
  process.on('SIGUSR2', () => {
    gc();
    process.stdout.write(`gc-memory ${++collections} ${JSON.stringify(process.memoryUsage())}\n`);
  });
  return true;
}
