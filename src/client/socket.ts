import { knownEventTypes } from '../shared/events.js';
import type { CreateJobBody, JobSubmission, Problem } from '../shared/wire.js';
import { createBackoff, sleep, type BackoffOptions } from './backoff.js';
import type { ConversationEvent } from './conversations.js';
import { ConnectionError, ProblemError } from './errors.js';
import type { FollowState, StreamEvent } from './follow.js';

/** The part of the WebSocket interface the client uses: the browser's, Node 22+'s global, or `ws`'s. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** Options of {@link createSocketClient}. */
export interface SocketClientOptions {
  /** The API (`http://…` or `ws://…`); the socket is `<base>/v1/ws`. */
  readonly baseUrl: string;
  /** A submitter key, sent in the first frame. */
  readonly apiKey?: string | undefined;
  /** A viewer token: reads its own job or conversation. */
  readonly token?: string | undefined;
  /** A WebSocket constructor. Default: the global one (browsers, Node 22+); on Node 20 pass `ws`'s. */
  readonly WebSocket?: new (url: string) => WebSocketLike;
  /** Reconnect delays (about 100 ms to 5 s, with jitter, by default). */
  readonly backoff?: BackoffOptions;
  /** Told when the socket is ready and before each reconnect. */
  readonly onState?: (state: FollowState) => void;
}

/** Close codes after which reconnecting would not help. */
const terminalCloses = new Set([4401, 1008, 1009]);

type Target = { readonly job: string } | { readonly conversation: string };

interface Subscription {
  readonly id: string;
  readonly target: Target;
  /** The cursor: the last event yielded (a job's seq, or a conversation's `<turn>-<seq>`). */
  after: number | string | undefined;
  push(item: { event: StreamEvent | ConversationEvent } | { end: true } | { error: unknown }): void;
}

interface Pending {
  readonly frame: Record<string, unknown>;
  resolve(frame: Record<string, unknown>): void;
  reject(err: unknown): void;
}

/** The socket API (API.md "The WebSocket") for one connection that reconnects by itself. */
export interface GenrelaySocket {
  /**
   * Follows a job (until its `done`) or a conversation (until `signal` aborts), yielding each event
   * once: after a dropped socket it reconnects and resubscribes with `after` by itself.
   */
  subscribe(target: { job: string }, options?: { after?: number; signal?: AbortSignal }): AsyncIterable<StreamEvent>;
  subscribe(target: { conversation: string }, options?: { after?: string; signal?: AbortSignal }): AsyncIterable<ConversationEvent>;
  /**
   * Submits a job over the socket. Always idempotent (a key is made when none is given), so a create
   * in flight when the socket drops is sent again after the reconnect and runs once.
   */
  create(body: CreateJobBody, options?: { idempotencyKey?: string }): Promise<JobSubmission>;
  /** Cancels a job wherever it runs; resolves with the outcome. */
  cancel(jobId: string): Promise<'cancelled' | 'requested' | 'already_ended'>;
  /** Closes the socket for good; open iterations end. */
  close(): void;
}

/** A problem frame as an error. */
const problemError = (frame: Record<string, unknown>) => new ProblemError(frame['problem'] as Problem);

/**
 * A socket client for browsers and Node (`genrelay/client`): one connection, many subscriptions,
 * `create` and `cancel`; it authenticates with its first frame, and after a drop it reconnects with
 * backoff, resubscribes every subscription from its cursor and sends again what was in flight. A
 * dropped socket cancels nothing on the server.
 */
