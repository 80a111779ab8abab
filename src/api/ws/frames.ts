import type { CancelOutcome } from '../../shared/job-store.js';
import type { JobSubmission, Problem, TurnEventData } from '../../shared/wire.js';
import type { Access } from '../auth.js';
import type { ConversationFraming } from '../conversation-stream.js';
import type { ServerReply } from '../openapi/frame-schemas.js';
import type { EventEncoder } from '../relay/encoder.js';
import type { RequestId } from './protocol.js';
import { textFrame } from './wire-frame.js';

/** A server frame as JSON text bytes; typed by the schema the OpenAPI document describes it with. */
const text = (frame: ServerReply): Buffer => Buffer.from(JSON.stringify(frame));

/**
 * Job `jobId`'s events on a socket: `{"type":"event","job","seq","event","data"}`. The frame names the
 * job, not the subscription (a socket subscribes to a job once), so it is the same bytes for every
 * socket: made once per event (the key is per framing; a live event belongs to one job), sent to all.
 * Event frames leave ready-framed (`wire-frame.ts`); the replies below go through `ws.send`.
 */
export function wsJobEncoder(jobId: string): EventEncoder {
  const job = JSON.stringify(jobId);
  return {
    key: 'ws',
    transport: 'ws',
    encode: (e) => textFrame(`{"type":"event","job":${job},"seq":${e.seq},"event":"${e.type}","data":${e.data}}`),
  };
}

/** A conversation's events on a socket: as a job's, with `conversation` and `turn`; `turn` events have seq 0. */
export function wsConversationFraming(conversationId: string): ConversationFraming {
  const conv = JSON.stringify(conversationId);
  return {
    turn: (turn, jobId) => {
      const job = JSON.stringify(jobId);
      return {
        key: `ws:conv:${conversationId}:${turn}`,
        transport: 'ws',
        encode: (e) => textFrame(`{"type":"event","conversation":${conv},"turn":${turn},"job":${job},"seq":${e.seq},"event":"${e.type}","data":${e.data}}`),
      };
    },
    announce: (data: TurnEventData) =>
      textFrame(`{"type":"event","conversation":${conv},"turn":${data.turn},"job":${JSON.stringify(data.job_id)},"seq":0,"event":"turn","data":${JSON.stringify(data)}}`),
  };
}

/** What a `subscribed` frame says of its target. */
type SubscribedTarget = Extract<ServerReply, { type: 'subscribed' }> extends infer F ? (F extends unknown ? Omit<F, 'type' | 'id'> : never) : never;

/** The replies and notices the server sends. */
export const frames = {
  ready: (access: Access['kind']) => text({ type: 'ready', access }),
  subscribed: (id: RequestId, target: SubscribedTarget) => text({ type: 'subscribed', id, ...target }),
  complete: (id: RequestId) => text({ type: 'complete', id }),
  created: (id: RequestId, job: JobSubmission) => text({ type: 'created', id, job }),
  cancelled: (id: RequestId, job: string, outcome: Exclude<CancelOutcome, 'gone'>) => text({ type: 'cancelled', id, job, outcome }),
  pong: (id: RequestId | undefined) => text(id === undefined ? { type: 'pong' } : { type: 'pong', id }),
  error: (id: RequestId | undefined, problem: Problem) => text(id === undefined ? { type: 'error', problem } : { type: 'error', id, problem }),
};
