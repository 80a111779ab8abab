import { createHash, randomBytes } from 'node:crypto';

/** A new job id: `job_` and 128 random bits, URL-safe. */
export function newJobId(): string {
  return `job_${randomBytes(16).toString('base64url')}`;
}

/** Whether `id` has the shape of a job id (checked before it is used in a Redis key). */
export function isJobId(id: string): boolean {
  return /^job_[A-Za-z0-9_-]{22}$/.test(id);
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
