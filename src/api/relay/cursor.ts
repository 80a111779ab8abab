/** What to do with a live event (see {@link RelayCursor.onLive}). */
export type LiveDecision =
  /** At or below what was sent: drop it. */
  | 'ignore'
  /** The next number: write it. */
  | 'send'
  /** A replay is running: it will reach this number from the log. */
  | 'noted'
  /** A number was skipped (pub/sub lost something): replay from the log first. */
  | 'catch_up';

/**
 * The exactly-once cursor of one viewer, without sockets or Redis: what was sent, whether a replay
 * from the log runs, and how far live events say the log has gone. The viewer subscribes first, then
 * replays from its cursor; live events meanwhile only raise the mark the replay must reach; once level,
 * each live event that is the next number is sent, and one that skips a number sends the viewer back
 * to the log. So every viewer gets 1..N exactly once, in order, whatever the pub/sub drops or repeats.
 */
export class RelayCursor {
  private sent: number;
  private liveSeen = 0;
  private replaying = false;
  private again = false;

  constructor(cursor: number) {
    this.sent = cursor;
  }

  /** The last sequence number sent. */
  get lastSent(): number {
    return this.sent;
  }

  /** Whether a replay runs. */
  get isReplaying(): boolean {
    return this.replaying;
  }

  /** A live event numbered `seq` arrived. */
  onLive(seq: number): LiveDecision {
    if (seq <= this.sent) return 'ignore';
    if (this.replaying) {
      this.liveSeen = Math.max(this.liveSeen, seq);
      return 'noted';
    }
    if (seq === this.sent + 1) return 'send';
    this.liveSeen = seq;
    return 'catch_up';
  }

  /** Live events `first..last` arrived together: whether they can go out in one write as they are. */
  canSendRun(first: number, last: number, count: number): boolean {
    return !this.replaying && last - first + 1 === count && first === this.sent + 1;
  }

  /** `seq` was written. */
  markSent(seq: number): void {
    this.sent = Math.max(this.sent, seq);
  }

  /** Asks for a replay: true when one should start now, false when one runs (it will go round once more). */
  beginReplay(): boolean {
    if (this.replaying) {
      this.again = true;
      return false;
    }
    this.replaying = true;
    return true;
  }

  /** One round of the replay starts: from where it stands. */
  roundFrom(): number {
    this.again = false;
    return this.sent;
  }

  /**
   * A round of the replay reached `reached` (from `from`): whether to go round again (more came live
   * meanwhile, or another replay was asked for), or follow live now. A round that moved nothing, with
   * nothing asked for meanwhile, follows live: the log lacks what was seen live (a failover lost it),
   * and reading it again would spin; the next event that is not the next number comes back here.
   */
  roundDone(from: number, reached: number): 'again' | 'live' {
    this.sent = Math.max(this.sent, reached);
    if (this.sent === from && !this.again) this.liveSeen = this.sent;
    if (this.again || this.liveSeen > this.sent) return 'again';
    return 'live';
  }

  /** The replay stopped (live now, or the viewer ended). */
  endReplay(): void {
    this.replaying = false;
  }
}
