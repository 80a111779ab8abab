import { createHmac } from 'node:crypto';

/**
 * The Standard Webhooks headers for one delivery: `webhook-id`, `webhook-timestamp` (Unix seconds) and
 * `webhook-signature`, `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret, space-separated
 * (several while a secret rotates). A secret is `whsec_` and the base64 of its key.
 * See https://www.standardwebhooks.com/.
 */
export function signWebhook(
  secrets: readonly string[],
  id: string,
  body: string,
  nowS: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signed = `${id}.${nowS}.${body}`;
  const signatures = secrets.map((secret) => {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    return `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
  });
  return { 'webhook-id': id, 'webhook-timestamp': String(nowS), 'webhook-signature': signatures.join(' ') };
}
