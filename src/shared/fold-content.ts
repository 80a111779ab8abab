import { isToolContent, type ContentBlockView } from './content.js';

/** A parsed event as the fold takes it: its type and its data (the JSON of the log, parsed). */
export interface FoldEvent {
  readonly type: string;
  readonly data: unknown;
}

/** Builds the assistant message's content blocks from a job's events, one event at a time. */
export interface ContentFold {
  /** Applies one event; events of types the fold does not use (status, done, unknown types) are ignored. */
  apply(event: FoldEvent): void;
  /** The content so far: the final attempt's blocks in order, unfinished ones marked `incomplete`. */
  content(): ContentBlockView[];
}

type Mutable = Record<string, unknown> & { type: string };

interface Slot {
  readonly block: Mutable;
  /** Raw input JSON of a tool block, as streamed. */
  json: string;
  done: boolean;
}

const record = (value: unknown): Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const indexOf = (data: Record<string, unknown>): number | undefined =>
  typeof data['index'] === 'number' && Number.isSafeInteger(data['index']) ? data['index'] : undefined;

/**
 * The one fold from events to content (API.md §4.1), used by the record, the client library and the
 * pages, so they cannot disagree. `reset` starts over (a new attempt). A tool's input is taken from its
 * `block_stop` (parsed by the worker with a strict `JSON.parse`); until then the block holds only the
 * raw `partial_json`. Events written before content blocks existed (`delta`/`thinking` without an
 * index) make one text and one thinking block, in the order they first appear, finished by `done`.
 */
export function createContentFold(): ContentFold {
  let slots = new Map<number, Slot>();
  let order: Slot[] = [];
  // Blocks of index-less (older) events: keyed apart from real indexes.
  const legacy = { text: -1, thinking: -2 } as const;

  const open = (index: number, block: Mutable): Slot => {
    const slot: Slot = { block, json: '', done: false };
    const previous = slots.get(index);
    if (previous !== undefined) order = order.filter((s) => s !== previous);
    slots.set(index, slot);
    order.push(slot);
    return slot;
  };
  const slotFor = (data: Record<string, unknown>, kind: 'text' | 'thinking'): Slot => {
    const index = indexOf(data) ?? legacy[kind];
    return (
      slots.get(index) ??
      open(index, kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' })
    );
  };

  return {
    apply({ type, data: raw }) {
      const data = record(raw);
      switch (type) {
        case 'reset':
          slots = new Map();
          order = [];
          return;
        case 'block_start': {
          const index = indexOf(data);
          if (index === undefined) return;
          const block = { ...record(data['block']) } as Mutable;
          if (typeof block.type !== 'string') return;
          open(index, block);
          return;
        }
        case 'delta': {
          const block = slotFor(data, 'text').block;
          block['text'] = `${typeof block['text'] === 'string' ? block['text'] : ''}${String(data['text'] ?? '')}`;
          return;
        }
        case 'thinking': {
          const block = slotFor(data, 'thinking').block;
          block['thinking'] = `${typeof block['thinking'] === 'string' ? block['thinking'] : ''}${String(data['text'] ?? '')}`;
          return;
        }
        case 'tool_input': {
          const slot = slots.get(indexOf(data) ?? -3);
          if (slot !== undefined) slot.json += String(data['partial_json'] ?? '');
          return;
        }
        case 'citation':
          appendTo(slots.get(indexOf(data) ?? -3), 'citations', data['citation']);
          return;
        case 'block_delta':
          appendTo(slots.get(indexOf(data) ?? -3), 'deltas', data['delta']);
          return;
        case 'block_stop': {
          const slot = slots.get(indexOf(data) ?? -3);
          if (slot === undefined) return;
          // What the stop adds: a thinking block's signature, a tool's parsed input (or why it has none).
          const { type: _type, ...finished } = record(data['block']);
          Object.assign(slot.block, finished);
          slot.done = true;
          return;
        }
        case 'done':
          // Index-less blocks never get a block_stop: the job's end finishes them.
          for (const [index, slot] of slots) if (index < 0) slot.done = true;
          return;
        default:
          return;
      }
    },
    content() {
      return order.map(({ block, json, done }) => {
        const view: Record<string, unknown> = { ...block };
        if (isToolContent(block as ContentBlockView)) {
          delete view['input'];
          if (done && !('input_error' in block)) view['input'] = block['input'];
          else view['partial_json'] = json;
        }
        if (!done || 'input_error' in block) view['incomplete'] = true;
        return view as ContentBlockView;
      });
    },
  };
}

/** Adds `value` to the list `key` of a slot's block (citations on a text block, unknown deltas). */
function appendTo(slot: Slot | undefined, key: string, value: unknown): void {
  if (slot === undefined) return;
  const list = Array.isArray(slot.block[key]) ? (slot.block[key] as unknown[]) : [];
  slot.block[key] = [...list, value];
}

/** Folds a whole sequence of events (see {@link createContentFold}). */
export function foldContent(events: Iterable<FoldEvent>): ContentBlockView[] {
  const fold = createContentFold();
  for (const event of events) fold.apply(event);
  return fold.content();
}
