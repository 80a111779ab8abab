import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SimBehaviour } from './directive.js';
import { handleMessages } from './handle-messages.js';
import { createPromptCache } from './prompt-cache.js';
import { createRequestLog, type SimRequestRecord } from './records.js';
import { createSignatureBook } from './signatures.js';
import { makeId, sendError, sendJson } from './wire.js';

/** Options of `startSimulator`. */
export interface SimulatorOptions {
  /** Port to listen on. Default 0: an ephemeral port (read it from `url`). */
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Behaviour for requests without a directive, and under every directive. Default: the built-in one. */
  defaults?: Partial<SimBehaviour>;
  /**
   * Prompt-cache minimum: a prefix of fewer tokens (a quarter of its canonical characters) is neither
   * cached nor read. Default 1024, the API's minimum for most models.
   */
  cacheMinTokens?: number;
  /**
   * Key of the HMAC behind default thinking signatures and redacted data. Default: random per
   * simulator. Set it only to record reproducible fixtures (`test/fixtures/sse/record.ts`).
   */
  secret?: string;
  /** Clock of the prompt cache (ms since the epoch), so a test can expire entries. Default `Date.now`. */
  now?: () => number;
  /** How many request records `requests` keeps (the newest). Default 10,000. */
  maxRecords?: number;
}

/** A running simulated Messages API. */
export interface Simulator {
  /** Base URL, e.g. `http://127.0.0.1:4010`: pass it to the SDK as `baseURL`. */
  readonly url: string;
  /** The last `maxRecords` `/v1/messages` requests, oldest first (live: records update as streams progress). */
  readonly requests: readonly SimRequestRecord[];
  /** Forgets the records and the `fault_times` counters (same as `POST /_sim/reset`); not the prompt cache or signatures. */
  reset(): void;
  /** Stops timers, destroys open sockets and stops listening. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts the simulator: `POST /v1/messages` like the real API, plus `GET /_sim/requests[?tag=&key=]`
 * (the request log as JSON) and `POST /_sim/reset` for tests that run genrelay in other processes.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const log = createRequestLog(options.maxRecords);
  const active = new Map<ServerResponse, () => void>();
  let closing: Promise<void> | undefined;
  let isClosing = false;
  const deps = {
    log,
    defaults: options.defaults ?? {},
    book: createSignatureBook(options.secret ?? randomBytes(32).toString('base64')),
    cache: createPromptCache({ minTokens: options.cacheMinTokens ?? 1024, now: options.now ?? Date.now }),
    serverClosing: () => isClosing,
    track: (res: ServerResponse, cancel: () => void) => {
      if (res.destroyed) return cancel();
      active.set(res, cancel);
      res.once('close', () => active.delete(res));
    },
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (req.method === 'POST' && url.pathname === '/v1/messages') return handleMessages(req, res, deps);
    if (req.method === 'GET' && url.pathname === '/_sim/requests') {
      return sendJson(res, log.query({
        tag: url.searchParams.get('tag') ?? undefined,
        key: url.searchParams.get('key') ?? undefined,
      }));
    }
    if (req.method === 'POST' && url.pathname === '/_sim/reset') {
      req.resume();
      log.reset();
      return sendJson(res, { ok: true });
    }
    req.resume();
    sendError(res, 404, 'not_found_error', 'Not Found', makeId('req_011'));
  };

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      // Typically the client vanished mid-body; answer if still possible, else just drop it.
      if (res.headersSent || res.destroyed) return void res.destroy();
      sendError(res, 500, 'api_error', `Internal server error: ${String(error)}`, makeId('req_011'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    requests: log.records,
    reset: () => log.reset(),
    close() {
      isClosing = true;
      closing ??= new Promise<void>((resolve) => {
        for (const cancel of active.values()) cancel();
        active.clear();
        server.close(() => resolve());
        // Stalled streams and keep-alive sockets would hold close() forever.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
