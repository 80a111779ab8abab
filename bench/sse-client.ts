import { connect, type Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import { forEachStamp, wallClockMs } from '../src/simulator/stamp.js';

/** What one raw SSE viewer saw. */
export interface ViewerCounters {
  /** HTTP status, 0 until the headers arrived. */
  status: number;
  /** Body bytes received (chunked framing included). */
  bytes: number;
  /** SSE frames received (blank-line boundaries: events, comments, `retry:`). */
  frames: number;
  /** Wall-clock ms of the first stamped delta (sampled viewers only), else 0. */
  firstStampAt: number;
  /** Why the socket closed, once it did: `end` (server closed it), `error: …`, or `local`. */
  closed: string | undefined;
}

/** Called with each stamp in a sampled viewer's stream and the wall-clock time it was read. */
export type OnStamp = (stampMs: number, receivedMs: number) => void;

/** Options of {@link openViewer}. */
export interface ViewerOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** Parse stamps (costs a UTF-8 decode per read); otherwise only bytes and frames are counted. */
  readonly sampled: boolean;
  readonly onStamp?: OnStamp;
  /** Give up waiting for response headers after this long. Default 60000. */
  readonly headersTimeoutMs?: number;
}

/** An open (or failed) viewer: counters, and `close()` to hang up. */
export interface Viewer {
  readonly counters: ViewerCounters;
  close(): void;
}

const LF = 0x0a;
const LFLF = Buffer.from('\n\n');
// The end of a chunked body: the zero-size chunk, right after the previous chunk's CRLF.
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const HEAD_END = '\r\n\r\n';
// Every socket of the process reads into this one buffer: read callbacks run one at a time and each
// consumes its bytes before returning, so there is no per-read allocation for 10,000 viewers.
const shared = Buffer.allocUnsafe(256 * 1024);

/**
 * A minimal HTTP/1.1 SSE viewer on a raw socket: sends `GET path` with `Connection: close` (so the
 * server closes the socket after the stream's last event), and only scans for frame boundaries.
 * Resolves once the response headers arrived (any status) or the connection failed.
 */
export function openViewer(options: ViewerOptions): Promise<Viewer> {
  const counters: ViewerCounters = { status: 0, bytes: 0, frames: 0, firstStampAt: 0, closed: undefined };
  const decoder = options.sampled ? new StringDecoder('utf8') : undefined;
  let head = '';
  let carry = '';
  let lastWasLf = false;
  let socket: Socket;

  const body = (buf: Buffer, receivedAt: number): void => {
    counters.bytes += buf.length;
    if (lastWasLf && buf[0] === LF) counters.frames++;
    for (let at = buf.indexOf(LFLF); at !== -1; at = buf.indexOf(LFLF, at + 2)) counters.frames++;
    const previousWasLf = lastWasLf;
    lastWasLf = buf[buf.length - 1] === LF;
    // Servers may keep the connection despite `Connection: close` (genrelay's API sets keep-alive),
    // so the end of the response is the zero-size chunk; the viewer then hangs up itself.
    const tail = buf.length - LAST_CHUNK.length;
    if (tail >= 0 && buf.indexOf(LAST_CHUNK, tail) === tail && (tail > 0 ? buf[tail - 1] === LF : previousWasLf)) {
      counters.closed ??= 'end';
      setImmediate(() => socket.destroy());
    }
    if (decoder === undefined) return;
    carry += decoder.write(buf);
    const cut = carry.lastIndexOf('\n\n');
    if (cut === -1) return;
    const complete = carry.slice(0, cut);
    carry = carry.slice(cut + 2);
    forEachStamp(complete, (stamp) => {
      if (counters.firstStampAt === 0) counters.firstStampAt = receivedAt;
      options.onStamp?.(stamp, receivedAt);
    });
  };

  return new Promise<Viewer>((resolve) => {
    const viewer: Viewer = {
      counters,
      close: () => {
        counters.closed ??= 'local';
        socket.destroy();
      },
    };
    const timer = setTimeout(() => {
      counters.closed ??= 'error: no response headers in time';
      socket.destroy();
    }, options.headersTimeoutMs ?? 60_000);
    const settle = (): void => {
      clearTimeout(timer);
      resolve(viewer);
    };
    socket = connect({
      host: options.host,
      port: options.port,
      onread: {
        buffer: shared,
        callback: (n: number, buf: Uint8Array) => {
          const receivedAt = wallClockMs();
          const chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
          if (counters.status !== 0) {
            body(chunk, receivedAt);
            return true;
          }
          head += chunk.toString('latin1');
          const end = head.indexOf(HEAD_END);
          if (end === -1) return true;
          counters.status = Number(head.slice(9, 12)) || -1;
          const rest = Buffer.from(head.slice(end + HEAD_END.length), 'latin1');
          head = '';
          settle();
          if (rest.length > 0) body(rest, receivedAt);
          return true;
        },
      },
    });
    socket.once('connect', () => {
      socket.write(`GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n`);
    });
    socket.on('end', () => {
      counters.closed ??= 'end';
    });
    socket.on('error', (err) => {
      counters.closed ??= `error: ${err.message}`;
    });
    socket.on('close', () => {
      counters.closed ??= 'end';
      settle();
    });
  });
}
