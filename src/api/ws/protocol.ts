import { z } from 'zod';

/**
 * The socket's protocol (API.md "The WebSocket"): JSON text frames. Every request carries a
 * client-chosen `id`, echoed in its replies. Close codes beside RFC 6455's: 4401 no or bad credentials
 * (or none within the auth window); 1009 a frame over `MAX_BODY_BYTES`; 1013 a client that owes more
 * than `VIEWER_BUFFER_BYTES` (it resumes with `after`); 1001 the node shuts down (move to another and
 * resubscribe with `after`).
 */
export const closeCodes = { normal: 1000, goingAway: 1001, tooBig: 1009, tryAgainLater: 1013, unauthorized: 4401 } as const;

/** How long a socket without credentials on its upgrade has to send `auth`. */
export const authWindowMs = 10_000;
/** Subscriptions one socket may hold at once. */
export const maxSubscriptions = 100;
/** How often the server pings a socket (a protocol ping; browsers answer by themselves). */
export const pingEveryMs = 30_000;

const requestId = z.union([z.string().min(1).max(64), z.int().min(0).max(2 ** 53 - 1)]);
const jobId = z.string().min(1).max(200);
const conversationId = z.string().min(1).max(100);

/** Every frame a client may send. */
export const clientFrame = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auth'), id: requestId.optional(), key: z.string().min(1).max(1024).optional(), token: z.string().min(1).max(2048).optional() }),
  z
    .strictObject({
      type: z.literal('subscribe'),
      id: requestId,
      job: jobId.optional(),
      conversation: conversationId.optional(),
      // A job's cursor is its last event's number; a conversation's is `<turn>-<seq>`.
      after: z.union([z.int().min(0), z.string().regex(/^\d{1,9}-\d{1,15}$/, 'must be <turn>-<seq>')]).optional(),
    })
    .superRefine((f, ctx) => {
      if ((f.job === undefined) === (f.conversation === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['job'], message: 'name a job or a conversation (one of them)' });
      } else if (f.job !== undefined && typeof f.after === 'string') {
        ctx.addIssue({ code: 'custom', path: ['after'], message: "a job's cursor is its last event's number" });
      } else if (f.conversation !== undefined && typeof f.after === 'number') {
        ctx.addIssue({ code: 'custom', path: ['after'], message: "a conversation's cursor is <turn>-<seq>" });
      }
    }),
  z.strictObject({ type: z.literal('unsubscribe'), id: requestId }),
  z.strictObject({ type: z.literal('create'), id: requestId, body: z.unknown(), idempotency_key: z.string().optional(), subscribe: z.boolean().optional() }),
  z.strictObject({ type: z.literal('cancel'), id: requestId, job: jobId }),
  z.strictObject({ type: z.literal('ping'), id: requestId.optional() }),
  z.strictObject({ type: z.literal('pong'), id: requestId.optional() }),
]);

/** A parsed client frame. */
export type ClientFrame = z.infer<typeof clientFrame>;
/** A request id as the client chose it. */
export type RequestId = z.infer<typeof requestId>;