export function createSocketClient(options: SocketClientOptions): GenrelaySocket {
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (Ctor === undefined) throw new Error('No WebSocket here: pass options.WebSocket (e.g. the `ws` package on Node 20).');
  const url = `${options.baseUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/v1/ws`;
  const backoff = createBackoff(options.backoff);
  const subscriptions = new Map<string, Subscription>();
  const pending = new Map<string, Pending>();
  let counter = 0;
  let socket: WebSocketLike | undefined;
  let ready = false;
  let closed = false;
  const nextId = () => `c${(counter += 1)}`;

  const send = (frame: Record<string, unknown>) => {
    if (ready && socket !== undefined) socket.send(JSON.stringify(frame));
  };
  const subscribeFrame = (s: Subscription) => ({ type: 'subscribe', id: s.id, ...s.target, ...(s.after === undefined ? {} : { after: s.after }) });

  const fail = (err: unknown) => {
    for (const s of subscriptions.values()) s.push({ error: err });
    subscriptions.clear();
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const onFrame = (frame: Record<string, unknown>) => {
    const id = String(frame['id'] ?? '');
    switch (frame['type']) {
      case 'ready':
        ready = true;
        backoff.reset();
        options.onState?.({ kind: 'connected' });
        for (const s of subscriptions.values()) send(subscribeFrame(s));
        for (const p of pending.values()) send(p.frame);
        return;
      case 'event': {
        const target = typeof frame['conversation'] === 'string' ? frame['conversation'] : frame['job'];
        const s = [...subscriptions.values()].find((sub) => ('job' in sub.target ? sub.target.job : sub.target.conversation) === target);
        if (s === undefined) return;
        const seq = Number(frame['seq']);
        if ('job' in s.target) {
          if (typeof s.after === 'number' && seq <= s.after) return;
          s.after = seq;
          if (knownEventTypes.has(String(frame['event']))) s.push({ event: { id: seq, type: frame['event'], data: frame['data'] } as StreamEvent });
        } else {
          const turn = Number(frame['turn']);
          const [t, q] = typeof s.after === 'string' ? s.after.split('-').map(Number) : [-1, -1];
          if (turn < (t ?? -1) || (turn === t && seq <= (q ?? -1))) return;
          s.after = `${turn}-${seq}`;
          const type = String(frame['event']);
          if (type === 'turn' || knownEventTypes.has(type)) s.push({ event: { id: s.after, turn, seq, type, data: frame['data'] } as ConversationEvent });
        }
        return;
      }
      case 'complete':
        subscriptions.get(id)?.push({ end: true });
        subscriptions.delete(id);
        return;
      case 'error': {
        const status = Number((frame['problem'] as Problem | undefined)?.status ?? 500);
        // The server's trouble (a 503 while Redis fails over): ask again after a while; a refusal is final.
        const s = subscriptions.get(id);
        const p = pending.get(id);
        if (status >= 500) {
          setTimeout(() => (s !== undefined ? send(subscribeFrame(s)) : p !== undefined ? send(p.frame) : undefined), backoff.next(1000));
          return;
        }
        s?.push({ error: problemError(frame) });
        subscriptions.delete(id);
        p?.reject(problemError(frame));
        pending.delete(id);
        return;
      }
      default: {
        const p = pending.get(id);
        if (p === undefined) return;
        pending.delete(id);
        p.resolve(frame);
      }
    }
  };

  const connect = () => {
    if (closed || socket !== undefined) return;
    const ws = new Ctor(url);
    socket = ws;
    ready = false;
    ws.onopen = () => {
      const credentials = options.token !== undefined ? { token: options.token } : options.apiKey !== undefined ? { key: options.apiKey } : undefined;
      // With credentials, `ready` follows the auth frame; without, the server says it at once (auth off).
      if (credentials !== undefined) ws.send(JSON.stringify({ type: 'auth', ...credentials }));
    };
    ws.onmessage = (event) => {
      try {
        onFrame(JSON.parse(String(event.data)) as Record<string, unknown>);
      } catch {
        // A frame this client cannot read is passed over.
      }
    };
    ws.onerror = () => {};
    ws.onclose = (event) => {
      socket = undefined;
      ready = false;
      if (closed) return;
      if (terminalCloses.has(event.code)) {
        closed = true;
        fail(new ProblemError({ type: 'about:blank', title: 'Socket closed', status: event.code === 4401 ? 401 : 400, detail: `${event.code} ${event.reason}` }));
        return;
      }
      const inMs = backoff.next();
      options.onState?.({ kind: 'reconnecting', inMs, reason: `socket closed (${event.code}${event.reason ? ` ${event.reason}` : ''})` });
      void sleep(inMs).then(connect);
    };
  };

  const request = (frame: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(new ConnectionError('the socket client is closed'));
      const id = nextId();
      const full = { ...frame, id };
      pending.set(id, { frame: full, resolve, reject });
      connect();
      send(full);
    });

  function subscribe(target: Target, opts: { after?: number | string; signal?: AbortSignal } = {}): AsyncIterable<StreamEvent | ConversationEvent> {
    return {
      async *[Symbol.asyncIterator]() {
        const queue: ({ event: StreamEvent | ConversationEvent } | { end: true } | { error: unknown })[] = [];
        let wake: (() => void) | undefined;
        const sub: Subscription = {
          id: nextId(),
          target,
          after: opts.after,
          push: (item) => {
            queue.push(item);
            wake?.();
          },
        };
        subscriptions.set(sub.id, sub);
        const onAbort = () => sub.push({ error: opts.signal?.reason });
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        connect();
        send(subscribeFrame(sub));
        try {
          for (;;) {
            const item = queue.shift();
            if (item === undefined) {
              await new Promise<void>((resolve) => (wake = resolve));
              wake = undefined;
              continue;
            }
            if ('error' in item) throw item.error;
            if ('end' in item) return;
            yield item.event;
          }
        } finally {
          opts.signal?.removeEventListener('abort', onAbort);
          if (subscriptions.delete(sub.id)) send({ type: 'unsubscribe', id: sub.id });
        }
      },
    };
  }

  return {
    subscribe: subscribe as GenrelaySocket['subscribe'],
    async create(body, opts = {}) {
      const key = opts.idempotencyKey ?? `socket-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
      const reply = await request({ type: 'create', body, idempotency_key: key });
      return reply['job'] as JobSubmission;
    },
    async cancel(jobId) {
      const reply = await request({ type: 'cancel', job: jobId });
      return reply['outcome'] as 'cancelled' | 'requested' | 'already_ended';
    },
    close() {
      closed = true;
      for (const sub of subscriptions.values()) sub.push({ end: true });
      subscriptions.clear();
      for (const p of pending.values()) p.reject(new ConnectionError('the socket client is closed'));
      pending.clear();
      socket?.close(1000, 'client closed');
    },
  };
}
