import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Readable, type Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { bodyStream, onCutShort } from './body-queue.js';

/** Statuses whose response has no body, so `Response` must be built with `null` (the fetch spec's null body statuses). */
const nullBodyStatuses: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** Options of {@link createHttpFetch}. */
export interface HttpFetchOptions {
  /**
   * Names a request's activity callback from its `init` (the SDK spreads a request's `fetchOptions`
   * into it): told when the response's head arrives and at every body chunk. Must be cheap.
   */
  readonly activityOf?: (init: RequestInit | undefined) => (() => void) | undefined;
}

/** A `fetch` over `node:http`, and the keep-alive agents it owns. */
export interface HttpFetch {
  readonly fetch: typeof fetch;
  /** Closes the idle keep-alive connections (a request in flight keeps its own). */
  close(): void;
}

/**
 * A `fetch` for the SDK over `node:http`/`node:https` with keep-alive agents: the response body is
 * read straight from the socket's `data` events ({@link bodyStream}). Undici's `fetch` runs every chunk through its
 * own stream machinery first, and seeing bytes arrive for the idle watchdog took one more stream on
 * top; at low load those were a fifth of the worker's CPU per delta (`bench/probes/upstream-transport.ts`).
 *
 * It does what the SDK asks of a fetch and no more: string or byte bodies (any other body goes to the
 * global `fetch`), no redirects, no proxy. It asks for no compression (`Accept-Encoding: identity`,
 * unless the caller names one: a request without the header allows any coding, RFC 9110 §12.5.3); a
 * gateway that compresses all the same gets its gzip, deflate or br body decoded, on a slower path
 * through `node:zlib`, as undici's `fetch` decodes it. Errors have undici's shapes:
 * `TypeError('fetch failed', { cause })` before the response, `TypeError('terminated', { cause })`
 * for a body cut short, the signal's reason on abort.
 */
export function createHttpFetch(options: HttpFetchOptions = {}): HttpFetch {
  // Node's own global agents' settings: idle connections closed after 5 s, the most recent reused first.
  const agentOptions = { keepAlive: true, timeout: 5000, scheduling: 'lifo' } as const;
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
  const activityOf = options.activityOf ?? (() => undefined);

  const send = (url: URL, init: RequestInit | undefined, body: string | Uint8Array | undefined) =>
    new Promise<Response>((resolve, reject) => {
      const signal = init?.signal ?? undefined;
      if (signal?.aborted) {
        reject(abortReason(signal));
        return;
      }
      const onActivity = activityOf(init) ?? noop;
      const https = url.protocol === 'https:';
      const headers = headerRecord(init?.headers);
      headers['accept-encoding'] ??= 'identity';
      if (body !== undefined) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
      const request: RequestOptions = { method: init?.method ?? 'GET', headers, agent: https ? agents.https : agents.http };
      const req = (https ? httpsRequest : httpRequest)(url, request);
      // Set once the body stream exists: errors and aborts after the head go to it.
      let failBody: ((err: unknown) => void) | undefined;
      const onAbort = () => {
        const reason = abortReason(signal);
        if (failBody !== undefined) failBody(reason);
        else reject(reason);
        req.destroy();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const release = () => signal?.removeEventListener('abort', onAbort);

      req.on('error', (err) => {
        if (signal?.aborted) return;
        release();
        if (failBody !== undefined) failBody(new TypeError('terminated', { cause: err }));
        else reject(new TypeError('fetch failed', { cause: err }));
      });
      req.once('response', (res) => {
        onActivity();
        const status = res.statusCode ?? 0;
        const responseHeaders = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) responseHeaders.append(raw[i] as string, raw[i + 1] as string);
        const init = { status, statusText: res.statusMessage ?? '', headers: responseHeaders };
        const empty = nullBodyStatuses.has(status) || request.method === 'HEAD';
        let response: Response;
        try {
          const decoder = empty ? undefined : decoderFor(res.headers['content-encoding']);
          const setFail = (fail: (err: unknown) => void) => (failBody = fail);
          const body = empty
            ? null
            : decoder === undefined
              ? bodyStream(res, onActivity, release, setFail)
              : decodedBody(res, decoder, onActivity, release, setFail);
          response = new Response(body, init);
        } catch (err) {
          // A status `Response` refuses (outside 200-599): what fetch reports as a network error.
          failBody = undefined;
          release();
          req.destroy();
          reject(new TypeError('fetch failed', { cause: err }));
          return;
        }
        if (empty) {
          res.resume();
          release();
        }
        resolve(response);
      });
      if (body !== undefined) req.end(body);
      else req.end();
    });

  const httpFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const body = init?.body ?? undefined;
    const plain = body === undefined || typeof body === 'string' || body instanceof Uint8Array;
    if (input instanceof Request || !plain || (url.protocol !== 'http:' && url.protocol !== 'https:')) return fetch(input, init);
    return send(url, init, body);
  }) as typeof fetch;

  return {
    fetch: httpFetch,
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** The decoder of a response's `Content-Encoding`, or undefined for none (or one undici does not decode either). */
function decoderFor(coding: string | undefined): Transform | undefined {
  switch (coding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'br':
      return createBrotliDecompress();
    default:
      return undefined;
  }
}

/**
 * A compressed body, decoded: the rare path (genrelay asks for none), so a plain web stream over the
 * decoder. A body cut short fails with `TypeError('terminated')`, one that does not decode with
 * zlib's error, an abort with the signal's reason.
 */
function decodedBody(
  res: IncomingMessage,
  decoder: Transform,
  onActivity: () => void,
  release: () => void,
  onFail: (fail: (err: unknown) => void) => void,
): ReadableStream<Uint8Array> {
  let over = false;
  const end = (err?: unknown) => {
    if (over) return;
    over = true;
    release();
    if (err !== undefined) {
      decoder.destroy(err instanceof Error ? err : new Error(String(err)));
      res.destroy();
    }
  };
  onFail((err) => end(err));
  res.on('data', onActivity);
  onCutShort(res, end);
  // The web stream reports the decoder's own error; here it only lets go of the request.
  decoder.on('error', (err) => end(err));
  decoder.once('end', () => end());
  res.pipe(decoder);
  return Readable.toWeb(decoder) as ReadableStream<Uint8Array>;
}

/** What an aborted request rejects with: the signal's reason, as `fetch` does. */
function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** A request's headers (a `Headers`, pairs, or a record) as the plain record `node:http` takes. */
function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  new Headers(headers).forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

const noop = (): void => {};
