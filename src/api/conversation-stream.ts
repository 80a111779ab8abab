import type { ServerResponse } from 'node:http';
import { isTerminal, type SequencedEvent } from '../shared/events.js';
import type { JobStore } from '../shared/job-store.js';
import { conversationKeys } from '../shared/keys.js';
import type { EventHub } from './event-hub.js';
import type { SseViewer } from './sse-viewer.js';

/** A position in a conversation's stream: everything up to event `seq` of turn `turn` was sent. */
export interface ConversationCursor {
  readonly turn: number;
  /** 0: the turn's `turn` event (and nothing of its job). */
  readonly seq: number;
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

/** The SSE frame of a job's event inside a conversation's stream: its id is `<turn>-<seq>`. */
export function turnFrame(turn: number): (event: SequencedEvent) => Buffer {
  return (event) => Buffer.from(`id: ${turn}-${event.seq}\nevent: ${event.type}\ndata: ${event.data}\n\n`);
}

/**
 * Streams a conversation (API.md §4.2) into `res`, whose head is written: each turn's `turn` event
 * (`id: <turn>-0`, `{job_id, turn, previous_job_id}`), then that turn's job events with ids
 * `<turn>-<seq>`, through the hub like any job viewer (replay from the log, then live, no gap, no
 * duplicate), then the next turn, and so on. After the last turn's `done` it stays open: the next turn
 * is announced on the conversation's channel (and, should that be missed, found on a keep-alive tick).
 * Resolves once the first turn is attached or awaited.
 */
export async function streamConversation(
  deps: ConversationStreamDeps,
  conversationId: string,
  res: ServerResponse,
  from: ConversationCursor,
): Promise<void> {
  const { hub, store } = deps;
  const channel = conversationKeys(deps.keyPrefix, conversationId).channel;
  let turns: Turns | undefined;
  // The turn the stream waits for (no job yet), or undefined while one is attached.
  let waiting: number | undefined;
  let viewer: SseViewer | undefined;
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
    watch.stop();
    viewer?.end();
    res.end();
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
      res.write(`id: ${turn}-0\nevent: turn\ndata: ${JSON.stringify({ job_id: jobId, turn, previous_job_id: previous })}\n\n`);
    }
    let finished = false;
    const attached: SseViewer = await hub.attach(jobId, res, seq, {
      encode: turnFrame(turn),
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
      if (waiting !== undefined && !closed) res.write(': keepalive\n\n');
      void poll().catch(() => end());
    },
    onClose: end,
  });
  res.once('close', () => {
    closed = true;
    watch.stop();
  });
  // Subscribed before the first read: a turn created after it is announced to this stream.
  await watch.subscribed;
  turns = await read();
  if (turns === undefined) return end();
  await follow(Math.max(from.turn, turns.firstTurn), from.turn < turns.firstTurn ? 0 : from.seq);
}
