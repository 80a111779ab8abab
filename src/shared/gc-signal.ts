/**
 * A diagnostic for the benchmark: with `node --expose-gc` and `GC_ON_SIGUSR2=1`, SIGUSR2 runs a full
 * garbage collection, so memory read right after it is what the process holds, not garbage the
 * collector has not reached yet (memory per viewer is read that way). Without both, SIGUSR2 keeps
 * Node's default and nothing is installed. Whether it was installed.
 */
export function installGcSignal(env: NodeJS.ProcessEnv = process.env): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (env['GC_ON_SIGUSR2'] !== '1' || typeof gc !== 'function') return false;
  process.on('SIGUSR2', () => gc());
  return true;
}
