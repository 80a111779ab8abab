import type { ServerResponse } from 'node:http';

/** Writes SSE frames to one response, in order, and ends or drops it after the last one. */
export interface FrameWriter {
  /** Queues one frame. */
  write(frame: string): void;
  /** Ends the response cleanly after every queued frame. */
  end(): void;
  /** Destroys the socket mid-body, after every queued frame has reached the kernel. */
  drop(): void;
}

/**
 * Plain mode writes straight to the response. `split` mode writes each frame holding a multi-byte
 * character as two writes cut inside that character, with a `setImmediate` between them so the
 * halves leave in separate TCP segments and a client must reassemble bytes, not strings.
 */
export function createFrameWriter(res: ServerResponse, split: boolean): FrameWriter {
  if (!split) {
    return {
      write: (f) => void res.write(f),
      end: () => void res.end(),
      drop: () => dropAfterFlush(res),
    };
  }
  const queue: (Buffer | 'end' | 'drop')[] = [];
  let busy = false;
  const pump = (): void => {
    const next = res.destroyed ? undefined : queue.shift();
    if (next === undefined) {
      queue.length = 0;
      busy = false;
      return;
    }
    busy = true;
    if (next === 'end') return void res.end();
    if (next === 'drop') return dropAfterFlush(res);
    const cut = splitPoint(next);
    if (cut === -1) {
      res.write(next);
      return pump();
    }
    res.write(next.subarray(0, cut));
    setImmediate(() => {
      if (res.destroyed) return;
      res.write(next.subarray(cut));
      setImmediate(pump);
    });
  };
  const push = (item: Buffer | 'end' | 'drop'): void => {
    queue.push(item);
    if (!busy) pump();
  };
  return {
    write: (f) => push(Buffer.from(f, 'utf8')),
    end: () => push('end'),
    drop: () => push('drop'),
  };
}

/** The index of a UTF-8 continuation byte nearest the middle of `bytes`, or -1 if all ASCII. */
function splitPoint(bytes: Buffer): number {
  const middle = bytes.length >> 1;
  for (let d = 0; d < bytes.length; d++) {
    for (const i of [middle + d, middle - d]) {
      const b = bytes[i];
      if (b !== undefined && i > 0 && (b & 0xc0) === 0x80) return i;
    }
  }
  return -1;
}

/**
 * Node corks HTTP sockets until the next tick, so destroying at once could lose the last deltas. An
 * empty write on the raw socket calls back only after everything before it was handed to the kernel.
 */
function dropAfterFlush(res: ServerResponse): void {
  const socket = res.socket;
  if (socket === null || socket.destroyed) return;
  socket.write('', () => socket.destroy());
}
