import type { ServerResponse } from 'node:http';
import { sseFrame, type SequencedEvent } from '../shared/events.js';

/** Reads a range of a job's log: events with sequence numbers above `afterSeq`, at most `limit`. */
export type LogReader = (afterSeq: number, limit: number) => Promise<SequencedEvent[]>;

/** A live event as the hub delivers it: parsed once, framed once, the same bytes for every viewer. */
export interface LiveEvent {
  readonly seq: number;
  readonly done: boolean;
  readonly frame: Buffer;
}

const pageSize = 500;

/** What one viewer needs. */
export interface SseViewerOptions {
  readonly jobId: string;
  readonly res: ServerResponse;
  /** Reads the job's log. */
  readonly readLog: LogReader;
  /** Everything up to this sequence number has been sent already (the resume cursor). */
  readonly cursor: number;
  /** Unsent bytes the viewer may owe before it is cut off. */
  readonly maxBufferedBytes: number;
  /** Called once when the viewer is gone, for whatever reason. */
  readonly onClose: (viewer: SseViewer) => void;
  /** Called when the viewer is cut off for not reading. */
  readonly onOverflow?: (viewer: SseViewer) => void;
}

/**
 * One SSE viewer of one job. Live events that arrive while it reads the log are buffered; an event
 * that is not the next number (a gap: pub/sub dropped something, or the hub reconnected) sends the
 * viewer back to the log for the missing range. So every viewer gets 1..N exactly once, in order.
 */
export class SseViewer {
  /** Highest sequence number written to this viewer. */
  private lastSent: number;
  private pending: LiveEvent[] | undefined = [];
  private closed = false;
  private catchingUp = false;
  private again = false;

  readonly jobId: string;
  private readonly res: ServerResponse;
  private readonly out: { write(chunk: Buffer): boolean; readonly writableLength: number };
  private readonly options: SseViewerOptions;

  constructor(options: SseViewerOptions) {
    this.options = options;
    this.jobId = options.jobId;
    this.res = options.res;
    // Once the head is out (the route writes `retry:` first) frames go straight to the socket: the
    // response is unframed (no chunked encoding), so this skips only http's per-write bookkeeping.
    this.out = options.res.headersSent && options.res.socket !== null ? options.res.socket : options.res;
    this.lastSent = options.cursor;
    this.res.on('close', () => this.close());
  }

  /** Whether the response is finished or the client went away. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes written to this viewer that the kernel has not taken yet. */
  get bufferedBytes(): number {
    return this.closed ? 0 : this.out.writableLength;
  }

  /**
   * Live events that arrived together (in order), with their frames already joined into `joined`:
   * a viewer that is exactly at the first of them gets them in one write.
   */
  deliverBatch(events: readonly LiveEvent[], joined: Buffer): void {
    const first = events[0];
    const last = events.at(-1);
    if (first === undefined || last === undefined || this.closed || last.seq <= this.lastSent) return;
    const contiguous = last.seq - first.seq + 1 === events.length;
    if (this.pending === undefined && contiguous && first.seq === this.lastSent + 1) {
      this.write(joined, last.seq, last.done);
    } else {
      for (const event of events) this.deliver(event);
    }
  }

  /** A live event from the hub. */
  deliver(event: LiveEvent): void {
    if (this.closed || event.seq <= this.lastSent) return;
    if (this.pending !== undefined) {
      this.pending.push(event);
    } else if (event.seq === this.lastSent + 1) {
      this.write(event.frame, event.seq, event.done);
    } else {
      this.pending = [event];
      void this.catchUp();
    }
  }

  /**
   * Reads everything after the last event sent from the log, then whatever was buffered meanwhile.
   * Called at attach (after the hub subscribed) and after the hub's connection came back.
   */
  async catchUp(): Promise<void> {
    if (this.closed) return;
    this.pending ??= [];
    if (this.catchingUp) {
      this.again = true;
      return;
    }
    this.catchingUp = true;
    try {
      do {
        this.again = false;
        await this.readUntilCurrent();
      } while (this.again && !this.closed);
      this.pending = undefined;
    } catch {
      // Redis gave up on a read (it waits through reconnects, so this is rare): end the stream; the
      // client reconnects with Last-Event-ID and resumes exactly here.
      this.end();
    } finally {
      this.catchingUp = false;
    }
  }

  private async readUntilCurrent(): Promise<void> {
    for (;;) {
      const page = await this.options.readLog(this.lastSent, pageSize);
      for (const e of page) {
        if (e.seq === this.lastSent + 1) this.write(Buffer.from(sseFrame(e)), e.seq, e.type === 'done');
        if (this.closed) return;
      }
      if (page.length === pageSize) continue;
      const buffered = (this.pending ?? []).filter((e) => e.seq > this.lastSent).sort((a, b) => a.seq - b.seq);
      this.pending = [];
      let gap = false;
      for (const e of buffered) {
        if (e.seq === this.lastSent + 1) this.write(e.frame, e.seq, e.done);
        else if (e.seq > this.lastSent + 1) gap = true;
        if (this.closed) return;
      }
      if (!gap && this.pending.length === 0) return;
    }
  }

  /** A `: keepalive` comment. */
  keepalive(): void {
    if (!this.closed) this.send(Buffer.from(': keepalive\n\n'));
  }

  /** Ends the response (graceful shutdown): the client reconnects and resumes. */
  end(): void {
    if (this.closed) return;
    this.res.end();
    this.close();
  }

  private write(frame: Buffer, seq: number, done: boolean): void {
    this.lastSent = seq;
    this.send(frame);
    if (done) this.end();
  }

  private send(chunk: Buffer): void {
    if (this.closed) return;
    this.out.write(chunk);
    // A viewer that does not read must not make the API buffer without bound: cut it off; it can
    // resume from its Last-Event-ID when it reads again.
    if (this.out.writableLength > this.options.maxBufferedBytes) {
      this.options.onOverflow?.(this);
      this.res.destroy();
      this.close();
    }
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    this.options.onClose(this);
  }
}
