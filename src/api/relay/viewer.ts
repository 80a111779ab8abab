import type { SequencedEvent } from '../../shared/events.js';
import { RelayCursor } from './cursor.js';
import type { EventEncoder } from './encoder.js';
import { replayLog, type LogReader } from './log-replay.js';
import type { ViewerSink } from './sink.js';

export type { LogReader } from './log-replay.js';

/**
 * A live event as the hub delivers it: parsed once, and framed once per encoder key (the same bytes
 * for every viewer with that framing).
 */
export interface LiveEvent extends SequencedEvent {
  readonly done: boolean;
  /** Frames made so far, by encoder key. */
  readonly frames: Map<string, Buffer>;
}

/** The frame of `event` for `encoder`, made once per key and kept on the event. */
export function frameOf(event: LiveEvent, encoder: EventEncoder): Buffer {
  let frame = event.frames.get(encoder.key);
  if (frame === undefined) {
    frame = encoder.encode(event);
    event.frames.set(encoder.key, frame);
  }
  return frame;
}

/** What one viewer needs. */
export interface RelayViewerOptions {
  readonly jobId: string;
  readonly sink: ViewerSink;
  readonly encoder: EventEncoder;
  /** Reads the job's log. */
  readonly readLog: LogReader;
  /** Everything up to this sequence number has been sent already (the resume cursor). */
  readonly cursor: number;
  /** Unsent bytes a viewer following live may owe before it is cut off. */
  readonly maxBufferedBytes: number;
  /** A replay the connection takes nothing of for this long is cut off (the client stopped reading). */
  readonly replayStallMs: number;
  /** Called once when the viewer is gone, for whatever reason. */
  readonly onClose: (viewer: RelayViewer) => void;
  /** Called when the viewer is cut off for not reading. */
  readonly onOverflow?: (viewer: RelayViewer) => void;
  /**
   * After `done` was written: the viewer lets go of the job but not of the sink, which goes on (a
   * conversation's stream, to its next turn). Default: the sink ends.
   */
  readonly onDone?: () => void;
}

/**
 * One viewer of one job on any transport: the {@link RelayCursor} decides, the sink carries. While
 * replaying it reads the log at the pace its connection takes it (`replayLog`); following live, each
 * event that is the next number is written at once, and a viewer that falls `maxBufferedBytes`
 * behind is cut off (it resumes from its cursor).
 */
export class RelayViewer {
  private readonly cursor: RelayCursor;
  private closed = false;
  private stopWatching: () => void = () => {};

  readonly jobId: string;
  readonly sink: ViewerSink;
  private readonly options: RelayViewerOptions;

  constructor(options: RelayViewerOptions) {
    this.options = options;
    this.jobId = options.jobId;
    this.sink = options.sink;
    this.cursor = new RelayCursor(options.cursor);
    // The client may have hung up while the route waited on Redis: the viewer is born closed (the hub
    // does not keep it) instead of waiting for an event that never comes.
    if (this.sink.isGone) this.closed = true;
    else this.stopWatching = this.sink.onClose(() => this.close());
  }

  /** Whether the viewer is gone (ended, cut off, or its client left). */
  get isClosed(): boolean {
    return this.closed;
  }

  /** The last sequence number written to this viewer. */
  get lastSeq(): number {
    return this.cursor.lastSent;
  }

  /** Bytes written to this viewer that its connection has not taken yet. */
  get bufferedBytes(): number {
    return this.closed ? 0 : this.sink.bufferedBytes;
  }

  /** Live events that arrived together, in order: a viewer level with the first gets them in one write. */
  deliverBatch(events: readonly LiveEvent[]): void {
    const first = events[0];
    const last = events.at(-1);
    if (first === undefined || last === undefined || this.closed || last.seq <= this.cursor.lastSent) return;
    if (this.cursor.canSendRun(first.seq, last.seq, events.length)) {
      this.sendLive(events.map((e) => frameOf(e, this.options.encoder)), last.seq, last.done);
    } else {
      for (const event of events) this.deliver(event);
    }
  }

  /** A live event from the hub. */
  deliver(event: LiveEvent): void {
    if (this.closed) return;
    switch (this.cursor.onLive(event.seq)) {
      case 'send':
        this.sendLive(frameOf(event, this.options.encoder), event.seq, event.done);
        return;
      case 'catch_up':
        void this.catchUp();
        return;
      default:
        return;
    }
  }

  /**
   * Replays the log from the last event sent until the viewer is level with what arrived live
   * meanwhile, then follows live. Called at attach (after the hub subscribed), after the hub's
   * connection came back, and on a gap.
   */
  async catchUp(): Promise<void> {
    if (this.closed || !this.cursor.beginReplay()) return;
    try {
      for (;;) {
        const from = this.cursor.roundFrom();
        const result = await replayLog(this.sink, this.options.readLog, from, this.options.replayStallMs, this.options.encoder);
        if (this.closed) return;
        const next = this.cursor.roundDone(from, result.lastSent);
        if (result.done) return this.finish();
        if (result.stalled) return this.cutOff();
        if (next === 'live') return;
      }
    } catch {
      // Redis gave up on a read (it waits through reconnects, so this is rare): end the stream; the
      // client resumes exactly here.
      this.end();
    } finally {
      this.cursor.endReplay();
    }
  }

  /** A keep-alive on the viewer's transport. */
  keepalive(): void {
    if (!this.closed) this.sink.keepalive();
  }

  /** Ends the viewer (graceful shutdown, a job Redis lost): the client resumes. */
  end(): void {
    if (this.closed) return;
    this.sink.end();
    this.close();
  }

  private sendLive(frames: Buffer | readonly Buffer[], seq: number, done: boolean): void {
    this.cursor.markSent(seq);
    this.sink.write(frames);
    if (done) return this.finish();
    // A viewer that does not read must not make the API buffer without bound: cut it off; it can
    // resume from its cursor when it reads again.
    if (this.sink.bufferedBytes > this.options.maxBufferedBytes) this.cutOff();
  }

  /** `done` was written: end the sink, or hand it on (see {@link RelayViewerOptions.onDone}). */
  private finish(): void {
    const onDone = this.options.onDone;
    if (onDone === undefined) return this.end();
    this.close();
    onDone();
  }

  private cutOff(): void {
    if (this.closed) return;
    this.options.onOverflow?.(this);
    this.sink.destroy();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopWatching();
    this.options.onClose(this);
  }
}
