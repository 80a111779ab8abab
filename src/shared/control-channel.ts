import type { RedisClient } from './redis.js';

/**
 * Messages on the control channel every worker listens to: `cancel` (the API publishes it) and
 * `ended`, published by the job scripts when a job with a webhook ends (with its BullMQ job id, which
 * names the delivery).
 */
export type ControlMessage =
  | { readonly type: 'cancel'; readonly jobId: string }
  | { readonly type: 'ended'; readonly jobId: string; readonly queueJobId: string };

/** Encodes a control message. */
export function encodeControl(message: ControlMessage): string {
  return message.type === 'ended' ? `ended ${message.jobId} ${message.queueJobId}` : `${message.type} ${message.jobId}`;
}

/** Decodes a control message; undefined for anything else. */
export function decodeControl(payload: string): ControlMessage | undefined {
  const [type, jobId, queueJobId] = payload.split(' ');
  if (jobId === undefined || jobId === '') return undefined;
  if (type === 'cancel') return { type, jobId };
  if (type === 'ended' && queueJobId !== undefined && queueJobId !== '') return { type, jobId, queueJobId };
  return undefined;
}

/**
 * Subscribes `subscriber` (a dedicated connection) to the control channel; resolves once subscribed.
 * ioredis re-subscribes after a reconnect; a cancel published during the gap is caught by the flag
 * check at the next attempt start and by the reaper.
 */
export async function listenForControl(
  subscriber: RedisClient,
  channel: string,
  onMessage: (message: ControlMessage) => void,
): Promise<void> {
  subscriber.on('message', (ch: string, payload: string) => {
    if (ch !== channel) return;
    const message = decodeControl(payload);
    if (message !== undefined) onMessage(message);
  });
  await subscriber.subscribe(channel);
}
