/**
 * Server text frames as bytes on the wire (RFC 6455 §5.2: FIN, opcode 1, unmasked, the payload
 * length in 7, 16 or 64 bits). A server frame is unmasked, so one event's frame is the same bytes for
 * every socket: the socket's encoders make it once per event (as the SSE encoders make an SSE frame)
 * and every subscription writes that buffer as it is. `ws.send` would frame it again per socket and
 * write header and payload as two buffers (a `writev` per frame per socket, and no batching of events
 * that arrived together: see `bench/probes/ws-send-cost.ts`).
 */

/** The length of the header of a frame of `length` payload bytes. */
const headerLength = (length: number): number => (length < 126 ? 2 : length < 65536 ? 4 : 10);

/** `json` (JSON text) as one final, unmasked text frame: header and payload in one buffer. */
export function textFrame(json: string): Buffer {
  const length = Buffer.byteLength(json);
  const at = headerLength(length);
  const frame = Buffer.allocUnsafe(at + length);
  frame[0] = 0x81;
  if (at === 2) frame[1] = length;
  else if (at === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(json, at, 'utf8');
  return frame;
}
