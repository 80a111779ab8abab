import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveBehaviour, type SimBehaviour } from './directive.js';
import { isHttpFault, sendHttpFault, sendTypedError } from './http-faults.js';
import { planAnswer } from './plan-answer.js';
import type { PromptCache } from './prompt-cache.js';
import { redactHeaders, type RequestLog, type SimRequestRecord } from './records.js';
import { countInputTokens, isProblem, parseMessagesRequest, promptTexts } from './request.js';
import type { SignatureBook } from './signatures.js';
import { streamResponse } from './stream-response.js';
import { makeId, sendError, sendJson } from './wire.js';

/** What the `/v1/messages` handler shares with the server. */
export interface MessagesDeps {
  readonly log: RequestLog;
  readonly defaults: Partial<SimBehaviour>;
  /** Thinking signatures and redacted data issued, checked when sent back. */
  readonly book: SignatureBook;
  /** The simulated prompt cache. */
  readonly cache: PromptCache;
  /** True once `close()` began: closes after that are not the client's doing. */
  readonly serverClosing: () => boolean;
  /** Keeps a cancel function until the answer is over, so `close()` can stop its timers. */
  readonly track: (res: ServerResponse, cancel: () => void) => void;
}

/** The real API's body limit. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Answers `POST /v1/messages`: validates like the real API (auth, JSON, fields, model), resolves the
 * directive, records the request, then injects an HTTP fault or streams / returns the answer.
 */
export async function handleMessages(req: IncomingMessage, res: ServerResponse, deps: MessagesDeps): Promise<void> {
  const requestId = makeId('req_011');
  const startedAt = Date.now();
  const raw = await readBody(req);
  if (res.destroyed) return; // The client left while sending its body: nobody to answer.
  const hash = createHash('sha256').update(raw ?? '').digest();
  const record = (body: unknown, key: string, tag: string | null, n: number): SimRequestRecord =>
    deps.log.add({
      id: requestId, key, tag, n, body, raw: raw ?? '', headers: redactHeaders(req.headers), startedAt,
      status: 200, fault: null, deltasSent: 0, textSent: '', outcome: 'in_progress',
    });
  const reject = (body: unknown, status: number, type: string, message: string): void => {
    // The directive's tag, when it can be read, lets a test find the request the simulator refused.
    const directive = resolveBehaviour(promptTexts(body), deps.defaults);
    const tag = directive.ok ? directive.behaviour.tag : null;
    Object.assign(record(body, `body:${hash.toString('hex', 0, 8)}`, tag, 0), { status, outcome: 'rejected' });
    sendError(res, status, type, message, requestId);
  };

  if (raw === undefined) return reject(null, 413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.');
  let body: unknown = null;
  let json = true;
  try {
    body = JSON.parse(raw) as unknown;
  } catch {
    json = false;
  }
  // Credentials are checked first, as the real API does; the body is parsed earlier only for the record.
  if (!hasCredentials(req)) return reject(body, 401, 'authentication_error', 'invalid x-api-key');
  if (!json) return reject(null, 400, 'invalid_request_error', 'There was an error parsing the body of your request: invalid JSON');
  const version = req.headers['anthropic-version'];
  const request = parseMessagesRequest(body, { version: typeof version === 'string' ? version : undefined, book: deps.book });
  if (isProblem(request)) return reject(body, request.status, request.type, request.message);
  const resolved = resolveBehaviour(request.texts, deps.defaults);
  if (!resolved.ok) return reject(body, 400, 'invalid_request_error', resolved.message);

  const behaviour = resolved.behaviour;
  const key = behaviour.key ?? `body:${hash.toString('hex', 0, 8)}`;
  const n = deps.log.nextN(key);
  const rec = record(body, key, behaviour.tag, n);
  // When the answer ended for the client (sent, faulted or closed): with startedAt, how many streams
  // were open at once.
  res.once('close', () => {
    rec.endedAt ??= Date.now();
  });
  rec.fault = behaviour.fault !== null && (behaviour.fault_times === null || n <= behaviour.fault_times) ? behaviour.fault : null;
  if (isHttpFault(rec.fault)) {
    Object.assign(rec, { outcome: 'fault', status: Number(rec.fault.slice(5)) });
    return sendHttpFault(res, rec.fault, behaviour, requestId);
  }

  // The cache is read and written only by requests that get an answer, as the API's prefill would.
  const cached = deps.cache.use(request.model, request.cacheUnits);
  const input = cached ?? { input: countInputTokens(request.texts), cacheCreation: 0, cacheRead: 0 };
  const head = { id: makeId('msg_01'), model: request.model, input, full: behaviour.blocks !== null || cached !== null };
  const answer = planAnswer(request, behaviour, hash.readUInt32BE(0), head, deps.book);
  if (request.stream) {
    const cancel = streamResponse({
      res, requestId, behaviour, script: answer.script(), fault: rec.fault, record: rec, serverClosing: deps.serverClosing,
    });
    return deps.track(res, cancel);
  }
  respondLater(res, behaviour, rec, deps, () => {
    rec.deltasSent = answer.deltas;
    rec.textSent = answer.text;
    sendJson(res, answer.message(), requestId);
  });
}

/** Non-streaming: after `ttft_ms`, the answer, or the fault (error_event → HTTP error, drop, stall). */
function respondLater(
  res: ServerResponse, behaviour: SimBehaviour, rec: SimRequestRecord, deps: MessagesDeps, answer: () => void,
): void {
  let done = false;
  const timer = setTimeout(() => {
    if (rec.fault === 'stall') return;
    done = true;
    rec.outcome = rec.fault === null ? 'completed' : 'fault';
    if (rec.fault === null) return answer();
    if (rec.fault === 'drop') return void res.socket?.destroy();
    rec.status = sendTypedError(res, behaviour, rec.id);
  }, behaviour.ttft_ms);
  res.on('close', () => {
    clearTimeout(timer);
    if (done || deps.serverClosing()) return;
    rec.outcome = 'client_closed';
    rec.closedByClientAt = Date.now();
  });
  deps.track(res, () => clearTimeout(timer));
}

/** Accepts `x-api-key: <any>` (0.x SDKs) or `authorization: Bearer <non-empty>` (1.x SDKs). */
function hasCredentials(req: IncomingMessage): boolean {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim() !== '') return true;
  const match = /^Bearer\s+(\S.*)$/i.exec(req.headers.authorization ?? '');
  return match !== null;
}

/** The body as text, or undefined past the real API's 32 MB limit. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Past the limit keep draining (leaving the loop would destroy the socket) but keep nothing.
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}
