import type { SequencedEvent } from '../../shared/events.js';
import type { EventEncoder } from './encoder.js';
import type { ViewerSink } from './sink.js';

/** Reads a range of a job's log: events with sequence numbers above `afterSeq`, at most `limit`. */
export type LogReader = (afterSeq: number, limit: number) => Promise<SequencedEvent[]>;

/** What {@link replayLog} reached. */
export interface ReplayResult {
  /** The last sequence number written. */
  readonly lastSent: number;
  /** `done` was among the events written. */
  readonly done: boolean;
  /** The socket closed, or took nothing for `stallMs`. */
  readonly stalled: boolean;
}

const pageSize = 500;
/** Frames are joined into writes of about this size: few syscalls, little held per viewer. */
const chunkBytes = 64 * 1024;

/**
 * Writes a job's log after `from` to a viewer at the pace the viewer reads: pages of the log are
 * framed into writes of about 64 KB, and after a write the socket does not take at once, the replay
 * waits for `drain`. So catching up with a job of many megabytes holds one chunk per viewer, never the
 * whole backlog, and a healthy reader is never mistaken for a slow one. Stops after `done`, at the
 * end of the log, or when the socket takes nothing for `stallMs` (a client that stopped reading).
 */
export async function replayLog(
  socket: ViewerSink,
  readLog: LogReader,
  from: number,
  stallMs: number,
  encoder: EventEncoder,
): Promise<ReplayResult> {
  let lastSent = from;
  for (;;) {
    const page = await readLog(lastSent, pageSize);
    const before = lastSent;
    let chunk: Buffer[] = [];
    let size = 0;
    let done = false;
    const flush = async (): Promise<boolean> => {
      if (chunk.length === 0) return true;
      const ok = socket.write(chunk);
      chunk = [];
      size = 0;
      return ok || (await socket.drained(stallMs));
    };
    for (const event of page) {
      if (event.seq !== lastSent + 1) continue;
      const frame = encoder.encode(event);
      chunk.push(frame);
      size += frame.length;
      lastSent = event.seq;
      done = event.type === 'done';
      if ((size >= chunkBytes || done) && !(await flush())) return { lastSent, done, stalled: true };
      if (done) return { lastSent, done, stalled: false };
    }
    if (!(await flush())) return { lastSent, done, stalled: true };
    // A short page is the end of the log; a page that moved nothing on (a hole in the log) would come
    // back the same: stop either way.
    if (page.length < pageSize || lastSent === before) return { lastSent, done: false, stalled: false };
  }
}
