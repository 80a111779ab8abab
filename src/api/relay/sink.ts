/** The transports a viewer can be on. */
export type Transport = 'sse' | 'ws';

/**
 * Where one viewer's frames go, whatever the transport: an SSE response, or one subscription on a
 * WebSocket. The relay (cursor, replay, live) writes through this and knows nothing else of the
 * connection.
 */
export interface ViewerSink {
  readonly transport: Transport;
  /** The client went away, or the sink was ended (it may have been before a viewer existed). */
  readonly isGone: boolean;
  /** Bytes written that the connection has not taken yet. */
  readonly bufferedBytes: number;
  /**
   * Writes one frame, or several in order (an SSE response sends them in one write; a socket sends
   * each as its own message); false when the connection's buffer is above its mark (wait for `drained`).
   */
  write(frames: Buffer | readonly Buffer[]): boolean;
  /**
   * Resolves true once the connection drained, false when it closed or took nothing at all for
   * `stallMs` (a reader that is slow but reading keeps it waiting).
   */
  drained(stallMs: number): Promise<boolean>;
  /** A keep-alive on this transport (an SSE comment; nothing on a socket, which pings by itself). */
  keepalive(): void;
  /** Ends this viewer gracefully: the job is done here, or the node shuts down (the client resumes). */
  end(): void;
  /** Cuts the viewer off at once: it does not read (the client resumes from its cursor). */
  destroy(): void;
  /** Calls `listener` once when the viewer's connection closes for any reason; returns what stops that. */
  onClose(listener: () => void): () => void;
}

/** Where a sink's frames go: a socket (or a response before its head is out). */
export interface FrameOut {
  write(chunk: Buffer): boolean;
  cork?(): void;
  uncork?(): void;
}

/**
 * Writes one frame, or several in order: many (a page of the log) as one buffer, which is cheaper
 * than a write request each; a few (events that arrived together) corked, so they leave in one
 * writev without being copied. Returns what the last write returned.
 */
export function writeFrames(out: FrameOut, frames: Buffer | readonly Buffer[]): boolean {
  if (Buffer.isBuffer(frames)) return out.write(frames);
  if (frames.length > 4) return out.write(Buffer.concat(frames));
  out.cork?.();
  let ok = true;
  for (const frame of frames) ok = out.write(frame);
  out.uncork?.();
  return ok;
}
