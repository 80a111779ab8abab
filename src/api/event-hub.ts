import { Cluster } from 'ioredis';
import type { RedisClient } from '../shared/redis.js';
import { decodeWire } from '../shared/events.js';
import type { JobStore } from '../shared/job-store.js';
import type { Logger } from '../shared/logger.js';
import { sseJobEncoder, type EventEncoder } from './relay/encoder.js';
import type { Transport, ViewerSink } from './relay/sink.js';
import { RelayViewer, type LiveEvent } from './relay/viewer.js';

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
}

/** Told about a conversation's new turns (see {@link EventHub.watchConversation}). */
export interface ConversationWatcher {
  onTurn(): void;
  onTick(): void;
  /** The hub is closing (the API shuts down): end the stream so the client resumes elsewhere. */
  onClose(): void;
}

/** Told about the end of one job (see {@link EventHub.watchEnd}). */
export interface EndWatcher {
  onDone(): void;
  onResubscribed(): void;
}

interface JobChannel {
  readonly jobId: string;
  readonly viewers: Set<RelayViewer>;
  readonly watchers: Set<EndWatcher>;
  subscribed: Promise<unknown>;
  /** Live events waiting for the fan-out after the subscriber's current read. */
  queue: LiveEvent[];
  scheduled: boolean;
}

