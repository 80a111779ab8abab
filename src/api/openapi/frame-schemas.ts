/**
 * The zod schemas of the socket's server frames (API.md "The WebSocket"), for the OpenAPI document.
 * The client's frames are `clientFrame` of `../ws/protocol.ts`, the schema that parses them. The
 * replies `../ws/frames.ts` builds are typed by {@link ServerReply}, so a reply that this file does not
 * describe fails `tsc`; the event frames are the SSE events with `job` (and `conversation`, `turn`).
 */
import { z } from 'zod';
import type { ReadonlyDeep } from '../request-schema/sdk-parity.js';
import { eventData, turnEventData } from './event-schemas.js';
import { jobStatus, jobSubmission, problem } from './record-schemas.js';

const requestId = z.union([z.string().min(1).max(64), z.int().min(0)]).describe('the id the client gave its request');
const seq = z.int().min(0);

/** Every reply and notice the server sends but event frames. */
export const serverReply = z.union([
  z.strictObject({ type: z.literal('ready'), access: z.enum(['key', 'viewer', 'open']) }),
  z.strictObject({
    type: z.literal('subscribed'),
    id: requestId,
    job: z.string(),
    status: jobStatus,
    open_blocks: z.array(z.strictObject({ index: z.int().min(0), block: eventData.block_start.shape.block })),
  }),
  z.strictObject({ type: z.literal('subscribed'), id: requestId, conversation: z.string() }),
  z.strictObject({ type: z.literal('complete'), id: requestId }),
  z.strictObject({ type: z.literal('created'), id: requestId, job: jobSubmission }),
  z.strictObject({ type: z.literal('cancelled'), id: requestId, job: z.string(), outcome: z.enum(['cancelled', 'requested', 'already_ended']) }),
  z.strictObject({ type: z.literal('pong'), id: requestId.exactOptional() }),
  z.strictObject({ type: z.literal('error'), id: requestId.exactOptional(), problem }),
]);

/** A reply as `../ws/frames.ts` builds it. */
export type ServerReply = ReadonlyDeep<z.input<typeof serverReply>>;

const names = Object.keys(eventData) as (keyof typeof eventData)[];
type Members = [z.ZodObject, ...z.ZodObject[]];

/** An event of a followed job: `event` and `data` as on SSE, `seq` its id. */
export const jobEventFrame = z.union(
  names.map((name) => z.strictObject({ type: z.literal('event'), job: z.string(), seq: seq.min(1), event: z.literal(name), data: eventData[name] })) as unknown as Members,
);

/** An event of a followed conversation: a turn's job event, or its `turn` announcement (`seq` 0). */
export const conversationEventFrame = z.union([
  z.strictObject({ type: z.literal('event'), conversation: z.string(), turn: z.int().min(1), job: z.string(), seq: z.literal(0), event: z.literal('turn'), data: turnEventData }),
  ...names.map((name) =>
    z.strictObject({ type: z.literal('event'), conversation: z.string(), turn: z.int().min(1), job: z.string(), seq: seq.min(1), event: z.literal(name), data: eventData[name] }),
  ),
] as unknown as Members);

/** Every frame the server sends. */
export const serverFrame = z.union([serverReply, jobEventFrame, conversationEventFrame]);
