/**
 * The job event union, shared by the worker that appends events and the API that relays them, with
 * its one encoding for the log and the channel and its one SSE framing.
 */

/** Statuses a job can have; the last four are terminal. */
export const jobStatuses = ['queued', 'running', 'completed', 'failed', 'cancelled', 'timed_out'] as const;
/** A job's status. */
export type JobStatus = (typeof jobStatuses)[number];
/** A status a job reaches once and never leaves. */
export type TerminalStatus = Exclude<JobStatus, 'queued' | 'running'>;
/** Whether `status` is terminal. */
export function isTerminal(status: string): status is TerminalStatus {
  return status === 'completed' || status === 'failed' || status === 'cancelled' || status === 'timed_out';
}

/** `{type, message}` stored when a job fails, is cancelled or times out. */
export interface JobError {
  readonly type: string;
  readonly message: string;
}

/**
 * Token counts as the upstream reports them: `input_tokens` and `output_tokens` always, and every other
 * counter it sent (cache creation and reads, server tool uses, service tier…) as it sent it.
 */
export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cache_creation_input_tokens?: number | null;
  readonly cache_read_input_tokens?: number | null;
  readonly server_tool_use?: { readonly web_search_requests?: number; readonly web_fetch_requests?: number } | null;
  readonly [counter: string]: unknown;
}

/** Data of the terminal `done` event. */
export interface DoneData {
  readonly status: TerminalStatus;
  readonly stop_reason: string | null;
  readonly usage: Usage;
  readonly error: JobError | null;
  readonly truncated: boolean;
}

/**
 * A content block as it opens (`block_start`) or closes (`block_stop`): its `type` and what the upstream
 * said of it then. A tool's opening block has `id` and `name` (its input comes as `tool_input`); a
 * block that arrives whole (redacted thinking, server tool results, types this version does not know)
 * opens complete.
 */
export interface BlockInfo {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** Every event a job's log can hold. `done` is always the last and appears exactly once. */
export type JobEvent =
  | { readonly type: 'status'; readonly data: { readonly status: 'queued' | 'running'; readonly attempt: number } }
  /** Text of the text block at `index` (absent in logs written before content blocks: block 0). */
  | { readonly type: 'delta'; readonly data: { readonly text: string; readonly index?: number } }
  /** Thinking text of the thinking block at `index`. */
  | { readonly type: 'thinking'; readonly data: { readonly text: string; readonly index?: number } }
  | { readonly type: 'block_start'; readonly data: { readonly index: number; readonly block: BlockInfo } }
  /** A piece of a tool block's input JSON, as the upstream streamed it (only the whole of them parses). */
  | { readonly type: 'tool_input'; readonly data: { readonly index: number; readonly partial_json: string } }
  /** A citation added to the text block at `index`. */
  | { readonly type: 'citation'; readonly data: { readonly index: number; readonly citation: Readonly<Record<string, unknown>> } }
  /** A delta of a kind this version does not know, kept as the upstream sent it. */
  | { readonly type: 'block_delta'; readonly data: { readonly index: number; readonly delta: Readonly<Record<string, unknown>> } }
  /**
   * The block at `index` is finished: a thinking block's `signature`, a tool's parsed `input` (or
   * `input_error` when the JSON it streamed does not parse). Text already streamed is not repeated.
   */
  | { readonly type: 'block_stop'; readonly data: { readonly index: number; readonly block: BlockInfo } }
  | { readonly type: 'reset'; readonly data: { readonly attempt: number; readonly reason: string } }
  | { readonly type: 'done'; readonly data: DoneData };

/** An event type name. */
export type JobEventType = JobEvent['type'];

/** The event types this version writes and understands. */
export const knownEventTypes: ReadonlySet<string> = new Set<JobEventType>([
  'status', 'delta', 'thinking', 'block_start', 'tool_input', 'citation', 'block_delta', 'block_stop', 'reset', 'done',
]);

/**
 * Whether `type` can be an event type at all: a lower-case word. An event of a type this version does
 * not know (a newer worker wrote it during a rolling upgrade) is relayed as it is, never dropped.
 */
export function isEventTypeName(type: string): boolean {
  return /^[a-z][a-z0-9_]{0,39}$/.test(type);
}

/** An event with its sequence number in the job's log (1, 2, 3, … without holes). */
export interface SequencedEvent {
  readonly seq: number;
  readonly type: JobEventType;
  /** The event's data as the JSON text stored in the log (serialised once, by the appender). */
  readonly data: string;
}

/** Parses an event's JSON data into the typed union; throws on a type this version does not know. */
export function decodeEvent(type: string, data: string): JobEvent {
  if (!knownEventTypes.has(type)) throw new Error(`unknown event type ${JSON.stringify(type)}`);
  return { type, data: JSON.parse(data) } as JobEvent;
}

/** The channel payload: `<seq> <type> <data>` (type never holds a space, data is one-line JSON). */
export function encodeWire(seq: number, type: JobEventType, data: string): string {
  return `${seq} ${type} ${data}`;
}

/** Inverse of {@link encodeWire}; `undefined` for a payload that is not an event (any type name passes). */
export function decodeWire(payload: string): SequencedEvent | undefined {
  const a = payload.indexOf(' ');
  const b = a < 0 ? -1 : payload.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const seq = Number(payload.slice(0, a));
  const type = payload.slice(a + 1, b);
  if (!Number.isSafeInteger(seq) || seq < 1 || !isEventTypeName(type)) return undefined;
  return { seq, type: type as JobEventType, data: payload.slice(b + 1) };
}

/** One SSE frame for an event. JSON data never holds a raw newline, so one `data:` line suffices. */
export function sseFrame(event: SequencedEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${event.data}\n\n`;
}