/** Creates the hub; one per API process. */
export function createEventHub(deps: EventHubDeps): EventHub {
  const { subscriber, store, logger } = deps;
  const byChannel = new Map<string, JobChannel>();
  const conversations = new Map<string, { readonly watchers: Set<ConversationWatcher>; readonly subscribed: Promise<unknown> }>();
  let viewerCount = 0;
  let connectedOnce = false;

  // Events are queued per job and fanned out once the subscriber's socket read has been parsed: when
  // several arrive together (a busy process reads many from one read), each viewer gets them in one
  // write. A microtask, not setImmediate: an event that arrives alone goes out in the same turn
  // instead of waiting for the poll phase to end (0.1-0.2 ms of every delta at low load).
  const flush = (entry: JobChannel) => {
    const events = entry.queue;
    entry.queue = [];
    entry.scheduled = false;
    if (entry.watchers.size > 0 && events.some((e) => e.done)) for (const w of [...entry.watchers]) w.onDone();
    if (events.length === 1) {
      const [event] = events as [LiveEvent];
      for (const viewer of entry.viewers) viewer.deliver(event);
      return;
    }
    for (const viewer of entry.viewers) viewer.deliverBatch(events);
  };
  subscriber.on('smessage', (channel: string, payload: string) => {
    const entry = byChannel.get(channel);
    if (entry === undefined) {
      for (const watcher of [...(conversations.get(channel)?.watchers ?? [])]) watcher.onTurn();
      return;
    }
    const event = decodeWire(payload);
    if (event === undefined) return;
    // Framed once per framing (on first use), the same bytes for every local viewer with it.
    entry.queue.push({ ...event, done: event.type === 'done', frames: new Map() });
    if (!entry.scheduled) {
      entry.scheduled = true;
      queueMicrotask(() => flush(entry));
    }
  });

  // After a reconnect ioredis re-subscribes, but what was published while it was away is lost:
  // subscribe again explicitly (so the reply proves the subscription is live), then every viewer
  // fills its gap from the log. One Redis says so with `ready`; a Cluster replaces a shard's
  // subscriber that went away (a failover, a reshard, a dropped connection) and then says
  // `subscribersReady`, and its channels can only be subscribed one slot at a time.
  const cluster = subscriber instanceof Cluster;
  const resubscribe = (channels: string[]) =>
    cluster ? Promise.all(channels.map((channel) => subscriber.ssubscribe(channel))) : subscriber.ssubscribe(...channels);
  subscriber.on(cluster ? 'subscribersReady' : 'ready', () => {
    if (!connectedOnce && !cluster) {
      connectedOnce = true;
      return;
    }
    const entries = [...byChannel.entries()];
    const watched = [...conversations.entries()];
    if (entries.length === 0 && watched.length === 0) return;
    logger.info({ channels: entries.length + watched.length }, 'subscriber reconnected: viewers catch up from the log');
    void resubscribe([...entries.map(([channel]) => channel), ...watched.map(([channel]) => channel)])
      // A Redis that restarted without its data has lost jobs: their viewers end (a reconnect gets 404).
      .then(() => endLostJobs())
      .then(() => {
        for (const [, entry] of entries) {
          for (const viewer of entry.viewers) void viewer.catchUp();
          for (const watcher of [...entry.watchers]) watcher.onResubscribed();
        }
        for (const [, conversation] of watched) for (const watcher of [...conversation.watchers]) watcher.onTurn();
      })
      .catch((err: unknown) => logger.warn({ err }, 're-subscribe failed'));
  });
  if (subscriber.status === 'ready') connectedOnce = true;

  const detach = (viewer: RelayViewer) => {
    const channel = store.keys(viewer.jobId).channel;
    const entry = byChannel.get(channel);
    if (entry === undefined || !entry.viewers.delete(viewer)) return;
    viewerCount -= 1;
    deps.onViewers?.(viewer.jobId, entry.viewers.size);
    release(channel, entry);
  };
  /** The job's channel entry, subscribing on first use. */
  const channelOf = (jobId: string): [string, JobChannel] => {
    const channel = store.keys(jobId).channel;
    let entry = byChannel.get(channel);
    if (entry === undefined) {
      entry = { jobId, viewers: new Set(), watchers: new Set(), subscribed: subscriber.ssubscribe(channel), queue: [], scheduled: false };
      byChannel.set(channel, entry);
    }
    return [channel, entry];
  };
  /** Unsubscribes once nobody in this process follows the job any more. */
  const release = (channel: string, entry: JobChannel) => {
    if (entry.viewers.size > 0 || entry.watchers.size > 0 || byChannel.get(channel) !== entry) return;
    byChannel.delete(channel);
    subscriber.sunsubscribe(channel).catch(() => {});
  };

  // The safety net under pub/sub, one check at a time (during an outage the ticks would otherwise queue
  // one each in ioredis): a job whose record is gone ends its viewers; a job whose log is ahead of a
  // viewer (an event published while a subscriber, a shard's on a Cluster, was reconnecting, and
  // nothing after it yet) sends that viewer to the log, and its waiters look again.
  let checking: Promise<number> | undefined;
  const endLostJobs = (): Promise<number> => {
    checking ??= (async () => {
      const entries = [...byChannel.values()];
      if (entries.length === 0) return 0;
      const seqs = await store.lastSeqs(entries.map((e) => e.jobId));
      let lost = 0;
      for (const entry of entries) {
        const seq = seqs.get(entry.jobId);
        if (seq === undefined) {
          lost += 1;
          logger.warn({ jobId: entry.jobId }, 'job gone from Redis: ending its viewers');
          for (const viewer of [...entry.viewers]) viewer.end();
          continue;
        }
        let behind = false;
        for (const viewer of entry.viewers) {
          if (viewer.lastSeq < seq) {
            behind = true;
            void viewer.catchUp();
          }
        }
        if (behind || entry.viewers.size === 0) for (const watcher of [...entry.watchers]) watcher.onResubscribed();
      }
      return lost;
    })().finally(() => {
      checking = undefined;
    });
    return checking;
  };
  // Each keep-alive tick also looks for jobs that vanished without a reconnect (keys deleted, Redis
  // replaced behind a proxy): one pipelined EXISTS per followed job per tick.
  const keepalive = setInterval(() => {
    for (const entry of byChannel.values()) for (const viewer of entry.viewers) viewer.keepalive();
    for (const conversation of conversations.values()) for (const watcher of [...conversation.watchers]) watcher.onTick();
    endLostJobs().catch((err: unknown) => logger.debug({ err }, 'lost-job check failed'));
  }, deps.keepaliveMs);
  keepalive.unref();

  let closing: Promise<void> | undefined;
  return {
    async attach(jobId, sink, cursor, options = {}) {
      const viewer = new RelayViewer({
        jobId,
        sink,
        encoder: options.encoder ?? sseJobEncoder,
        ...(options.onDone === undefined ? {} : { onDone: options.onDone }),
        cursor,
        readLog: (after, limit) => store.readEvents(jobId, after, limit),
        maxBufferedBytes: deps.viewerBufferBytes,
        replayStallMs: deps.replayStallMs,
        onClose: detach,
        onOverflow: (v) => {
          logger.info({ jobId: v.jobId }, 'viewer not reading: disconnected (it can resume with Last-Event-ID)');
          deps.onOverflow?.(v.sink.transport);
        },
      });
      if (viewer.isClosed) return viewer;
      const [, entry] = channelOf(jobId);
      entry.viewers.add(viewer);
      viewerCount += 1;
      deps.onViewers?.(jobId, entry.viewers.size);
      // Subscribe before reading the backlog: nothing published after the read can be missed.
      await entry.subscribed;
      await viewer.catchUp();
      return viewer;
    },
    endLostJobs,
    watchConversation(channel, watcher) {
      let entry = conversations.get(channel);
      if (entry === undefined) {
        entry = { watchers: new Set(), subscribed: subscriber.ssubscribe(channel) };
        conversations.set(channel, entry);
      }
      const current = entry;
      current.watchers.add(watcher);
      return {
        subscribed: current.subscribed,
        stop() {
          if (!current.watchers.delete(watcher) || current.watchers.size > 0 || conversations.get(channel) !== current) return;
          conversations.delete(channel);
          subscriber.sunsubscribe(channel).catch(() => {});
        },
      };
    },
    watchEnd(jobId, watcher) {
      const [channel, entry] = channelOf(jobId);
      entry.watchers.add(watcher);
      return {
        subscribed: entry.subscribed,
        stop() {
          if (entry.watchers.delete(watcher)) release(channel, entry);
        },
      };
    },
    localViewers(jobId) {
      return byChannel.get(store.keys(jobId).channel)?.viewers.size ?? 0;
    },
    viewerCount(transport) {
      if (transport === undefined) return viewerCount;
      let n = 0;
      for (const entry of byChannel.values()) for (const viewer of entry.viewers) if (viewer.sink.transport === transport) n += 1;
      return n;
    },
    bufferedBytes(transport) {
      let total = 0;
      for (const entry of byChannel.values()) {
        for (const viewer of entry.viewers) if (transport === undefined || viewer.sink.transport === transport) total += viewer.bufferedBytes;
      }
      return total;
    },
    close() {
      closing ??= (async () => {
        clearInterval(keepalive);
        for (const entry of [...byChannel.values()]) for (const viewer of [...entry.viewers]) viewer.end();
        for (const conversation of [...conversations.values()]) for (const watcher of [...conversation.watchers]) watcher.onClose();
        await subscriber.quit().catch(() => {});
      })();
      return closing;
    },
  };
}
