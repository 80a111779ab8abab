import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a viewer token grants: reading one job, or one conversation and its jobs, until it expires. */
export interface ViewerClaims {
  /** A job id (`job_…`) or a conversation id (`conv_…`). */
  readonly subject: string;
  /** Expiry, ms since the epoch. */
  readonly expiresAt: number;
}

const version = 'v1';
const scope = 'read';

function signature(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/**
 * A signed, expiring token scoped to reading one job or one conversation:
 * `v1.<subject>.<expiry base36>.read.<HMAC-SHA256>`, URL-safe so it fits in `?token=` (a browser
 * EventSource cannot send headers). A later turn's job id holds a `.`: the token is read from its ends.
 */
export function signViewerToken(secret: string, claims: ViewerClaims): string {
  const payload = `${version}.${claims.subject}.${Math.floor(claims.expiresAt).toString(36)}.${scope}`;
  return `${payload}.${signature(secret, payload).toString('base64url')}`;
}

/** Why a token was refused (for logs and tests; clients get one undifferentiated 401). */
export type TokenRejection = 'malformed' | 'bad_signature' | 'expired' | 'wrong_job';

/**
 * Verifies `token` for reading what `grants` accepts (the token's subject: a job id or a conversation
 * id) at time `now`: the signature first (constant time), then the subject, then the expiry. Returns
 * the claims, or why it was refused.
 */
export function verifyViewerToken(
  secret: string,
  token: string,
  grants: (subject: string) => boolean,
  now: number,
): { ok: true; claims: ViewerClaims } | { ok: false; reason: TokenRejection } {
  const parts = token.split('.');
  if (parts.length < 5 || parts[0] !== version || parts.at(-2) !== scope) return { ok: false, reason: 'malformed' };
  const sig = parts.at(-1) ?? '';
  const expiry = parts.at(-3) ?? '';
  const subject = parts.slice(1, -3).join('.');
  const payload = parts.slice(0, -1).join('.');
  const expected = signature(secret, payload);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  if (!grants(subject)) return { ok: false, reason: 'wrong_job' };
  const expiresAt = parseInt(expiry, 36);
  if (!Number.isFinite(expiresAt) || expiresAt <= now) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { subject, expiresAt } };
}
