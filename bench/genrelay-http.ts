import type { Cluster, Redis } from 'ioredis';
import { jobKeys } from '../src/shared/keys.js';

/** A simulator directive (see src/simulator/README.md). */
export type Directive = Readonly<Record<string, string | number | boolean>>;

/** The model every bench request names (the simulator accepts any `claude…`). */
export const benchModel = 'claude-sonnet-5-5';

/** A Messages request body whose prompt carries `directive`: what a job submits and what the direct SDK sends. */
export function messagesBody(directive: Directive, maxTokens: number): { model: string; max_tokens: number; messages: { role: 'user'; content: string }[] } {
  return {
    model: benchModel,
    max_tokens: maxTokens,
    messages: [{ role: 'user', content: `Benchmark stream. <<sim ${JSON.stringify(directive)}>>` }],
  };
}

/** `POST /v1/jobs`; the new job's id. */
export async function submitJob(apiUrl: string, directive: Directive, maxTokens: number): Promise<string> {
  const res = await fetch(`${apiUrl}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(messagesBody(directive, maxTokens)),
  });
  const body = (await res.json()) as { id?: string };
  if (res.status !== 202 || body.id === undefined) throw new Error(`submit: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body.id;
}

/** `POST /v1/jobs/{id}/cancel` (a job that already ended is fine). */
export async function cancelJob(apiUrl: string, id: string): Promise<void> {
  const res = await fetch(`${apiUrl}/v1/jobs/${id}/cancel`, { method: 'POST' });
  await res.arrayBuffer();
  if (res.status !== 200 && res.status !== 202) throw new Error(`cancel ${id}: HTTP ${res.status}`);
}

/** The SSE path of a job. */
export const eventsPath = (id: string): string => `/v1/jobs/${id}/events`;

/** Runs `fn` over `items` with at most `limit` at once; results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const run = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return out;
}

/**
 * One field of many job records, read straight from Redis (null where absent): one command per job,
 * all sent at once (the records live in many slots of a Cluster, where a pipeline may not span them).
 */
export async function readRecordField(redis: Redis | Cluster, keyPrefix: string, ids: readonly string[], field: string): Promise<(string | null)[]> {
  return Promise.all(ids.map((id) => redis.hget(jobKeys(keyPrefix, id).record, field)));
}
