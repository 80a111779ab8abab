import type { Tracer } from '@opentelemetry/api';
import { closeAll } from '../shared/close-all.js';
import type { RedisClient } from '../shared/redis.js';
import type { JobStore } from '../shared/job-store.js';
import type { Logger } from '../shared/logger.js';
import { createChannelRooms } from './relay/channel-rooms.js';
import { sseJobEncoder, type EventEncoder } from './relay/encoder.js';
import { JobRoom, type EndWatcher } from './relay/job-room.js';
import type { Transport, ViewerSink } from './relay/sink.js';
import { traceDelivery } from './relay/traced-sink.js';
import { RelayViewer } from './relay/viewer.js';

export type { EndWatcher } from './relay/job-room.js';

/** How a viewer is attached: its framing (default: the job's SSE stream), and what follows `done`. */
export interface AttachOptions {
  readonly encoder?: EventEncoder;
  /** After `done`, keep the sink and call this instead of ending it (a conversation's next turn). */
  readonly onDone?: () => void;
}

/** Fans each job's live events out to this process's viewers over one shared Redis subscriber. */
export interface EventHub {
  /**
   * Adds a viewer of `jobId` that has been sent everything up to `cursor`: subscribes (once per job per
   * process), then replays the log from the cursor, then follows live. A response whose client has
   * already gone is not added.
   */
  attach(jobId: string, sink: ViewerSink, cursor: number, options?: AttachOptions): Promise<RelayViewer>;
  /**
   * Follows a conversation's channel (see `ConversationKeys.channel`) on the same subscriber:
   * `onTurn` when a turn is announced, and after the subscriber reconnected (one may have been
   * missed); `onTick` on every keep-alive tick. `subscribed` resolves once nothing published from then
   * on can be missed.
   */
  watchConversation(channel: string, watcher: ConversationWatcher): { readonly subscribed: Promise<unknown>; stop(): void };
  /** Ends the viewers of jobs whose record is gone (Redis lost it); resolves with how many jobs. */
  endLostJobs(): Promise<number>;
  /**
   * Follows the end of `jobId` on the same one subscription per job its viewers use: `onDone` when its
   * `done` is published, `onResubscribed` after the subscriber reconnected (a `done` may have been
   * missed meanwhile: look again). `subscribed` resolves once nothing published from then on can be
   * missed. `stop()` ends the watch.
   */
  watchEnd(jobId: string, watcher: EndWatcher): { readonly subscribed: Promise<unknown>; stop(): void };
  /** Viewers of `jobId` attached to this process. */
  localViewers(jobId: string): number;
  /** Viewers attached to this process (on `transport`, or all). */
  viewerCount(transport?: Transport): number;
  /** Bytes written to viewers that their connections have not taken yet, summed (over `transport`, or all). */
  bufferedBytes(transport?: Transport): number;
  /** Ends every viewer's response (so clients reconnect elsewhere) and closes the subscriber; idempotent. */
  close(): Promise<void>;
}

/** Dependencies of {@link createEventHub}. */
export interface EventHubDeps {
  /** A dedicated connection: it only subscribes. */
  readonly subscriber: RedisClient;
  readonly store: JobStore;
  readonly logger: Logger;
  readonly keepaliveMs: number;
  readonly viewerBufferBytes: number;
  /** A replay the socket takes nothing of for this long is cut off (`VIEWER_STALL_TIMEOUT_MS`). */
  readonly replayStallMs: number;
  /** Called when a viewer is cut off for not reading. */
  readonly onOverflow?: (transport: Transport) => void;
  /** Told the new local viewer count of a job whenever it changes. */
  readonly onViewers?: (jobId: string, count: number) => void;
  /** Tracing on: each viewer's delivery is a span (`relay/traced-sink.ts`), linked to the job's trace read with `readTraceparent`. */
  readonly tracing?: { readonly tracer: Tracer; readonly readTraceparent: (jobId: string) => Promise<string | undefined> } | undefined;
}

/** Told about a conversation's new turns (see {@link EventHub.watchConversation}). */
export interface ConversationWatcher {
  onTurn(): void;
  onTick(): void;
  /** The hub is closing (the API shuts down): end the stream so the client resumes elsewhere. */
  onClose(): void;
}

/**
 * Creates the hub; one per API process. Its duties each live in a room of their own: the subscriber's
 * channels (`ChannelRooms`), each job's viewers and end watchers (`JobRoom`), conversation watchers;
 * the hub attaches viewers, runs the keep-alive tick and the lost-job sweep under pub/sub.
 */
