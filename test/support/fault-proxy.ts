import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy in front of a real Redis that can lose one reply on purpose: the network fault behind
 * ioredis's resend after a reconnect. Everything else passes through untouched.
 */
export interface FaultProxy {
  /** `redis://127.0.0.1:PORT` of the proxy. */
  readonly url: string;
  /**
   * Arms the fault: the next chunk a client sends that contains every one of `markers` is passed to
   * Redis, and once Redis has answered (and 50 ms have passed, time enough to run anything), that
   * client's connection is cut without the answers reaching it (Redis ran the command; the client
   * never heard). Resolves when the cut happened.
   */
  dropReplyTo(markers: readonly string[]): Promise<void>;
  /** How many replies were dropped so far. */
  readonly dropped: number;
  close(): Promise<void>;
}

/** Starts a proxy on a free port in front of `target` (`redis://host:port`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const armed: { markers: readonly string[]; fired: () => void }[] = [];
  let dropped = 0;

  const server = createServer((client) => {
    const upstream = connect({ host: hostname, port: Number(port) });
    sockets.add(client);
    sockets.add(upstream);
    let cutting = false;
    client.on('data', (chunk: Buffer) => {
      if (cutting) return;
      const text = chunk.toString('latin1');
      const fault = armed.findIndex((a) => a.markers.every((m) => text.includes(m)));
      if (fault >= 0) {
        const [{ fired }] = armed.splice(fault, 1) as [(typeof armed)[number]];
        cutting = true;
        // Redis runs a command within microseconds of reading it; the first reply bytes after the
        // chunk may answer an earlier command of the same connection, so wait a little past them.
        let answered = false;
        let waited = false;
        const cut = () => {
          if (!answered || !waited || client.destroyed) return;
          dropped += 1;
          client.destroy();
          upstream.destroy();
          fired();
        };
        upstream.once('data', () => {
          answered = true;
          cut();
        });
        setTimeout(() => {
          waited = true;
          cut();
        }, 50);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!cutting) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${own}`,
    dropReplyTo: (markers) => new Promise<void>((fired) => armed.push({ markers, fired })),
    get dropped() {
      return dropped;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
