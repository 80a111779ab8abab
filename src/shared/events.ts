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

/** Token counts as Anthropic reports them (output is cumulative). */
export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
}

/** Data of the terminal `done` event. */
export interface DoneData {
  readonly status: TerminalStatus;
  readonly stop_reason: string | null;
  readonly usage: Usage;
  readonly error: JobError | null;
  readonly truncated: boolean;
}

/** Every event a job's log can hold. `done` is always the last and appears exactly once. */
export type JobEvent =
  | { readonly type: 'status'; readonly data: { readonly status: 'queued' | 'running'; readonly attempt: number } }
  | { readonly type: 'delta'; readonly data: { readonly text: string } }
  | { readonly type: 'thinking'; readonly data: { readonly text: string } }
  | { readonly type: 'reset'; readonly data: { readonly attempt: number; readonly reason: string } }
  | { readonly type: 'done'; readonly data: DoneData };

/** An event type name. */
export type JobEventType = JobEvent['type'];

const eventTypes: ReadonlySet<string> = new Set<JobEventType>(['status', 'delta', 'thinking', 'reset', 'done']);

/** An event with its sequence number in the job's log (1, 2, 3, … without holes). */
export interface SequencedEvent {
  readonly seq: number;
  readonly type: JobEventType;
  /** The event's data as the JSON text stored in the log (serialised once, by the appender). */
  readonly data: string;
}

/** Parses an event's JSON data into the typed union; throws on an unknown type. */
export function decodeEvent(type: string, data: string): JobEvent {
  if (!eventTypes.has(type)) throw new Error(`unknown event type ${JSON.stringify(type)}`);
  return { type, data: JSON.parse(data) } as JobEvent;
}

/** The channel payload: `<seq> <type> <data>` (type never holds a space, data is one-line JSON). */
export function encodeWire(seq: number, type: JobEventType, data: string): string {
  return `${seq} ${type} ${data}`;
}

/** Inverse of {@link encodeWire}; `undefined` for a payload that is not an event. */
export function decodeWire(payload: string): SequencedEvent | undefined {
  const a = payload.indexOf(' ');
  const b = a < 0 ? -1 : payload.indexOf(' ', a + 1);
  if (b < 0) return undefined;
  const seq = Number(payload.slice(0, a));
  const type = payload.slice(a + 1, b);
  if (!Number.isSafeInteger(seq) || seq < 1 || !eventTypes.has(type)) return undefined;
  return { seq, type: type as JobEventType, data: payload.slice(b + 1) };
}

/** One SSE frame for an event. JSON data never holds a raw newline, so one `data:` line suffices. */
export function sseFrame(event: SequencedEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${event.data}\n\n`;
}
