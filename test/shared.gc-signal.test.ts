import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { eventually } from './support/system.js';

// The bench reads memory per viewer after a full GC it asks for with SIGUSR2. Only a process started
// with --expose-gc and GC_ON_SIGUSR2=1 takes that signal; any other keeps Node's default (it ends).
function child(flags: string[], env: Record<string, string>) {
  const proc = spawn(process.execPath, [...flags, '--import', 'tsx', 'test/support/gc-signal-child.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.once('exit', (_code, signal) => resolve(signal)));
  return { proc, output: () => out, exited };
}

describe('the benchmark GC signal', () => {
  it('with --expose-gc and GC_ON_SIGUSR2=1, SIGUSR2 forces a full GC and the process lives on', async () => {
    const c = child(['--expose-gc'], { GC_ON_SIGUSR2: '1' });
    try {
      await eventually(async () => (c.output().includes('ready installed=true') ? true : undefined), 20_000, 'child ready');
      const before = c.output().split('gc forced').length;
      c.proc.kill('SIGUSR2');
      await eventually(async () => (c.output().split('gc forced').length > before ? true : undefined), 10_000, 'a full GC');
      // What it holds after the collection, for the bench's memory per viewer.
      const line = await eventually(async () => /^gc-memory 1 (.*)$/m.exec(c.output())?.[1], 10_000, 'the memory after it');
      const memory = JSON.parse(line) as Record<string, number>;
      expect(memory['heapUsed']).toBeGreaterThan(0);
      expect(memory['heapTotal']).toBeGreaterThanOrEqual(memory['heapUsed'] ?? 0);
      expect(memory['rss']).toBeGreaterThan(memory['heapUsed'] ?? 0);
      expect(c.proc.exitCode).toBeNull();
      expect(c.proc.signalCode).toBeNull();
    } finally {
      c.proc.kill('SIGKILL');
    }
  });

  it('without the variable nothing is installed: SIGUSR2 keeps its default and ends the process', async () => {
    const c = child(['--expose-gc'], { GC_ON_SIGUSR2: '' });
    try {
      await eventually(async () => (c.output().includes('ready installed=false') ? true : undefined), 20_000, 'child ready');
      c.proc.kill('SIGUSR2');
      expect(await c.exited).toBe('SIGUSR2');
    } finally {
      c.proc.kill('SIGKILL');
    }
  });
});
