import { AppError } from '../shared/errors.js';
import { isTerminal } from '../shared/events.js';
import type { JobStore, StoredConversation } from '../shared/job-store.js';
import { conversationKeys } from '../shared/keys.js';
import type { TurnEventData } from '../shared/wire.js';
import type { EventHub } from './event-hub.js';
import { sseTurnEncoder, type EventEncoder } from './relay/encoder.js';
import type { ViewerSink } from './relay/sink.js';
import type { RelayViewer } from './relay/viewer.js';

/** How a transport frames a conversation's stream. */
export interface ConversationFraming {
  /** The framing of turn `turn`'s job events (its job is `jobId`). */
  turn(turn: number, jobId: string): EventEncoder;
  /** The frame that announces a turn (id `<turn>-0`). */
  announce(data: TurnEventData): Buffer;
}

/** A conversation's SSE stream: ids `<turn>-<seq>`, `event: turn` before each turn. */
export const sseConversationFraming: ConversationFraming = {
  turn: (turn) => sseTurnEncoder(turn),
  announce: (data) => Buffer.from(`id: ${data.turn}-0\nevent: turn\ndata: ${JSON.stringify(data)}\n\n`),
};

/** A position in a conversation's stream: everything up to event `seq` of turn `turn` was sent. */
export interface ConversationCursor {
  readonly turn: number;
  /** 0: the turn's `turn` event (and nothing of its job). */
  readonly seq: number;
}

/**
 * Why a conversation cursor cannot be served (a 400 naming `path`), or undefined when it can: a turn
 * past the conversation's last, or a seq past a running turn's last event.
 */
export async function conversationCursorIssue(
  store: JobStore,
  stored: StoredConversation,
  cursor: ConversationCursor,
  path: string,
): Promise<AppError | undefined> {
  const firstTurn = Number(stored.meta['first_turn'] ?? 1);
  const jobId = stored.turns[cursor.turn - firstTurn];
  if (cursor.turn > firstTurn + stored.turns.length || (jobId === undefined && cursor.seq > 0 && cursor.turn >= firstTurn)) {
    return new AppError('validation_failed', `The cursor's turn ${cursor.turn} does not exist yet.`, {
      details: [{ path, message: `names a turn past the conversation's last, ${firstTurn + stored.turns.length - 1}` }],
    });
  }
  if (jobId === undefined || cursor.seq === 0) return undefined;
  const progress = await store.progress(jobId);
  if (progress !== undefined && !isTerminal(progress.status) && cursor.seq > progress.seq) {
    return new AppError('validation_failed', `The cursor is past turn ${cursor.turn}'s last event (${progress.seq}).`, {
      details: [{ path, message: `is past turn ${cursor.turn}'s last event, ${progress.seq}` }],
    });
  }
  return undefined;
}

/** Dependencies of {@link streamConversation}. */
export interface ConversationStreamDeps {
  readonly hub: EventHub;
  readonly store: JobStore;
  readonly keyPrefix: string;
}

/** A conversation as the stream needs it. */
interface Turns {
  readonly firstTurn: number;
  readonly jobs: readonly string[];
  readonly forkedFrom: string | null;
}

/**
 * Streams a conversation (API.md §4.2) into `sink` (an SSE response whose head is written, or a
 * socket's subscription), framed by `framing`: each turn's `turn` event
 * (`id: <turn>-0`, `{job_id, turn, previous_job_id}`), then that turn's job events with ids
 * `<turn>-<seq>`, through the hub like any job viewer (replay from the log, then live, no gap, no
 * duplicate), then the next turn, and so on. After the last turn's `done` it stays open: the next turn
 * is announced on the conversation's channel (and, should that be missed, found on a keep-alive tick).
 * Resolves once the first turn is attached or awaited.
 */
export async function streamConversation(
  deps: ConversationStreamDeps,
  conversationId: string,
  sink: ViewerSink,
  from: ConversationCursor,
  framing: ConversationFraming = sseConversationFraming,
): Promise<void> {
  const { hub, store } = deps;
  const channel = conversationKeys(deps.keyPrefix, conversationId).channel;
  let turns: Turns | undefined;
  // The turn the stream waits for (no job yet), or undefined while one is attached.
  let waiting: number | undefined;
  let viewer: RelayViewer | undefined;
  let closed = false;
  let polling = false;

  const read = async (): Promise<Turns | undefined> => {
    const stored = await store.readConversation(conversationId);
    if (stored === undefined) return undefined;
    return { firstTurn: Number(stored.meta['first_turn'] ?? 1), jobs: stored.turns, forkedFrom: stored.meta['forked_from'] ?? null };
  };
  const end = () => {
    if (closed) return;
    closed = true;
    stopWatching();
    watch.stop();
    viewer?.end();
    sink.end();
  };

  const follow = async (turn: number, seq: number): Promise<void> => {
    if (closed || turns === undefined) return;
    const jobId = turns.jobs[turn - turns.firstTurn];
    if (jobId === undefined) {
      waiting = turn;
      return;
    }
    const progress = await store.progress(jobId);
    // The conversation expired under the stream: end it (a reconnect gets the 404).
    if (progress === undefined) return end();
    if (isTerminal(progress.status) && seq >= progress.seq && seq > 0) return follow(turn + 1, 0);
    if (seq === 0) {
      const previous = turn === turns.firstTurn ? turns.forkedFrom : (turns.jobs[turn - turns.firstTurn - 1] ?? null);
      sink.write(framing.announce({ job_id: jobId, turn, previous_job_id: previous }));
    }
    let finished = false;
    const attached: RelayViewer = await hub.attach(jobId, sink, seq, {
      encoder: framing.turn(turn, jobId),
      onDone: () => {
        // `viewer` is this turn's viewer only once the attach returned (below).
        finished = true;
        viewer = undefined;
        void follow(turn + 1, 0).catch(() => end());
      },
    });
    // `done` may have come during the attach's replay: the next turn is already being followed.
    if (!finished) viewer = attached;
  };
  // A turn was announced (or may have been): look for the one the stream waits for.
  const poll = async () => {
    if (closed || waiting === undefined || polling) return;
    polling = true;
    try {
      const next = await read();
      if (next === undefined) return end();
      turns = next;
      const turn = waiting;
      if (turn - next.firstTurn < next.jobs.length) {
        waiting = undefined;
        await follow(turn, 0);
      }
    } finally {
      polling = false;
    }
  };

  const watch = hub.watchConversation(channel, {
    onTurn: () => void poll().catch(() => end()),
    onTick: () => {
      if (waiting !== undefined && !closed) sink.keepalive();
      void poll().catch(() => end());
    },
    onClose: end,
  });
  const stopWatching = sink.onClose(() => {
    closed = true;
    watch.stop();
  });
  // Subscribed before the first read: a turn created after it is announced to this stream.
  await watch.subscribed;
  turns = await read();
  if (turns === undefined) return end();
  await follow(Math.max(from.turn, turns.firstTurn), from.turn < turns.firstTurn ? 0 : from.seq);
}
