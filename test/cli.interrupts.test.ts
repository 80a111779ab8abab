import { describe, expect, it } from 'vitest';
import { createInterrupts } from '../src/cli/interrupts.js';

/** Interrupts on a clock the test moves; records handler calls and exits. */
function harness(sameWithinMs: number) {
  let now = 0;
  const calls: string[] = [];
  const interrupts = createInterrupts({ sameWithinMs, now: () => now, exit: (code) => calls.push(`exit ${code}`) });
  return { interrupts, calls, at: (ms: number) => (now = ms) };
}

describe('Ctrl+C in the CLI', () => {
  it('the first runs the armed handler, the second exits 130', () => {
    const { interrupts, calls, at } = harness(0);
    interrupts.onInterrupt(() => calls.push('cancel'));
    at(10);
    interrupts.signal();
    at(10);
    interrupts.signal();
    expect(calls).toEqual(['cancel', 'exit 130']);
  });

  it('under npx one press arrives twice (the terminal and npm forwarding it): the copy is not a second press', () => {
    const { interrupts, calls, at } = harness(500);
    interrupts.onInterrupt(() => calls.push('cancel'));
    at(1000);
    interrupts.signal();
    at(1003);
    interrupts.signal();
    expect(calls).toEqual(['cancel']);
    // A real second press, later, still exits at once.
    at(2000);
    interrupts.signal();
    expect(calls).toEqual(['cancel', 'exit 130']);
  });

  it('without a handler the first exits; a new handler starts the count again', () => {
    const { interrupts, calls, at } = harness(0);
    interrupts.signal();
    expect(calls).toEqual(['exit 130']);
    interrupts.onInterrupt(() => calls.push('stop reply'));
    at(1);
    interrupts.signal();
    interrupts.onInterrupt(() => calls.push('stop reply 2'));
    at(2);
    interrupts.signal();
    expect(calls).toEqual(['exit 130', 'stop reply', 'stop reply 2']);
  });
});
