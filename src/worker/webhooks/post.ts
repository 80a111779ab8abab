import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress } from '../../shared/webhook-target.js';

/** How one delivery attempt went. */
export type PostResult =
  | { readonly kind: 'answered'; readonly status: number }
  /** The destination resolves to an address webhooks may not reach: no retry. */
  | { readonly kind: 'refused'; readonly reason: string }
  /** No answer: DNS, connection, TLS, or the timeout. */
  | { readonly kind: 'failed'; readonly reason: string };

/** Options of {@link postWebhook}. */
export interface PostOptions {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly allowPrivate: boolean;
}

/**
 * POSTs one webhook. The name is resolved here and every address checked; the connection goes to the
 * checked address (so a name that resolves differently a moment later cannot reach a private one), with
 * the name kept for TLS and `Host`. Redirects are not followed: a 3xx is an answer like any other.
 */
export async function postWebhook(options: PostOptions): Promise<PostResult> {
  const url = new URL(options.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let address: { address: string; family: number };
  try {
    const all = isIP(host) !== 0 ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
    const bad = all.find((a) => isPrivateAddress(a.address));
    if (bad !== undefined && !options.allowPrivate) {
      return { kind: 'refused', reason: `${host} resolves to ${bad.address}, a loopback, private, link-local or metadata address` };
    }
    const first = all[0];
    if (first === undefined) return { kind: 'failed', reason: `${host} has no address` };
    address = first;
  } catch (err) {
    return { kind: 'failed', reason: `cannot resolve ${host}: ${err instanceof Error ? err.message : String(err)}` };
  }
  // Node 20's `autoSelectFamily` asks with `{all: true}` and wants a list back.
  const pinned: LookupFunction = (_name, opts, callback) => {
    if (opts.all === true) (callback as unknown as (e: null, list: { address: string; family: number }[]) => void)(null, [address]);
    else callback(null, address.address, address.family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostResult>((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        lookup: pinned,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(options.body),
          'user-agent': 'genrelay-webhooks',
          ...options.headers,
        },
      },
      (res) => {
        // The answer's body is not needed: drain it so the socket is released.
        res.resume();
        res.on('end', () => resolve({ kind: 'answered', status: res.statusCode ?? 0 }));
        res.on('error', () => resolve({ kind: 'answered', status: res.statusCode ?? 0 }));
      },
    );
    // One limit for the whole exchange, so a receiver that trickles its answer cannot stretch it.
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', (err) => resolve({ kind: 'failed', reason: err.message }));
    req.end(options.body);
  });
}
