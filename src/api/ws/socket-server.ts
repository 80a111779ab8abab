import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { closeAll } from '../../shared/close-all.js';
import type { Access, Auth } from '../auth.js';
import { closeCodes, pingEveryMs } from './protocol.js';
import { SocketSession, type SessionDeps } from './socket-session.js';

/** The WebSocket side of an API node. */
export interface SocketServer {
  /** Open sockets. */
  readonly size: number;
  /** Closes every socket with 1001 (clients move to another node and resubscribe with `after`); idempotent. */
  close(): Promise<void>;
}

/** Options of {@link attachSocketServer}. */
export interface SocketServerOptions extends Omit<SessionDeps, 'onClose'> {
  readonly auth: Auth;
  /** `MAX_BODY_BYTES`: larger frames close the socket with 1009. */
  readonly maxPayloadBytes: number;
  /** How often sockets are pinged; one that did not answer the last ping is dropped. Default 30 s. */
  readonly pingEveryMs?: number;
}

const refuse = (socket: Duplex, status: number, reason: string, headers: Record<string, string> = {}) => {
  const head = Object.entries({ connection: 'close', 'content-length': '0', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${status} ${reason}\r\n${head}\r\n`);
};

/**
 * `GET /v1/ws` on the API's own HTTP server: `ws` (per-message compression off, `maxPayload` =
 * `MAX_BODY_BYTES`) takes the upgrade after genrelay checked it. Credentials on the upgrade
 * (`Authorization: Bearer`) are checked then (a wrong key is a 401 before any socket exists); without
 * them the session waits for an `auth` frame. Sockets count against `MAX_CONNECTIONS` like any
 * connection (the HTTP server's own limit applies before the upgrade). A heartbeat pings every socket
 * and drops those that stopped answering.
 */
export function attachSocketServer(server: Server, options: SocketServerOptions): SocketServer {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: options.maxPayloadBytes });
  const sessions = new Set<SocketSession>();
  let closing = false;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path !== '/v1/ws') return refuse(socket, 404, 'Not Found');
      if (closing) return refuse(socket, 503, 'Service Unavailable', { 'retry-after': '1' });
      let access: Access | undefined;
      const authorization = req.headers.authorization;
      if (authorization !== undefined) {
        access = await options.auth.authenticate({ authorization });
        if (access === undefined) return refuse(socket, 401, 'Unauthorized', { 'www-authenticate': 'Bearer' });
      } else {
        // Auth off: open at once. Else the first frame must authenticate.
        const open = await options.auth.authenticate({});
        access = open?.kind === 'open' ? open : undefined;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const session = new SocketSession(ws, { ...options, onClose: (s) => sessions.delete(s) }, access, socket);
        sessions.add(session);
      });
    })().catch(() => socket.destroy());
  };
  server.on('upgrade', onUpgrade);

  const heartbeat = setInterval(() => {
    for (const session of sessions) {
      if (!session.alive) {
        session.socket.terminate();
        continue;
      }
      session.alive = false;
      session.socket.ping();
    }
  }, options.pingEveryMs ?? pingEveryMs);
  heartbeat.unref();

  let closed: Promise<void> | undefined;
  return {
    get size() {
      return sessions.size;
    },
    close() {
      closing = true;
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      closed ??= closeAll('socket server close failed', [
        ...[...sessions].map((session) => () => session.close(closeCodes.goingAway, 'server shutting down: resubscribe with after')),
        () => new Promise<void>((resolve) => wss.close(() => resolve())),
      ]);
      return closed;
    },
  };
}
