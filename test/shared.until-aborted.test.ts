import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { untilAborted } from '../src/shared/until-aborted.js';

const never = () => new Promise<never>(() => {});

describe('untilAborted', () => {
  it('resolves and rejects with the promise while the signal stays unaborted', async () => {
    const { signal } = new AbortController();
    await expect(untilAborted(Promise.resolve(7), signal)).resolves.toBe(7);
    const refused = new Error('OOM command not allowed');
    await expect(untilAborted(Promise.reject(refused), signal)).rejects.toBe(refused);
  });

  it('rejects every pending wait with the reason when the signal aborts, holding one listener for all of them', async () => {
    const controller = new AbortController();
    const waits = Array.from({ length: 500 }, () => untilAborted(never(), controller.signal));
    const done = untilAborted(Promise.resolve('written'), controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await expect(done).resolves.toBe('written');
    const reason = new Error('shutdown gave up on Redis');
    controller.abort(reason);
    const settled = await Promise.allSettled(waits);
    expect(settled.every((s) => s.status === 'rejected' && s.reason === reason)).toBe(true);
    // After the abort: rejected at once, no listener added.
    await expect(untilAborted(never(), controller.signal)).rejects.toBe(reason);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('does not keep a settled wait: an abort afterwards rejects only what is still pending', async () => {
    const controller = new AbortController();
    let release!: (v: string) => void;
    const first = untilAborted(new Promise<string>((r) => (release = r)), controller.signal);
    const second = untilAborted(never(), controller.signal);
    release('landed');
    await expect(first).resolves.toBe('landed');
    controller.abort(new Error('stop'));
    await expect(second).rejects.toThrow('stop');
  });

  it('swallows the late rejection of a promise no longer waited for', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const controller = new AbortController();
      let fail!: (e: Error) => void;
      const wait = untilAborted(new Promise<never>((_, reject) => (fail = reject)), controller.signal);
      controller.abort(new Error('abandoned'));
      await expect(wait).rejects.toThrow('abandoned');
      fail(new Error('the connection closed under the command'));
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
