import type { JobEventType } from '../shared/events.js';
import type { JobStore, WriteOutcome } from '../shared/job-store.js';

/** Appends one attempt's output to its job, batching by itself. */
export interface EventWriter {
  /** Output text; consecutive pieces become one `delta` event when they wait for the same write. */
  text(piece: string): void;
  /** Extended-thinking text, batched the same way into `thinking` events. */
  thinking(piece: string): void;
  /** Record fields (usage) to set with the next write. */
  fields(values: Readonly<Record<string, string | number>>): void;
  /** Writes whatever is pending and resolves when nothing is in flight; the first refusal, if any. */
  flush(): Promise<WriteOutcome>;
}

/**
 * A self-clocking batcher: with no write in flight a piece is written at once (an idle stream pays no
 * latency); while one is in flight pieces accumulate and go out together when it returns, so the
 * number of round trips follows what Redis can take. Each write is one `append` script call. When the
 * store refuses a write (job ended, or a newer attempt owns it) `onRefused` is called once and later
 * pieces are dropped: the attempt must stop. `windowMs` > 0 (`COALESCE_WINDOW_MS`) also holds the
 * first piece of an idle stream that long, trading latency for fewer, larger writes.
 */
export function createEventWriter(
  store: JobStore,
  jobId: string,
  attempt: number,
  onRefused: (outcome: WriteOutcome) => void,
  windowMs = 0,
): EventWriter {
  // Pending events in order; a piece of the same type as the last one is merged into it.
  let pending: { type: JobEventType; text: string }[] = [];
  let pendingText = '';
  let pendingFields: Record<string, string | number> = {};
  let inFlight: Promise<void> | undefined;
  let refused: WriteOutcome | undefined;

  const take = () => {
    const batch = {
      text: pendingText,
      events: pending.map((e) => ({ type: e.type, data: JSON.stringify({ text: e.text }) })),
      fields: pendingFields,
    };
    pending = [];
    pendingText = '';
    pendingFields = {};
    return batch;
  };
  const hasPending = () => pending.length > 0 || Object.keys(pendingFields).length > 0;

  const pump = async (): Promise<void> => {
    while (hasPending() && refused === undefined) {
      const result = await store.append(jobId, attempt, take());
      if (result !== 'ok') {
        refused = result;
        onRefused(result);
      }
    }
  };
  const kick = () => {
    if (inFlight !== undefined || refused !== undefined) return;
    const run = windowMs > 0 ? new Promise((r) => setTimeout(r, windowMs)).then(pump) : pump();
    inFlight = run.finally(() => {
      inFlight = undefined;
    });
    // Errors (Redis down past its retries) surface through flush(); keep them off the floor here.
    inFlight.catch(() => {});
  };
  const add = (type: 'delta' | 'thinking', piece: string) => {
    if (piece === '' || refused !== undefined) return;
    const last = pending.at(-1);
    if (last?.type === type) last.text += piece;
    else pending.push({ type, text: piece });
    if (type === 'delta') pendingText += piece;
    kick();
  };

  return {
    text: (piece) => add('delta', piece),
    thinking: (piece) => add('thinking', piece),
    fields(values) {
      Object.assign(pendingFields, values);
    },
    async flush() {
      while (refused === undefined && (inFlight !== undefined || hasPending())) {
        if (inFlight === undefined) kick();
        await inFlight;
      }
      return refused ?? 'ok';
    },
  };
}
