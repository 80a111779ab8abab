import { sseFrame, type SequencedEvent } from '../../shared/events.js';
import type { Transport } from './sink.js';

/**
 * How one kind of viewer frames an event. `key` names the framing: every viewer with the same key
 * gets the same bytes, so the hub frames each live event once per key and writes that one buffer to
 * all of them.
 */
export interface EventEncoder {
  readonly key: string;
  readonly transport: Transport;
  encode(event: SequencedEvent): Buffer;
}

/** A job's own SSE stream: `id: <seq>`. */
export const sseJobEncoder: EventEncoder = {
  key: 'sse',
  transport: 'sse',
  encode: (event) => Buffer.from(sseFrame(event)),
};

/** A conversation's SSE stream, turn `turn`: `id: <turn>-<seq>`. */
export function sseTurnEncoder(turn: number): EventEncoder {
  return {
    key: `sse:turn:${turn}`,
    transport: 'sse',
    encode: (event) => Buffer.from(`id: ${turn}-${event.seq}\nevent: ${event.type}\ndata: ${event.data}\n\n`),
  };
}
