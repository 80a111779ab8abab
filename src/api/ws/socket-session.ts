import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { AppError } from '../../shared/errors.js';
import { isTerminal, type JobStatus } from '../../shared/events.js';
import { isConversationId, isJobId } from '../../shared/ids.js';
import type { CancelOutcome, JobStore } from '../../shared/job-store.js';
import type { Logger } from '../../shared/logger.js';
import type { JobSubmission } from '../../shared/wire.js';
import type { Access, Auth } from '../auth.js';
import { conversationCursorIssue, streamConversation } from '../conversation-stream.js';
import type { EventHub } from '../event-hub.js';
import { toProblem } from '../problem.js';
import { openBlocksAt } from './open-blocks.js';
import { frames, wsConversationFraming, wsJobEncoder } from './frames.js';
import { authWindowMs, clientFrame, closeCodes, maxSubscriptions, type ClientFrame, type RequestId } from './protocol.js';
import { SubscriptionSink } from './subscription-sink.js';

/** What a socket session needs from the API node. */
export interface SessionDeps {
  readonly hub: EventHub;
  readonly store: JobStore;
  readonly auth: Auth;
  readonly keyPrefix: string;
  readonly logger: Logger;
  /** Submits a job as `POST /v1/jobs` does (validated, idempotent by key). */
  readonly createJob: (body: unknown, idempotencyKey: string | undefined) => Promise<{ readonly created: boolean; readonly answer: JobSubmission }>;
  readonly cancelJob: (id: string) => Promise<CancelOutcome>;
  /** Told of each subscription started (metrics). */
  readonly onSubscribe?: () => void;
  /** Called when the session is over. */
  readonly onClose: (session: SocketSession) => void;
  readonly authWindowMs?: number;
}

interface Subscription {
  readonly target: string;
  readonly sink: SubscriptionSink;
}

const refusal = (message: string) => new AppError('unauthorized', message);

/**
 * One WebSocket connection (API.md "The WebSocket"): authenticated on its upgrade or by a first `auth`
 * frame, then any number (up to {@link maxSubscriptions}) of subscriptions to jobs and conversations,
 * each a relay viewer on its own {@link SubscriptionSink}, beside `create`, `cancel` and `ping`. Bad
 * input gets an `error` frame and the socket stays open. A dropped socket cancels nothing.
 */
export class SocketSession {
  private access: Access | undefined;
  private readonly subscriptions = new Map<RequestId, Subscription>();
  private readonly targets = new Map<string, RequestId>();
  private closed = false;
  private authTimer: NodeJS.Timeout | undefined;
  /** A pong came since the last ping (the server's heartbeat reads and resets it). */
  alive = true;

  constructor(
    readonly socket: WebSocket,
    private readonly deps: SessionDeps,
    access: Access | undefined,
    /** The connection `ws` took over on the upgrade (event frames are written to it ready-framed). */
    private readonly wire: Duplex,
  ) {
    socket.on('message', (data, isBinary) => void this.receive(data as Buffer, isBinary));
    socket.on('pong', () => (this.alive = true));
    socket.on('close', () => this.shutDown());
    socket.on('error', () => socket.terminate());
    if (access !== undefined) this.ready(access);
    else this.authTimer = setTimeout(() => this.close(closeCodes.unauthorized, 'no auth frame in time'), deps.authWindowMs ?? authWindowMs);
  }

