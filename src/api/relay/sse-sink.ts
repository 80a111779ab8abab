import type { ServerResponse } from 'node:http';
import { writeFrames, type ViewerSink } from './sink.js';

const keepaliveComment = Buffer.from(': keepalive\n\n');

/**
 * An SSE response as a viewer sink. Once the response head is out (the route writes `retry:` first),
 * frames go straight to the socket: the response is unframed (no chunked encoding), so this skips
 * only http's per-write bookkeeping.
 */
export class SseSink implements ViewerSink {
  readonly transport = 'sse' as const;
  private readonly out: { write(chunk: Buffer): boolean; cork?(): void; uncork?(): void; readonly writableLength: number };

  constructor(private readonly res: ServerResponse) {
    this.out = res.headersSent && res.socket !== null ? res.socket : res;
  }

  /** The client went away, or the response already ended (it may have before a viewer existed). */
  get isGone(): boolean {
    return this.res.destroyed || this.res.writableEnded || this.res.socket === null || this.res.socket.destroyed;
  }

  /** Bytes written that the kernel has not taken yet. */
  get bufferedBytes(): number {
    return this.out.writableLength;
  }

  /** Writes `chunk`; false when the socket's buffer is above its high-water mark (wait for `drained`). */
  write(frames: Buffer | readonly Buffer[]): boolean {
    return writeFrames(this.out, frames);
  }

  /**
   * Resolves true once the socket drained, false when it closed or took nothing at all for `stallMs`
   * (a reader that is slow but reading keeps it waiting: what is buffered goes down meanwhile).
   */
  drained(stallMs: number): Promise<boolean> {
    const socket = this.res.socket;
    if (socket === null || socket.destroyed) return Promise.resolve(false);
    if (!socket.writableNeedDrain) return Promise.resolve(true);
    return new Promise((resolve) => {
      let buffered = socket.writableLength;
      const done = (ok: boolean) => {
        clearInterval(timer);
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        resolve(ok);
      };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setInterval(() => {
        if (socket.writableLength >= buffered) done(false);
        buffered = socket.writableLength;
      }, stallMs);
      socket.on('drain', onDrain);
      socket.on('close', onClose);
    });
  }

  /** Calls `listener` once when the response closes for any reason; returns what stops that. */
  onClose(listener: () => void): () => void {
    this.res.once('close', listener);
    return () => this.res.off('close', listener);
  }

  /** A `: keepalive` comment. */
  keepalive(): void {
    if (!this.isGone) this.out.write(keepaliveComment);
  }

  /** Ends the response gracefully: the client reconnects and resumes, or was done anyway. */
  end(): void {
    this.res.end();
  }

  /** Drops the connection at once (a viewer that does not read). */
  destroy(): void {
    this.res.destroy();
  }
}
