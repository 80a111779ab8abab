/**
 * Server text frames as bytes on the wire (RFC 6455 §5.2: FIN, opcode 1, unmasked, the payload
 * length in 7, 16 or 64 bits). A server frame is unmasked, so one event's frame is the same bytes for
 * every socket: it is made once and written to each socket as one buffer, as SSE writes its frames.
 * `ws.send` would frame it again per socket and write header and payload as two buffers (a `writev`
 * per frame per socket, and no batching of events that arrived together: see
 * `bench/probes/ws-send-cost.ts`).
 */

/** Frames made so far, by payload: the relay hands every viewer the same payload buffer of an event. */
const made = new WeakMap<Buffer, Buffer>();

/** The header of a final, unmasked text frame of `length` payload bytes. */
function header(length: number): Buffer {
  if (length < 126) return Buffer.from([0x81, length]);
  if (length < 65536) return Buffer.from([0x81, 126, length >> 8, length & 0xff]);
  const head = Buffer.alloc(10);
  head[0] = 0x81;
  head[1] = 127;
  head.writeBigUInt64BE(BigInt(length), 2);
  return head;
}

/** `payload` (JSON text) as one text frame; made once per payload buffer and kept while it lives. */
export function textFrame(payload: Buffer): Buffer {
  let frame = made.get(payload);
  if (frame === undefined) {
    frame = Buffer.concat([header(payload.length), payload]);
    made.set(payload, frame);
  }
  return frame;
}

/** Several payloads as consecutive text frames in one buffer (a page of the log, a batch of events). */
export function textFrames(payloads: readonly Buffer[]): Buffer {
  return Buffer.concat(payloads.flatMap((p) => [header(p.length), p]));
}
