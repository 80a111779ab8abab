import { Cluster } from 'ioredis';
import type { Logger } from '../../shared/logger.js';
import type { RedisClient } from '../../shared/redis.js';

/** Something in this process that follows a sharded pub/sub channel. */
export interface Room {
  /** A message on the channel. */
  onMessage(payload: string): void;
  /** The subscriber came back after a reconnect: what was published meanwhile is lost, look again. */
  onResubscribed(): void;
}

/** The rooms of one subscriber connection, one subscription per channel however many rooms. */
export interface ChannelRooms {
  /** Puts `room` on `channel` (subscribing on first use); `subscribed` resolves once nothing published from then on can be missed. */
  join(channel: string, room: Room): { readonly subscribed: Promise<unknown>; leave(): void };
  /**
   * Called after a reconnect, once every channel is subscribed again and before the rooms are told
   * (the hub ends the viewers of jobs Redis lost first).
   */
  beforeResubscribed(check: () => Promise<unknown>): void;
}

/**
 * The subscriber's channels: a `Set` of rooms per channel, SSUBSCRIBE on the first, SUNSUBSCRIBE after
 * the last. After a reconnect ioredis subscribes again by itself, but what was published while it was
 * away is lost: every channel is subscribed again explicitly (the reply proves it is live), then every
 * room is told. One Redis says it reconnected with `ready`; a Cluster replaces a shard's subscriber
 * that went away (a failover, a reshard, a dropped connection) and then says `subscribersReady`, and
 * its channels can only be subscribed one slot at a time.
 */
export function createChannelRooms(subscriber: RedisClient, logger: Logger): ChannelRooms {
  const channels = new Map<string, { readonly rooms: Set<Room>; readonly subscribed: Promise<unknown> }>();
  let check: () => Promise<unknown> = async () => {};
  let connectedOnce = subscriber.status === 'ready';

  subscriber.on('smessage', (channel: string, payload: string) => {
    const entry = channels.get(channel);
    if (entry === undefined) return;
    for (const room of entry.rooms) room.onMessage(payload);
  });

  const cluster = subscriber instanceof Cluster;
  const resubscribe = (list: string[]) => (cluster ? Promise.all(list.map((c) => subscriber.ssubscribe(c))) : subscriber.ssubscribe(...list));
  subscriber.on(cluster ? 'subscribersReady' : 'ready', () => {
    if (!connectedOnce && !cluster) {
      connectedOnce = true;
      return;
    }
    const entries = [...channels.entries()];
    if (entries.length === 0) return;
    logger.info({ channels: entries.length }, 'subscriber reconnected: viewers catch up from the log');
    void resubscribe(entries.map(([channel]) => channel))
      .then(() => check())
      .then(() => {
        for (const [, entry] of entries) for (const room of [...entry.rooms]) room.onResubscribed();
      })
      .catch((err: unknown) => logger.warn({ err }, 're-subscribe failed'));
  });

  return {
    join(channel, room) {
      let entry = channels.get(channel);
      if (entry === undefined) {
        entry = { rooms: new Set(), subscribed: subscriber.ssubscribe(channel) };
        channels.set(channel, entry);
      }
      const current = entry;
      current.rooms.add(room);
      return {
        subscribed: current.subscribed,
        leave() {
          if (!current.rooms.delete(room) || current.rooms.size > 0 || channels.get(channel) !== current) return;
          channels.delete(channel);
          subscriber.sunsubscribe(channel).catch(() => {});
        },
      };
    },
    beforeResubscribed(fn) {
      check = fn;
    },
  };
}
