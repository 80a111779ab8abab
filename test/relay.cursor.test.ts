import { describe, expect, it } from 'vitest';
import { RelayCursor } from '../src/api/relay/cursor.js';

// The exactly-once cursor without sockets or Redis: a simulated log and live channel drive it, and
// whatever pub/sub drops, repeats or reorders, the viewer is sent 1..N once, in order.

/** Drives a cursor the way RelayViewer does, against a log of `n` events; returns what was sent. */
function drive(cursor: RelayCursor, log: { n: number }, live: readonly number[], replayEvery: (step: number) => boolean) {
  const sent: number[] = [];
  const replay = () => {
    if (!cursor.beginReplay()) return;
    for (;;) {
      const from = cursor.roundFrom();
      for (let seq = from + 1; seq <= log.n; seq += 1) sent.push(seq);
      if (cursor.roundDone(from, log.n) === 'live') break;
    }
    cursor.endReplay();
  };
  replay();
  live.forEach((seq, step) => {
    log.n = Math.max(log.n, seq);
    const decision = cursor.onLive(seq);
    if (decision === 'send') {
      sent.push(seq);
      cursor.markSent(seq);
    } else if (decision === 'catch_up' || replayEvery(step)) {
      replay();
    }
  });
  return sent;
}

describe('RelayCursor', () => {
  it('replays the log from the cursor, then follows live: each number once', () => {
    const sent = drive(new RelayCursor(3), { n: 10 }, [11, 12, 13], () => false);
    expect(sent).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  it('ignores live events it has sent already (duplicates, or ones the replay covered)', () => {
    const sent = drive(new RelayCursor(0), { n: 5 }, [4, 5, 5, 6, 6, 7], () => false);
    expect(sent).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('a skipped number sends it back to the log, which fills the gap', () => {
    const sent = drive(new RelayCursor(0), { n: 2 }, [3, 6, 7, 9], () => false);
    expect(sent).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('live events during a replay raise the mark the replay must reach; a replay asked during one runs again', () => {
    const cursor = new RelayCursor(0);
    expect(cursor.beginReplay()).toBe(true);
    const from = cursor.roundFrom();
    expect(cursor.onLive(7)).toBe('noted');
    // The log had 5 when it was read: the round reached 5, but 7 was seen live: again.
    expect(cursor.roundDone(from, 5)).toBe('again');
    const second = cursor.roundFrom();
    expect(second).toBe(5);
    // A catch-up asked for while this round runs (after a resubscribe): one more round, even if level.
    expect(cursor.beginReplay()).toBe(false);
    expect(cursor.roundDone(second, 7)).toBe('again');
    expect(cursor.roundDone(cursor.roundFrom(), 7)).toBe('live');
    cursor.endReplay();
    expect(cursor.onLive(8)).toBe('send');
  });

  it('a number seen live that the log never gets (a failover lost it) does not spin: it follows live', () => {
    const cursor = new RelayCursor(4);
    expect(cursor.onLive(6)).toBe('catch_up');
    cursor.beginReplay();
    const from = cursor.roundFrom();
    // The log still ends at 4: the round moved nothing, and nothing else was asked for.
    expect(cursor.roundDone(from, 4)).toBe('live');
    cursor.endReplay();
    expect(cursor.onLive(7)).toBe('catch_up');
  });

  it('events that came together go out in one write only when contiguous and next', () => {
    const cursor = new RelayCursor(3);
    expect(cursor.canSendRun(4, 6, 3)).toBe(true);
    expect(cursor.canSendRun(5, 7, 3)).toBe(false);
    expect(cursor.canSendRun(4, 7, 3)).toBe(false);
    cursor.beginReplay();
    expect(cursor.canSendRun(4, 6, 3)).toBe(false);
  });

  it('random drops, repeats and replays: always 1..N once, in order', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round += 1) {
      const n = 1 + Math.floor(random() * 60);
      const live: number[] = [];
      for (let seq = 1; seq <= n; seq += 1) {
        if (random() < 0.2) continue; // pub/sub lost it
        live.push(seq);
        if (random() < 0.1) live.push(seq); // delivered twice
      }
      live.push(n);
      const start = Math.floor(random() * n);
      const sent = drive(new RelayCursor(start), { n: Math.floor(random() * n) }, live, () => random() < 0.05);
      expect(sent).toEqual(Array.from({ length: n - start }, (_, i) => start + i + 1));
    }
  });
});