export function createEventHub(deps: EventHubDeps): EventHub {
  const { subscriber, store, logger } = deps;
  const channels = createChannelRooms(subscriber, logger);
  const jobs = new Map<string, { readonly room: JobRoom; readonly membership: { readonly subscribed: Promise<unknown>; leave(): void } }>();
  const conversations = new Set<ConversationWatcher>();
  let viewerCount = 0;

  /** The job's room, joined to its channel on first use. */
  const roomOf = (jobId: string) => {
    let entry = jobs.get(jobId);
    if (entry === undefined) {
      const room = new JobRoom(jobId);
      entry = { room, membership: channels.join(store.keys(jobId).channel, room) };
      jobs.set(jobId, entry);
    }
    return entry;
  };
  /** Leaves the job's channel once nobody in this process follows the job any more. */
  const release = (jobId: string) => {
    const entry = jobs.get(jobId);
    if (entry === undefined || !entry.room.isEmpty) return;
    jobs.delete(jobId);
    entry.membership.leave();
  };
  const detach = (viewer: RelayViewer) => {
    const entry = jobs.get(viewer.jobId);
    if (entry === undefined || !entry.room.viewers.delete(viewer)) return;
    viewerCount -= 1;
    deps.onViewers?.(viewer.jobId, entry.room.viewers.size);
    release(viewer.jobId);
  };

  // The safety net under pub/sub, one check at a time (during an outage the ticks would otherwise queue
  // one each in ioredis): a job whose record is gone ends its viewers; a job whose log is ahead of a
  // viewer (an event published while a subscriber, a shard's on a Cluster, was reconnecting, and
  // nothing after it yet) sends that viewer to the log, and its waiters look again.
  let checking: Promise<number> | undefined;
  const endLostJobs = (): Promise<number> => {
    checking ??= (async () => {
      const rooms = [...jobs.values()].map((e) => e.room);
      if (rooms.length === 0) return 0;
      const seqs = await store.lastSeqs(rooms.map((r) => r.jobId));
      let lost = 0;
      for (const room of rooms) {
        const seq = seqs.get(room.jobId);
        if (seq === undefined) {
          lost += 1;
          logger.warn({ jobId: room.jobId }, 'job gone from Redis: ending its viewers');
          for (const viewer of [...room.viewers]) viewer.end();
          continue;
        }
        let behind = false;
        for (const viewer of room.viewers) {
          if (viewer.lastSeq < seq) {
            behind = true;
            void viewer.catchUp();
          }
        }
        if (behind || room.viewers.size === 0) for (const watcher of [...room.watchers]) watcher.onResubscribed();
      }
      return lost;
    })().finally(() => {
      checking = undefined;
    });
    return checking;
  };
  // A Redis that restarted without its data has lost jobs: their viewers end (a reconnect gets 404)
  // before the others catch up.
  channels.beforeResubscribed(endLostJobs);

  // Each keep-alive tick also looks for jobs that vanished without a reconnect (keys deleted, Redis
  // replaced behind a proxy): one pipelined read per followed job per tick.
  const keepalive = setInterval(() => {
    for (const { room } of jobs.values()) for (const viewer of room.viewers) viewer.keepalive();
    for (const watcher of [...conversations]) watcher.onTick();
    endLostJobs().catch((err: unknown) => logger.debug({ err }, 'lost-job check failed'));
  }, deps.keepaliveMs);
  keepalive.unref();

  const viewers = function* (transport?: Transport) {
    for (const { room } of jobs.values()) for (const viewer of room.viewers) if (transport === undefined || viewer.sink.transport === transport) yield viewer;
  };

  let closing: Promise<void> | undefined;
  return {
    async attach(jobId, sink, cursor, options = {}) {
      const { tracing } = deps;
      const delivery = tracing === undefined ? undefined : traceDelivery(tracing.tracer, jobId, sink, cursor, tracing.readTraceparent);
      const viewer = new RelayViewer({
        jobId,
        sink: delivery === undefined ? sink : delivery.sink,
        encoder: options.encoder ?? sseJobEncoder,
        ...(options.onDone === undefined ? {} : { onDone: options.onDone }),
        cursor,
        readLog: (after, limit) => store.readEvents(jobId, after, limit),
        maxBufferedBytes: deps.viewerBufferBytes,
        replayStallMs: deps.replayStallMs,
        onClose:
          delivery === undefined
            ? detach
            : (v) => {
                detach(v);
                delivery.end(v.lastSeq);
              },
        onOverflow: (v) => {
          logger.info({ jobId: v.jobId, transport: v.sink.transport }, 'viewer not reading: disconnected (it can resume from its cursor)');
          deps.onOverflow?.(v.sink.transport);
        },
      });
      if (viewer.isClosed) {
        delivery?.end(viewer.lastSeq);
        return viewer;
      }
      const { room, membership } = roomOf(jobId);
      room.viewers.add(viewer);
      viewerCount += 1;
      deps.onViewers?.(jobId, room.viewers.size);
      // Subscribe before reading the backlog: nothing published after the read can be missed.
      await membership.subscribed;
      await viewer.catchUp();
      return viewer;
    },
    endLostJobs,
    watchConversation(channel, watcher) {
      conversations.add(watcher);
      const membership = channels.join(channel, { onMessage: () => watcher.onTurn(), onResubscribed: () => watcher.onTurn() });
      return {
        subscribed: membership.subscribed,
        stop() {
          if (conversations.delete(watcher)) membership.leave();
        },
      };
    },
    watchEnd(jobId, watcher) {
      const { room, membership } = roomOf(jobId);
      room.watchers.add(watcher);
      return {
        subscribed: membership.subscribed,
        stop() {
          if (room.watchers.delete(watcher)) release(jobId);
        },
      };
    },
    localViewers(jobId) {
      return jobs.get(jobId)?.room.viewers.size ?? 0;
    },
    viewerCount(transport) {
      if (transport === undefined) return viewerCount;
      let n = 0;
      for (const _ of viewers(transport)) n += 1;
      return n;
    },
    bufferedBytes(transport) {
      let total = 0;
      for (const viewer of viewers(transport)) total += viewer.bufferedBytes;
      return total;
    },
    close() {
      clearInterval(keepalive);
      closing ??= closeAll('event hub close failed', [
        ...[...viewers()].map((viewer) => () => viewer.end()),
        ...[...conversations].map((watcher) => () => watcher.onClose()),
        // Quit fails only when the connection is already gone: nothing left to close then.
        () => subscriber.quit().catch(() => {}),
      ]);
      return closing;
    },
  };
}
