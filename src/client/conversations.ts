import { knownEventTypes } from '../shared/events.js';
import type { JobEvent, TurnEventData } from '../shared/wire.js';
import type { FollowOptions } from './follow.js';
import { resumable } from './follow.js';
import type { HttpContext } from './http.js';

/**
 * An event of a conversation's stream: a `turn` announcing the next turn's job, or an event of that
 * job, with its id `<turn>-<seq>` split into `turn` and `seq` (0 for the `turn` event).
 */
export type ConversationEvent = (JobEvent | { readonly type: 'turn'; readonly data: TurnEventData }) & {
  readonly id: string;
  readonly turn: number;
  readonly seq: number;
};

/** Options of `conversations.follow`: `after` is a conversation cursor, `<turn>-<seq>`. */
export type ConversationFollowOptions = Omit<FollowOptions, 'after'> & { readonly after?: string };

/**
 * A conversation's events, turn after turn, resuming by itself as `jobs.follow` does. The stream stays
 * open for the next turn: the iteration goes on until `signal` aborts it (or the conversation expires).
 */
export function followConversation(ctx: HttpContext, conversationId: string, options: ConversationFollowOptions = {}): AsyncGenerator<ConversationEvent, void, undefined> {
  return resumable<ConversationEvent>(ctx, `v1/conversations/${encodeURIComponent(conversationId)}/events`, options, {
    after: options.after,
    event(id, type, data) {
      const match = /^(\d+)-(\d+)$/.exec(id);
      if (match === null) return undefined;
      return { id, turn: Number(match[1]), seq: Number(match[2]), type, data } as ConversationEvent;
    },
    order: (event) => [event.turn, event.seq],
    known: (event) => event.type === 'turn' || knownEventTypes.has(event.type),
    ends: () => false,
  });
}
