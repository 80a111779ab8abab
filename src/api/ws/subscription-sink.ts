import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { writeFrames, type ViewerSink } from '../relay/sink.js';

/** What a subscription's sink asks of its socket session. */
export interface SinkOwner {
  readonly socket: WebSocket;
  /**
   * The connection under `socket` (the one `ws` took over on the upgrade). Event frames are written to
   * it ready-framed: `ws` writes its own frames (pings, replies) at once, in order, because its sender
   * only queues while compressing, which is off.
   */
  readonly wire: Duplex;
  /** The subscription's stream ended (a job's `done`, an expired conversation): `complete`, then drop it. */
  complete(): void;
  /** The client does not read: close the socket (1013); it resumes every subscription with `after`. */
  overflow(): void;
}

/** Above this many unsent bytes a write says "wait for drained". */
const highWaterMark = 64 * 1024;
/** How often `drained` looks at the socket's buffer. */
const pollMs = 10;

/**
 * One subscription of a WebSocket as a viewer sink: the frames it is given are text frames, made once
 * for every socket by the socket's encoders (`wire-frame.ts`), and it writes them as the SSE sink
 * writes its own: events that arrived together leave in one write, so a busy node writes less often
 * instead of falling behind; bytes owed are the connection's, shared by every subscription on it;
 * `end` completes the subscription, not the socket; `destroy` closes the socket (1013).
 */
export class SubscriptionSink implements ViewerSink {
  readonly transport = 'ws' as const;
  private readonly listeners = new Set<() => void>();
  private gone = false;

  constructor(private readonly owner: SinkOwner) {}

  get isGone(): boolean {
    return this.gone || this.owner.socket.readyState !== this.owner.socket.OPEN;
  }

  /** The connection's unsent bytes: `ws`'s own `bufferedAmount` is this and its sender's queue, which stays empty without compression. */
  get bufferedBytes(): number {
    return this.owner.wire.writableLength;
  }

  write(frames: Buffer | readonly Buffer[]): boolean {
    if (this.isGone) return false;
    writeFrames(this.owner.wire, frames);
    return this.owner.wire.writableLength < highWaterMark;
  }

  drained(stallMs: number): Promise<boolean> {
    const wire = this.owner.wire;
    if (this.isGone) return Promise.resolve(false);
    if (wire.writableLength < highWaterMark) return Promise.resolve(true);
    // Watch the buffer go down (the subscriptions of a socket share it), and give up when it does not move.
    return new Promise((resolve) => {
      let last = wire.writableLength;
      let still = 0;
      const timer = setInterval(() => {
        const now = wire.writableLength;
        if (this.isGone) return done(false);
        if (now < highWaterMark) return done(true);
        still = now < last ? 0 : still + pollMs;
        last = now;
        if (still >= stallMs) done(false);
      }, pollMs);
      const done = (ok: boolean) => {
        clearInterval(timer);
        resolve(ok);
      };
    });
  }

  keepalive(): void {
    // The session pings the socket itself; a subscription has nothing to add.
  }

  end(): void {
    if (this.gone) return;
    this.owner.complete();
  }

  destroy(): void {
    this.owner.overflow();
  }

  onClose(listener: () => void): () => void {
    if (this.gone) {
      queueMicrotask(listener);
      return () => {};
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The subscription is over (unsubscribed, completed, or the socket closed): tell the viewers. */
  close(): void {
    if (this.gone) return;
    this.gone = true;
    for (const listener of [...this.listeners]) listener();
    this.listeners.clear();
  }
}
