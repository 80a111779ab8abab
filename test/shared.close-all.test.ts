import { describe, expect, it } from 'vitest';
import { closeAll } from '../src/shared/close-all.js';

// Every close() is built on closeAll: each cleanup runs, in order, even when an earlier one throws or
// rejects, and the failures come back together as one AggregateError.
describe('closeAll', () => {
  it('runs every step in order after failures and throws them together', async () => {
    const ran: string[] = [];
    const first = new Error('first');
    const third = new Error('third');
    const failed = await closeAll('x close failed', [
      () => {
        ran.push('a');
        throw first;
      },
      async () => {
        ran.push('b');
      },
      async () => {
        ran.push('c');
        throw third;
      },
      () => ran.push('d'),
    ]).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
    expect(failed).toBeInstanceOf(AggregateError);
    expect((failed as AggregateError).message).toBe('x close failed');
    expect((failed as AggregateError).errors).toEqual([first, third]);
  });

  it('resolves when every step does', async () => {
    const ran: number[] = [];
    await closeAll('x', [() => ran.push(1), async () => ran.push(2), () => undefined]);
    expect(ran).toEqual([1, 2]);
  });
});
