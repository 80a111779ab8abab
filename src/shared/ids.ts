import { createHash, createHmac, randomBytes } from 'node:crypto';

/** A new job id: `job_` and 128 random bits, URL-safe. */
export function newJobId(): string {
  return `job_${randomBytes(16).toString('base64url')}`;
}

/**
 * The job id an Idempotency-Key names: `job_` and 128 bits of HMAC-SHA256 over the key, so the same
 * key always names the same job (the record itself is the claim, created atomically) and nobody
 * without `secret` can guess the id from the key. `scope` keeps deployments that share a secret apart.
 */
export function idempotentJobId(secret: string, scope: string, key: string): string {
  const mac = createHmac('sha256', secret).update(`genrelay idempotency\0${scope}\0${key}`).digest();
  return `job_${mac.subarray(0, 16).toString('base64url')}`;
}

/**
 * The id of a later turn of the conversation whose first job is `rootId` (`job_A.B`: it shares the
 * first job's Redis slot). `part` is its own 128 bits: random, or from an Idempotency-Key.
 */
export function turnJobId(rootId: string, part = randomBytes(16).toString('base64url')): string {
  return `${rootId}.${part}`;
}

/** The random (or keyed) part of a job id: what follows `job_`, or the last `.`. */
export function jobIdPart(id: string): string {
  return id.slice(Math.max(id.lastIndexOf('.'), id.indexOf('_')) + 1);
}

/** Whether `id` has the shape of a job id (checked before it is used in a Redis key). */
export function isJobId(id: string): boolean {
  return /^job_[A-Za-z0-9_-]{22}(\.[A-Za-z0-9_-]{22})?$/.test(id);
}

/** Whether `id` has the shape of a conversation id. */
export function isConversationId(id: string): boolean {
  return /^conv_[A-Za-z0-9_-]{22}$/.test(id);
}

/** JSON with object keys sorted, so equal bodies hash equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 of the canonical JSON of `value`, base64url. */
export function hashJson(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}
