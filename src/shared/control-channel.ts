import type { Redis } from 'ioredis';

/** Messages on the control channel every worker listens to. */
export type ControlMessage = { readonly type: 'cancel'; readonly jobId: string };

/** Encodes a control message (the API publishes these). */
export function encodeControl(message: ControlMessage): string {
  return `${message.type} ${message.jobId}`;
}

/** Decodes a control message; undefined for anything else. */
export function decodeControl(payload: string): ControlMessage | undefined {
  const [type, jobId] = payload.split(' ');
  return type === 'cancel' && jobId !== undefined && jobId !== '' ? { type, jobId } : undefined;
}

/**
 * Subscribes `subscriber` (a dedicated connection) to the control channel; resolves once subscribed.
 * ioredis re-subscribes after a reconnect; a cancel published during the gap is caught by the flag
 * check at the next attempt start and by the reaper.
 */
export async function listenForControl(
  subscriber: Redis,
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
