import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { SubscriptionSink } from '../src/api/ws/subscription-sink.js';
import { textFrame } from '../src/api/ws/wire-frame.js';
import { eventually } from './support/system.js';

// A subscription writes its event frames ready-framed to the connection under `ws` (one buffer per
// event for every socket, batches in one write). A real `ws` client must read exactly the messages
// written, whatever their length (7-, 16- and 64-bit length fields), single or batched, in order with
// the frames `ws` itself sends on the same socket.
let server: Server | undefined;
let client: WebSocket | undefined;
afterEach(async () => {
  client?.terminate();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = client = undefined;
});

async function connected(): Promise<{ sink: SubscriptionSink; socket: WebSocket; received: string[] }> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const accepted = new Promise<{ socket: WebSocket; wire: Duplex }>((resolve) => {
    server = createServer();
    server.on('upgrade', (req, wire, head) => wss.handleUpgrade(req, wire, head, (socket) => resolve({ socket, wire })));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server?.address() as AddressInfo;
  const received: string[] = [];
  client = new WebSocket(`ws://127.0.0.1:${port}/`);
  client.on('message', (data, isBinary) => received.push(isBinary ? 'binary!' : String(data)));
  const { socket, wire } = await accepted;
  const sink = new SubscriptionSink({ socket, wire, complete() {}, overflow() {} });
  return { sink, socket, received };
}

const json = (n: number, fill: string) => JSON.stringify({ type: 'event', text: fill.repeat(n) });
/** An event frame as the socket's encoders make it. */
const payload = (n: number, fill: string) => textFrame(json(n, fill));

/** The payload of a frame made by `textFrame`. */
const textOf = (frame: Buffer): string => {
  const short = frame[1] ?? 0;
  return frame.subarray(short < 126 ? 2 : short === 126 ? 4 : 10).toString('utf8');
};

describe('socket event frames written ready-framed', () => {
  it('a real client reads every message, short, medium and long, single and batched, in order with ws frames', async () => {
    const { sink, socket, received } = await connected();
    const frames = [payload(2, 'a'), payload(200, 'é'), payload(40_000, 'ü'), payload(1, '⟨'), payload(130, 'b'), payload(3, 'c'), payload(70_000, 'd')];
    const expected: string[] = [];
    const write = (batch: Buffer[]) => {
      sink.write(batch.length === 1 ? (batch[0] as Buffer) : batch);
      expected.push(...batch.map((f) => textOf(f)));
    };
    write([frames[0] as Buffer]);
    write([frames[1] as Buffer, frames[2] as Buffer, frames[3] as Buffer]);
    socket.send(Buffer.from('{"type":"reply"}'), { binary: false });
    expected.push('{"type":"reply"}');
    write(frames);
    // The same buffers again: a frame is written to any number of sockets, any number of times, unchanged.
    write([frames[6] as Buffer]);
    write([frames[4] as Buffer, frames[5] as Buffer]);
    await eventually(async () => (received.length >= expected.length ? true : undefined), 10_000, 'every message');
    expect(received).toEqual(expected);
  });

  it('writes nothing once the socket is closing', async () => {
    const { sink, socket, received } = await connected();
    sink.write(payload(1, 'x'));
    socket.close(1000, 'bye');
    expect(sink.isGone).toBe(true);
    expect(sink.write(payload(1, 'y'))).toBe(false);
    const closed = new Promise<number>((resolve) => client?.once('close', (code) => resolve(code)));
    expect(await closed).toBe(1000);
    expect(received).toEqual([json(1, 'x')]);
  });
});
