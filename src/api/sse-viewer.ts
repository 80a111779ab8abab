import type { ServerResponse } from 'node:http';
import { sseFrame, type SequencedEvent } from '../shared/events.js';
import { replayLog, type LogReader } from './log-replay.js';
import { ViewerSocket } from './viewer-socket.js';

export type { LogReader } from './log-replay.js';

/** A live event as the hub delivers it: parsed once, framed once, the same bytes for every viewer. */
export interface LiveEvent extends SequencedEvent {
  readonly done: boolean;
  /** The job stream's SSE frame of the event. */
  readonly frame: Buffer;
}

/** Frames an event for a viewer whose stream is not the job's own (a conversation's: other ids). */
export type EventEncoder = (event: SequencedEvent) => Buffer;

/** What one viewer needs. */
export interface SseViewerOptions {
  readonly jobId: string;
  readonly res: ServerResponse;
  /** Reads the job's log. */
  readonly readLog: LogReader;
  /** Everything up to this sequence number has been sent already (the resume cursor). */
  readonly cursor: number;
  /** Unsent bytes a viewer following live may owe before it is cut off. */
  readonly maxBufferedBytes: number;
  /** A replay the socket takes nothing of for this long is cut off (the client stopped reading). */
  readonly replayStallMs: number;
  /** Called once when the viewer is gone, for whatever reason. */
  readonly onClose: (viewer: SseViewer) => void;
  /** Called when the viewer is cut off for not reading. */
  readonly onOverflow?: (viewer: SseViewer) => void;
  /** Frames events for this viewer; default: the job stream's frames. */
  readonly encode?: EventEncoder;
  /**
   * After `done` was written: the viewer lets go of the job but not of the response, which goes on
   * (a conversation's stream, to its next turn). Default: the response ends.
   */
  readonly onDone?: () => void;
}

/**
 * One SSE viewer of one job, in one of two modes. **Replaying**: it reads the log from the last
 * event it sent, at the pace its socket takes it (`replayLog`); live events meanwhile only raise the
 * mark it must reach before it may follow live, since the log has them too. **Live**: each event that
 * is the next number is written at once, and a viewer that falls `maxBufferedBytes` behind is cut
 * off; an event that is not the next number (pub/sub dropped something, the hub reconnected) sends
 * the viewer back to replaying. So every viewer gets 1..N exactly once, in order.
 */
export class SseViewer {
  /** Highest sequence number written to this viewer. */
  private lastSent: number;
  /** Highest sequence number seen live while replaying: the replay goes on until it got there. */
  private liveSeen = 0;
  private replaying = false;
  private again = false;
  private closed = false;
  private stopWatching: () => void = () => {};

  readonly jobId: string;
  private readonly socket: ViewerSocket;
  private readonly options: SseViewerOptions;

  constructor(options: SseViewerOptions) {
    this.options = options;
    this.jobId = options.jobId;
    this.socket = new ViewerSocket(options.res);
    this.lastSent = options.cursor;
    // The client may have hung up while the route waited on Redis: `close` has fired already, so the
    // viewer is born closed (the hub does not keep it) instead of waiting for an event that never comes.
    if (this.socket.isGone) this.closed = true;
    else this.stopWatching = this.socket.onClose(() => this.close());
  }

  /** Whether the response is finished or the client went away. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The last sequence number written to this viewer. */
  get lastSeq(): number {
    return this.lastSent;
  }

  /** Bytes written to this viewer that the kernel has not taken yet. */
  get bufferedBytes(): number {
    return this.closed ? 0 : this.socket.bufferedBytes;
  }

  /**
   * Live events that arrived together (in order), with their frames already joined into `joined`:
   * a viewer following live that is exactly at the first of them gets them in one write.
   */
  deliverBatch(events: readonly LiveEvent[], joined: Buffer): void {
    const first = events[0];
    const last = events.at(-1);
    if (first === undefined || last === undefined || this.closed || last.seq <= this.lastSent) return;
    const contiguous = last.seq - first.seq + 1 === events.length;
    if (!this.replaying && contiguous && first.seq === this.lastSent + 1 && this.options.encode === undefined) {
      this.sendLive(joined, last.seq, last.done);
    } else {
      for (const event of events) this.deliver(event);
    }
  }

  /** A live event from the hub. */
  deliver(event: LiveEvent): void {
    if (this.closed || event.seq <= this.lastSent) return;
    if (this.replaying) {
      this.liveSeen = Math.max(this.liveSeen, event.seq);
    } else if (event.seq === this.lastSent + 1) {
      this.sendLive(this.options.encode === undefined ? event.frame : this.options.encode(event), event.seq, event.done);
    } else {
      this.liveSeen = event.seq;
      void this.catchUp();
    }
  }

  /**
   * Replays the log from the last event sent until the viewer is level with what arrived live
   * meanwhile, then follows live. Called at attach (after the hub subscribed), after the hub's
   * connection came back, and on a gap.
   */
  async catchUp(): Promise<void> {
    if (this.closed) return;
    if (this.replaying) {
      this.again = true;
      return;
    }
    this.replaying = true;
    try {
      do {
        this.again = false;
        const before = this.lastSent;
        const result = await replayLog(this.socket, this.options.readLog, this.lastSent, this.options.replayStallMs, this.encode);
        if (this.closed) return;
        this.lastSent = result.lastSent;
        // Seen live but not in the log (a failover lost it): reading again would spin. Follow live;
        // the next event that is not the next number sends the viewer back here.
        if (this.lastSent === before && !this.again) this.liveSeen = this.lastSent;
        if (result.done) {
          this.finish();
          return;
        }
        if (result.stalled) {
          this.cutOff();
          return;
        }
      } while (this.again || this.liveSeen > this.lastSent);
    } catch {
      // Redis gave up on a read (it waits through reconnects, so this is rare): end the stream; the
      // client reconnects with Last-Event-ID and resumes exactly here.
      this.end();
    } finally {
      this.replaying = false;
    }
  }

  /** A `: keepalive` comment. */
  keepalive(): void {
    if (!this.closed) this.socket.write(Buffer.from(': keepalive\n\n'));
  }

  /** Ends the response (graceful shutdown, a job Redis lost): the client reconnects and resumes. */
  end(): void {
    if (this.closed) return;
    this.socket.end();
    this.close();
  }

  private sendLive(frame: Buffer, seq: number, done: boolean): void {
    this.lastSent = seq;
    this.socket.write(frame);
    if (done) {
      this.finish();
      return;
    }
    // A viewer that does not read must not make the API buffer without bound: cut it off; it can
    // resume from its Last-Event-ID when it reads again.
    if (this.socket.bufferedBytes > this.options.maxBufferedBytes) this.cutOff();
  }

  /** Frames for this viewer (the encoder given, or the job stream's). */
  private get encode(): EventEncoder {
    return this.options.encode ?? ((event) => Buffer.from(sseFrame(event)));
  }

  /** `done` was written: end the response, or hand it on (see {@link SseViewerOptions.onDone}). */
  private finish(): void {
    const onDone = this.options.onDone;
    if (onDone === undefined) {
      this.end();
      return;
    }
    this.close();
    onDone();
  }

  private cutOff(): void {
    if (this.closed) return;
    this.options.onOverflow?.(this);
    this.socket.destroy();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    this.options.onClose(this);
  }
}
