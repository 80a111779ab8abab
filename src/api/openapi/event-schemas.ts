/**
 * The zod schemas of a job's events (API.md "the live stream"): each event's `data`, and one event as
 * an SSE client reads it (`id`, `event`, `data` parsed). The union of `src/shared/events.ts` stays what
 * the worker and the relay are written against; the check at the bottom fails `tsc` when an event type
 * or a field differs between them and this file.
 */
import { z } from 'zod';
import type { JobEvent, JobEventType } from '../../shared/events.js';
import type { TurnEventData } from '../../shared/wire.js';
import type { Exact, ReadonlyDeep } from '../request-schema/sdk-parity.js';
import { jobError, usage } from './record-schemas.js';

const index = z.int().min(0);
const attempt = z.int().min(0);
const blockInfo = z.looseObject({ type: z.string() }).describe("the block's type and what the upstream said of it then");

/** Each job event's `data`, by event type. */
export const eventData = {
  status: z.strictObject({ status: z.enum(['queued', 'running']), attempt }),
  delta: z.strictObject({ text: z.string(), index: index.exactOptional() }),
  thinking: z.strictObject({ text: z.string(), index: index.exactOptional() }),
  block_start: z.strictObject({ index, block: blockInfo }),
  tool_input: z.strictObject({ index, partial_json: z.string() }),
  citation: z.strictObject({ index, citation: z.record(z.string(), z.unknown()) }),
  block_delta: z.strictObject({ index, delta: z.record(z.string(), z.unknown()) }),
  block_stop: z.strictObject({ index, block: blockInfo }),
  reset: z.strictObject({ attempt, reason: z.string() }),
  done: z.strictObject({
    status: z.enum(['completed', 'failed', 'cancelled', 'timed_out']),
    stop_reason: z.string().nullable(),
    usage,
    error: jobError.nullable(),
    truncated: z.boolean(),
  }),
} as const;

/** `event: turn` on a conversation's stream: the job of the turn whose events follow. */
export const turnEventData = z.strictObject({ job_id: z.string(), turn: z.int().min(1), previous_job_id: z.string().nullable() });

type EventName = keyof typeof eventData;
const eventNames = Object.keys(eventData) as EventName[];

/** One SSE event of a job's stream as a client parses it: `id` its sequence number, `data` its JSON. */
export const jobStreamEvent = z.discriminatedUnion(
  'event',
  eventNames.map((name) => z.strictObject({ id: z.string().regex(/^[1-9]\d*$/), event: z.literal(name), data: eventData[name] })) as unknown as [
    z.ZodObject,
    ...z.ZodObject[],
  ],
);

const conversationEventId = z.string().regex(/^\d+-\d+$/).describe('<turn>-<seq>');

/** One SSE event of a conversation's stream: a `turn` announcement (id `<turn>-0`) or a turn's job event (id `<turn>-<seq>`). */
export const conversationStreamEvent = z.discriminatedUnion('event', [
  z.strictObject({ id: conversationEventId, event: z.literal('turn'), data: turnEventData }),
  ...eventNames.map((name) => z.strictObject({ id: conversationEventId, event: z.literal(name), data: eventData[name] })),
] as unknown as [z.ZodObject, ...z.ZodObject[]]);

// Every event type of the union has its schema here, none more, and each `data` is exactly its type.
type DataOf<K extends JobEventType> = Extract<JobEvent, { type: K }>['data'];
type Named<T> = { [K in keyof T as string extends K ? never : K]: T[K] };
type SameData = { [K in JobEventType]: Exact<Named<ReadonlyDeep<z.output<(typeof eventData)[K]>>>, Named<ReadonlyDeep<DataOf<K>>>> };
type AllSame = false extends SameData[JobEventType] ? false : true;
const sameAsUnion: [Exact<EventName, JobEventType>, AllSame, Exact<ReadonlyDeep<z.output<typeof turnEventData>>, TurnEventData>] = [
  true,
  true,
  true,
];
void sameAsUnion;