  /** Subscriptions held now. */
  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /** Closes the socket with `code` (the subscriptions end with it). */
  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) this.socket.close(code, reason);
    this.shutDown();
  }

  private ready(access: Access): void {
    clearTimeout(this.authTimer);
    this.access = access;
    this.send(frames.ready(access.kind));
  }

  private send(frame: Buffer): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(frame, { binary: false });
  }

  private async receive(data: Buffer, isBinary: boolean): Promise<void> {
    let id: RequestId | undefined;
    try {
      if (isBinary) throw new AppError('validation_failed', 'Frames are JSON text.', { details: [{ path: '', message: 'a binary frame' }] });
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString('utf8'));
      } catch {
        throw new AppError('validation_failed', 'The frame is not valid JSON.', { details: [{ path: '', message: 'not JSON' }] });
      }
      const maybeId = (raw as { id?: unknown } | null)?.id;
      if (typeof maybeId === 'string' || typeof maybeId === 'number') id = maybeId;
      const parsed = clientFrame.safeParse(raw);
      if (!parsed.success) {
        const details = parsed.error.issues.map((i) => ({ path: `/${i.path.map(String).join('/')}`, message: i.message }));
        throw new AppError('validation_failed', `The frame is invalid: ${details[0]?.path ?? '/'} ${details[0]?.message ?? ''}`.trim(), { details });
      }
      await this.handle(parsed.data);
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status >= 500) this.deps.logger.error({ err }, 'socket request failed');
      this.send(frames.error(id, problem));
    }
  }

  private async handle(frame: ClientFrame): Promise<void> {
    if (frame.type === 'auth') return this.authenticate(frame);
    if (frame.type === 'ping') return this.send(frames.pong(frame.id));
    if (frame.type === 'pong') return;
    const access = this.access;
    if (access === undefined) throw refusal('Authenticate first: an auth frame with a key or a viewer token.');
    switch (frame.type) {
      case 'subscribe':
        return frame.job !== undefined ? this.subscribeJob(frame.id, frame.job, typeof frame.after === 'number' ? frame.after : 0, access)
          : this.subscribeConversation(frame.id, frame.conversation ?? '', typeof frame.after === 'string' ? frame.after : undefined, access);
      case 'unsubscribe':
        if (!this.subscriptions.has(frame.id)) throw new AppError('not_found', `No subscription ${JSON.stringify(frame.id)} on this socket.`);
        return this.complete(frame.id);
      case 'create': {
        if (access.kind === 'viewer') throw refusal('A viewer token reads; creating a job takes a key.');
        const { answer } = await this.deps.createJob(frame.body, frame.idempotency_key);
        this.send(frames.created(frame.id, answer));
        if (frame.subscribe === true) await this.subscribeJob(frame.id, answer.id, 0, access);
        return;
      }
      case 'cancel': {
        if (access.kind === 'viewer') throw refusal('A viewer token reads; cancelling a job takes a key.');
        const outcome = isJobId(frame.job) ? await this.deps.cancelJob(frame.job) : 'gone';
        if (outcome === 'gone') throw new AppError('not_found', 'No such job, or its result has expired.');
        return this.send(frames.cancelled(frame.id, frame.job, outcome));
      }
    }
  }

  private async authenticate(frame: Extract<ClientFrame, { type: 'auth' }>): Promise<void> {
    if (this.access !== undefined) throw new AppError('conflict', 'This socket is authenticated already.');
    const access = await this.deps.auth.authenticate({ key: frame.key, token: frame.token });
    if (access === undefined) return this.close(closeCodes.unauthorized, 'bad credentials');
    this.ready(access);
  }

  /** Registers a subscription before its stream starts, so an unsubscribe meanwhile is honoured. */
  private register(id: RequestId, target: string, access: Access): SubscriptionSink {
    if (!this.deps.auth.mayRead(access, target)) throw refusal(`This viewer token does not read ${target}.`);
    if (this.subscriptions.has(id)) throw new AppError('conflict', `A subscription ${JSON.stringify(id)} exists on this socket.`);
    const existing = this.targets.get(target);
    if (existing !== undefined) throw new AppError('conflict', `This socket follows ${target} already, as ${JSON.stringify(existing)}.`);
    if (this.subscriptions.size >= maxSubscriptions) {
      throw new AppError('conflict', `A socket holds at most ${maxSubscriptions} subscriptions; unsubscribe first.`);
    }
    const sink = new SubscriptionSink({
      socket: this.socket,
      wire: this.wire,
      complete: () => this.complete(id),
      overflow: () => this.close(closeCodes.tryAgainLater, 'client too slow: resubscribe with after'),
    });
    this.subscriptions.set(id, { target, sink });
    this.targets.set(target, id);
    this.deps.onSubscribe?.();
    return sink;
  }

  private async subscribeJob(id: RequestId, job: string, after: number, access: Access): Promise<void> {
    const progress = isJobId(job) ? await this.deps.store.progress(job) : undefined;
    if (progress === undefined) throw new AppError('not_found', 'No such job, or its result has expired.');
    if (after > progress.seq && !isTerminal(progress.status)) {
      throw new AppError('validation_failed', `The cursor ${after} is past the job's last event (${progress.seq}).`, {
        details: [{ path: '/after', message: `is past the job's last event, ${progress.seq}` }],
      });
    }
    const sink = this.register(id, job, access);
    // Resumed inside a block: what the client needs to render it (its type, a tool's name and id).
    const open = after > 0 ? await openBlocksAt(this.deps.store, job, after) : [];
    this.send(frames.subscribed(id, { job, status: progress.status as JobStatus, open_blocks: open }));
    if (isTerminal(progress.status) && after >= progress.seq) return this.complete(id);
    await this.deps.hub.attach(job, sink, after, { encoder: wsJobEncoder(job) });
  }

  private async subscribeConversation(id: RequestId, conversation: string, after: string | undefined, access: Access): Promise<void> {
    const stored = isConversationId(conversation) ? await this.deps.store.readConversation(conversation) : undefined;
    if (stored === undefined) throw new AppError('not_found', 'No such conversation, or it has expired.');
    const [turn = 0, seq = 0] = after === undefined ? [] : after.split('-').map(Number);
    const issue = await conversationCursorIssue(this.deps.store, stored, { turn, seq }, '/after');
    if (issue !== undefined) throw issue;
    const sink = this.register(id, conversation, access);
    this.send(frames.subscribed(id, { conversation }));
    await streamConversation(this.deps, conversation, sink, { turn, seq }, wsConversationFraming(conversation));
  }

  /** A subscription is over: `complete` (unless the socket is going), and its viewers let go. */
  private complete(id: RequestId): void {
    const subscription = this.subscriptions.get(id);
    if (subscription === undefined) return;
    this.subscriptions.delete(id);
    this.targets.delete(subscription.target);
    subscription.sink.close();
    this.send(frames.complete(id));
  }

  private shutDown(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.authTimer);
    // A dropped socket cancels nothing: its subscriptions end, the jobs run on.
    for (const { sink } of this.subscriptions.values()) sink.close();
    this.subscriptions.clear();
    this.targets.clear();
    this.deps.onClose(this);
  }
}
