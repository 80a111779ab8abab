import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { forEachStamp, wallClockMs } from '../src/simulator/stamp.js';
import type { OnStamp, Viewer, ViewerCounters } from './sse-client.js';

/** Options of {@link openWsViewer}. */
export interface WsViewerOptions {
  readonly host: string;
  readonly port: number;
  /** The frame sent once the socket is open (a `subscribe`). */
  readonly subscribe: string;
  /** Decode stamps (costs a UTF-8 decode per text frame); otherwise only bytes and frames are counted. */
  readonly sampled: boolean;
  readonly onStamp?: OnStamp;
  readonly headersTimeoutMs?: number;
}

const HEAD_END = '\r\n\r\n';
// Every socket of the process reads into this one buffer (read callbacks run one at a time).
const shared = Buffer.allocUnsafe(256 * 1024);
const EMPTY = Buffer.alloc(0);
/** How genrelay's `complete` reply starts (`frames.complete`: `{"type":"complete","id":…}`). */
const COMPLETE = Buffer.from('{"type":"complete"');

/** A client frame: masked, as RFC 6455 requires of clients. */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = (payload[i] as number) ^ (mask[i % 4] as number);
  return Buffer.concat([head, mask, body]);
}

/**
 * A minimal WebSocket viewer on a raw socket, the counterpart of `sse-client.ts`'s: the upgrade by
 * hand, one `subscribe` frame, then a frame parser that counts frames and bytes (and reads stamps of
 * sampled viewers), answers pings, and hangs up after `complete`. Server frames are unmasked and not
 * fragmented (genrelay's never are).
 */
export function openWsViewer(options: WsViewerOptions): Promise<Viewer> {
  const counters: ViewerCounters = { status: 0, bytes: 0, frames: 0, firstStampAt: 0, closed: undefined };
  let head = '';
  let pending: Buffer = EMPTY;
  let socket: Socket;

  // Parses whole frames of `buf` (the shared read buffer, or leftover bytes glued to it); only an
  // incomplete frame at the end is copied, to wait for the next read.
  const frames = (buf: Buffer, receivedAt: number): void => {
    let at = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      const b1 = buf[at + 1] as number;
      let len = b1 & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        offset = 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        len = Number(buf.readBigUInt64BE(at + 2));
        offset = 10;
      }
      if (buf.length - at < offset + len) break;
      const opcode = (buf[at] as number) & 0x0f;
      const payload = buf.subarray(at + offset, at + offset + len);
      at += offset + len;
      counters.frames++;
      if (opcode === 0x9) socket.write(clientFrame(0xa, Buffer.from(payload)));
      else if (opcode === 0x8) counters.closed ??= `close ${len >= 2 ? payload.readUInt16BE(0) : ''}`;
      else if (opcode === 0x1) {
        // Only genrelay's own short replies can be `complete`; events are never looked into here.
        if (len < 100 && COMPLETE.compare(payload, 0, Math.min(len, COMPLETE.length)) === 0) {
          counters.closed ??= 'end';
          setImmediate(() => socket.destroy());
        }
        if (options.sampled) {
          forEachStamp(payload.toString('utf8'), (stamp) => {
            if (counters.firstStampAt === 0) counters.firstStampAt = receivedAt;
            options.onStamp?.(stamp, receivedAt);
          });
        }
      }
    }
    pending = at === buf.length ? EMPTY : Buffer.from(buf.subarray(at));
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
      counters.closed ??= 'error: no upgrade in time';
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
            counters.bytes += n;
            frames(pending.length === 0 ? chunk : Buffer.concat([pending, chunk]), receivedAt);
            return true;
          }
          head += chunk.toString('latin1');
          const end = head.indexOf(HEAD_END);
          if (end === -1) return true;
          const code = Number(head.slice(9, 12)) || -1;
          // 101 is the socket; report it as the stream's 200 so the pool counts it like an SSE viewer.
          counters.status = code === 101 ? 200 : code;
          const rest = Buffer.from(head.slice(end + HEAD_END.length), 'latin1');
          head = '';
          if (code === 101) socket.write(clientFrame(0x1, Buffer.from(options.subscribe)));
          settle();
          if (rest.length > 0) frames(rest, receivedAt);
          return true;
        },
      },
    });
    socket.once('connect', () => {
      const key = randomBytes(16).toString('base64');
      socket.write(
        `GET /v1/ws HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
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
