import type { JobEventType } from '../shared/events.js';
import type { AppendBatch, JobStore, WriteId, WriteOutcome } from '../shared/job-store.js';
import { retryRefused, type AttemptWrites, type RetryLimits } from './store-retry.js';
import type { TranslationSink } from './translate-stream.js';
import { createWriteClock, type WriteClock } from './write-clock.js';

/** Why the writer stopped taking pieces: the store refused the attempt, or Redis refused every try. */
export type WriterStop = Exclude<WriteOutcome, 'ok' | 'not_due'> | 'unavailable';

/**
 * Appends one attempt's output to its job, batching by itself. It is the translator's sink
 * ({@link TranslationSink}): string pieces (text, thinking, tool input) of the same block and kind that
 * wait for the same write become one event; whole events go out as they came, in order.
 */
export interface EventWriter extends TranslationSink {
  /**
   * Writes whatever is pending and resolves when nothing is in flight: `ok`, or why it stopped. After
   * an `unavailable` stop it tries the held batch again first (with a fresh budget).
   */
  flush(): Promise<'ok' | WriterStop>;
  /**
   * After an `unavailable` stop: everything not written (the held batch and what queued behind it) as
   * one batch, handed over to be written with the attempt's ending; the writer keeps nothing.
   */
  unwritten(): AppendBatch | undefined;
}

/** Options of {@link createEventWriter}. */
export interface EventWriterOptions {
  readonly store: JobStore;
  readonly jobId: string;
  /** The attempt's write ids (shared with the attempt's other writes). */
  readonly writes: AttemptWrites;
  /**
   * Called when the writer stops (refused; Redis unavailable past `retry.budgetMs`, or abandoned at
   * shutdown): the attempt must stop.
   */
  readonly onStop: (why: WriterStop, error?: unknown) => void;
  /** How long a batch Redis refuses is retried before the attempt gives up, and what stops that early. */
  readonly retry: RetryLimits;
  /** `COALESCE_WINDOW_MS` > 0 also holds the first piece of an idle stream up to that long. Default 0. */
  readonly windowMs?: number;
  /** The worker's shared window clock, so that jobs' windows close together (default: one per writer). */
  readonly clock?: WriteClock;
}

/**
 * A self-clocking batcher: with no write in flight a piece is written at once (an idle stream pays no
 * latency); while one is in flight pieces accumulate and go out together when it returns, so the
 * number of round trips follows what Redis can take. Each write is one `append` script call with its
 * own write id. A batch, once taken, is never dropped: a write Redis refuses is sent again, the same
 * batch under the same id, until it lands; after `retry.budgetMs` of refusals (or at once when
 * `retry.signal` aborts) the writer stops (`unavailable`) and holds the batch, which the next `flush()` tries first (an attempt that is ending
 * anyway, cancelled or timed out, keeps its last text that way). When the store refuses the attempt
 * (job ended, or a newer attempt owns it) the writer stops for good. Either way `onStop` is called and
 * pieces that come while stopped are dropped: the attempt is stopping.
 */
export function createEventWriter(options: EventWriterOptions): EventWriter {
  const { store, jobId, writes } = options;
  const windowMs = options.windowMs ?? 0;
  const clock = options.clock ?? createWriteClock();
  // Pending events in order: a string piece of the same kind and block as the last one is merged into
  // it; whole events (already JSON) stay as they came.
  let pending: Pending[] = [];
  let pendingText = '';
  let pendingFields: Record<string, string | number> = {};
  // Whether pendingFields has any (checked once per write; Object.keys would allocate each time).
  let hasFields = false;
  let inFlight: Promise<void> | undefined;
  let stopped: WriterStop | undefined;
  // The batch Redis refused past the budget, with its id: written first when the writer goes on.
  let held: { id: WriteId; batch: AppendBatch } | undefined;

  const take = (): AppendBatch => {
    const batch = { text: pendingText, events: pending.map(encode), fields: pendingFields };
    pending = [];
    pendingText = '';
    pendingFields = {};
    hasFields = false;
    return batch;
  };
  const hasPending = () => pending.length > 0 || hasFields;
  const stop = (why: WriterStop, error?: unknown) => {
    stopped = why;
    options.onStop(why, error);
  };

  const write = async (id: WriteId, batch: AppendBatch): Promise<void> => {
    let result: WriteOutcome;
    try {
      result = await retryRefused(() => store.append(jobId, id, batch), options.retry);
    } catch (err) {
      held = { id, batch };
      stop('unavailable', err);
      return;
    }
    if (result !== 'ok' && result !== 'not_due') stop(result);
  };
  const pump = async (): Promise<void> => {
    if (held !== undefined) {
      const { id, batch } = held;
      held = undefined;
      await write(id, batch);
    }
    while (hasPending() && stopped === undefined) await write(writes.next(), take());
  };
  const kick = () => {
    if (inFlight !== undefined || stopped !== undefined) return;
    const run = windowMs > 0 ? clock.after(windowMs).then(pump) : pump();
    inFlight = run.finally(() => {
      inFlight = undefined;
    });
  };
  const add = (kind: PieceKind, index: number, piece: string) => {
    if (piece === '' || stopped !== undefined) return;
    const last = pending.at(-1);
    if (last !== undefined && last.kind === kind && last.index === index) last.text += piece;
    else pending.push({ kind, index, text: piece });
    if (kind === 'delta') pendingText += piece;
    kick();
  };

  return {
    text: (index, piece) => add('delta', index, piece),
    thinking: (index, piece) => add('thinking', index, piece),
    toolInput: (index, piece) => add('tool_input', index, piece),
    event(type, data) {
      if (stopped !== undefined) return;
      pending.push({ kind: 'event', type, data });
      kick();
    },
    fields(values) {
      for (const name in values) {
        pendingFields[name] = values[name] as string | number;
        hasFields = true;
      }
    },
    async flush() {
      if (stopped === 'unavailable') stopped = undefined;
      while (stopped === undefined && (inFlight !== undefined || hasPending() || held !== undefined)) {
        if (inFlight === undefined) kick();
        await inFlight;
      }
      return stopped ?? 'ok';
    },
    unwritten() {
      if (stopped !== 'unavailable' || inFlight !== undefined) return undefined;
      const rest = take();
      const first = held?.batch;
      held = undefined;
      if (first === undefined) return rest.events.length > 0 || Object.keys(rest.fields).length > 0 ? rest : undefined;
      return { text: first.text + rest.text, events: [...first.events, ...rest.events], fields: { ...first.fields, ...rest.fields } };
    },
  };
}

/** The string pieces the writer merges, by the event type they become. */
type PieceKind = 'delta' | 'thinking' | 'tool_input';

/** One pending event: a piece being merged, or a whole event. */
type Pending =
  | { readonly kind: PieceKind; readonly index: number; text: string }
  | { readonly kind: 'event'; readonly type: JobEventType; readonly data: string };

/** The event a pending entry becomes, its data serialised once here. */
function encode(p: Pending): { type: JobEventType; data: string } {
  switch (p.kind) {
    case 'event':
      return { type: p.type, data: p.data };
    case 'tool_input':
      return { type: 'tool_input', data: `{"index":${p.index},"partial_json":${JSON.stringify(p.text)}}` };
    default:
      return { type: p.kind, data: `{"text":${JSON.stringify(p.text)},"index":${p.index}}` };
  }
}
