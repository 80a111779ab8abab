/**
 * Probe: what one event frame costs the server to send to one WebSocket viewer, by send path. This
 * process is the server (a `ws` WebSocketServer as the API mounts it: no compression); a forked child
 * holds N raw viewers (`bench/ws-client.ts`). 50 events/s go to every socket for 4 s, either one per
 * turn (an idle node: each event alone) or five per turn (a busy node reads several events from Redis at
 * once and the job room hands each viewer the batch); the figure is the server's CPU (user + system)
 * per frame per viewer, and the viewers' frame count proves each path delivered everything.
 *   - `ws.send`: the subscription sink as it was: `ws` frames each message per socket and writes header
 *     and payload corked, so every frame to every socket is its own `writev`, batch or not.
 *   - `sink`: `SubscriptionSink` now: the frame made once for every socket (`src/api/ws/wire-frame.ts`)
 *     and a batch written in one go, as the SSE sink does.
 * Run: `npx tsx bench/probes/ws-send-cost.ts 3000`.
 *
 * Found (2026-12-05, 3,000 viewers, two runs, the 2 cores shared with other work, load average 12–20):
 * one event per turn, both paths cost the same (12–14 µs per frame per viewer, two thirds of it in
 * the kernel); five per turn, `ws.send` still costs 9–14 µs while the sink costs 3.2–4.0 µs (the
 * client 2.4 µs instead of 5.8–8.0). SSE gets cheaper per frame as the node gets busier (events that
 * arrived together leave in one write); the socket did not, so at 10,000 viewers × 50 events/s it needed
 * more than the API's one core, fell seconds behind (130–590 frames per viewer of ~750 in the bench's
 * socket round, no 1013 because 10 KB/s stays far under VIEWER_BUFFER_BYTES) and the stamps not received
 * within the grace period made its p50 and p99 ∞. Not the bench client (its loop lag p99 was 2–7 ms, the
 * viewers received every frame written), nor the grace period.
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SubscriptionSink } from '../../src/api/ws/subscription-sink.js';
import { textFrame } from '../../src/api/ws/wire-frame.js';
import { openWsViewer } from '../ws-client.js';
import type { Viewer } from '../sse-client.js';

const N = Number(process.argv[2] ?? 2000);

if (process.argv[3] === 'client') {
  const port = Number(process.argv[4]);
  const viewers: Viewer[] = [];
  for (let i = 0; i < N; i += 200) {
    const batch = Array.from({ length: Math.min(200, N - i) }, () =>
      openWsViewer({ host: '127.0.0.1', port, subscribe: '{"type":"ping"}', sampled: false }));
    viewers.push(...(await Promise.all(batch)));
  }
  process.send?.({ opened: viewers.filter((v) => v.counters.status === 200).length });
  process.on('message', () => {
    const cpu = process.cpuUsage();
    process.send?.({ frames: viewers.reduce((s, v) => s + v.counters.frames, 0), cpuUs: cpu.user + cpu.system });
  });
} else {
  const server = createServer();
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const sockets: WebSocket[] = [];
  const wires: Duplex[] = [];
  server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
    sockets.push(ws);
    wires.push(socket);
  }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const child = fork(process.argv[1] ?? '', [String(N), 'client', String(port)], { execArgv: process.execArgv });
  const next = () => new Promise<Record<string, number>>((resolve) => child.once('message', (m) => resolve(m as Record<string, number>)));
  const opened = await next();
  console.log(`viewers: ${opened['opened']} of ${N}`);

  const payload = Buffer.from(`{"type":"event","job":"job_01JF3ZQ8W5V4T6Y7U8I9O0P1A2","seq":123,"event":"delta","data":{"index":0,"type":"text_delta","text":" tokens tokens tokens tokens tokens ⟨1733390000000.123⟩"}}`);
  // The sink before this probe's fix: `ws.send` per frame, a batch as one `ws.send` each.
  const before = (ws: WebSocket, frames: readonly Buffer[]) => {
    for (const frame of frames) ws.send(frame, { binary: false });
  };
  const sinks = new Map(sockets.map((ws, i) => [ws, new SubscriptionSink({ socket: ws, wire: wires[i] as Duplex, complete() {}, overflow() {} })]));
  // The sink is handed frames the socket's encoder made once per event for every socket.
  const framed = new WeakMap<readonly Buffer[], Buffer[]>();
  const after = (ws: WebSocket, payloads: readonly Buffer[]) => {
    let frames = framed.get(payloads);
    if (frames === undefined) framed.set(payloads, (frames = payloads.map((p) => textFrame(p.toString('utf8')))));
    void sinks.get(ws)?.write(frames.length === 1 ? (frames[0] as Buffer) : frames);
  };
  const paths: [string, (ws: WebSocket, frames: readonly Buffer[]) => void][] = [['ws.send', before], ['sink', after]];
  let framesBefore = 0;
  let clientCpuBefore = 0;
  // 50 events/s either one per turn (an idle node) or five per turn (a busy one reads several at once).
  for (const perTurn of [1, 5]) {
    const batch = Array.from({ length: perTurn }, () => Buffer.from(payload));
    for (const [name, send] of paths) {
      const turns = 200 / perTurn;
      const cpu0 = process.cpuUsage();
      for (let r = 0; r < turns; r++) {
        for (const ws of sockets) send(ws, batch);
        await new Promise((resolve) => setTimeout(resolve, 20 * perTurn));
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const cpu = process.cpuUsage(cpu0);
      child.send('count');
      const counts = await next();
      const frames = counts['frames'] ?? 0;
      const sent = turns * perTurn * sockets.length;
      const clientUs = ((counts['cpuUs'] ?? 0) - clientCpuBefore) / sent;
      clientCpuBefore = counts['cpuUs'] ?? 0;
      const us = (cpu.user + cpu.system) / sent;
      console.log(`${name.padEnd(8)} ${perTurn} per turn: server ${us.toFixed(2)} µs CPU per frame per viewer (user ${(cpu.user / 1000).toFixed(0)} ms, system ${(cpu.system / 1000).toFixed(0)} ms); frames received ${frames - framesBefore} of ${sent}; client ${clientUs.toFixed(2)} µs`);
      framesBefore = frames;
    }
  }
  child.kill();
  for (const ws of sockets) ws.terminate();
  server.close();
}
