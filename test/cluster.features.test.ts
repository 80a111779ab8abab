import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisClusterNodes } from './support/redis.js';
import { checkContiguous, readSse, viewerText } from './support/sse.js';
import { eventually, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';
import { startWebhookReceiver } from './support/webhook-receiver.js';

const KEY = 'cluster-key';
const auth = { authorization: `Bearer ${KEY}` };
const secret = `whsec_${randomBytes(32).toString('base64')}`;

// The features that the core end-to-end tests (which run on both backends) do not reach, on the
// shared 3-master cluster, with auth on: deadlines, retries with `reset`, presence, Idempotency-Key,
// viewer tokens, `?wait=`, webhooks and the queue's metrics. Each touches keys outside a job's slot
// (the deadline index, the token secret, the webhook queue) or a second script on the job's shard.
describe('the rest of genrelay on a Redis Cluster', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({
      name: 'cluster-features',
      env: {
        REDIS_CLUSTER_NODES: redisClusterNodes(),
        API_KEYS: KEY,
        WEBHOOK_SECRET: secret,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEBHOOK_RETRY_DELAYS_MS: '200,400',
        KEEPALIVE_MS: '1000',
      },
    });
  });
  afterAll(async () => {
    await sys.close();
  });
  const record = async (id: string, query = '') => {
    const res = await fetch(`${sys.url}/v1/jobs/${id}${query}`, { headers: auth });
    expect(res.status === 200 || res.status === 202, `GET ${id}${query}: ${res.status}`).toBe(true);
    return (await res.json()) as Record<string, unknown>;
  };
  const ended = (id: string) =>
    eventually(async () => {
      const r = await record(id);
      return r['status'] === 'queued' || r['status'] === 'running' ? undefined : r;
    }, 30_000, `job ${id} ended`);
  const submit = async (behaviour: Record<string, unknown>, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) => {
    const res = await submitJob(sys.url, { max_tokens: 2000, messages: [{ role: 'user', content: simPrompt(behaviour) }], ...extra }, { ...auth, ...headers });
    return { ...res, id: String(res.json['id']), token: String(res.json['viewer_token']) };
  };

  it('a deadline ends a job timed_out, with the text it had', async () => {
    const job = await submit({ tokens: 400, tps: 20, tag: 'c-deadline' }, { max_duration_ms: 1000 });
    expect(job.status).toBe(202);
    const r = await ended(job.id);
    const sent = sys.sim.requests.find((q) => q.tag === 'c-deadline')?.textSent ?? '';
    expect(r['status']).toBe('timed_out');
    expect(String(r['text']).length).toBeGreaterThan(0);
    expect(sent.startsWith(String(r['text']))).toBe(true);
  });

  it('a dropped stream is retried: viewers get `reset`, then exactly the last attempt', async () => {
    const job = await submit({ text: words(40, 'r.'), tps: 40, fault: 'drop', fault_after: 10, fault_times: 1, key: 'c-retry', tag: 'c-retry' });
    const { events } = await readSse(`${sys.url}/v1/jobs/${job.id}/events?token=${job.token}`);
    const r = await ended(job.id);
    expect(r).toMatchObject({ status: 'completed', attempt: 2, text: words(40, 'r.') });
    checkContiguous(events);
    expect(events.filter((e) => e.event === 'reset')).toHaveLength(1);
    expect(viewerText(events)).toBe(words(40, 'r.'));
  });

  it('viewer tokens open the stream; the record counts its viewers; ?wait= returns the ending', async () => {
    const job = await submit({ text: words(60, 'v.'), tps: 20, tag: 'c-viewers' });
    const events = `${sys.url}/v1/jobs/${job.id}/events`;
    expect((await readSse(events)).status).toBe(401);
    expect((await readSse(`${events}?token=${job.token}x`)).status).toBe(401);
    const minted = await fetch(`${sys.url}/v1/jobs/${job.id}/viewer-token`, { method: 'POST', headers: auth });
    expect(minted.status).toBe(201);
    const fresh = String(((await minted.json()) as Record<string, unknown>)['token']);
    const views = [readSse(`${events}?token=${job.token}`), readSse(`${events}?token=${fresh}`)];
    await eventually(async () => ((await record(job.id))['viewers'] === 2 ? true : undefined), 10_000, 'two viewers');
    const waited = await record(job.id, '?wait=30');
    expect(waited).toMatchObject({ status: 'completed', text: words(60, 'v.') });
    for (const view of views) expect(viewerText((await view).events)).toBe(words(60, 'v.'));
    await eventually(async () => ((await record(job.id))['viewers'] === 0 ? true : undefined), 10_000, 'no viewers');
  });

  it('Idempotency-Key: the same request is the same job; another body is a 409', async () => {
    const key = { 'idempotency-key': `order-${randomBytes(4).toString('hex')}` };
    const first = await submit({ text: 'once', tag: 'c-idem' }, {}, key);
    const again = await submit({ text: 'once', tag: 'c-idem' }, {}, key);
    const other = await submit({ text: 'twice', tag: 'c-idem' }, {}, key);
    expect([first.status, again.status, other.status]).toEqual([202, 200, 409]);
    expect(again.id).toBe(first.id);
    expect((await ended(first.id))['text']).toBe('once');
    expect(sys.sim.requests.filter((q) => q.tag === 'c-idem')).toHaveLength(1);
  });

  it('a webhook is delivered, signed, once', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const job = await submit({ text: 'hooked', tag: 'c-hook' }, { webhook: { url: receiver.url } });
      const [delivery] = await receiver.waitFor(1);
      const payload = new Webhook(secret).verify(delivery?.body ?? '', (delivery?.headers ?? {}) as Record<string, string>) as {
        type: string;
        data: Record<string, unknown>;
      };
      expect(payload).toMatchObject({ type: 'job.completed', data: { id: job.id, text: 'hooked' } });
      await eventually(async () => ((await record(job.id))['webhook'] as { status?: string } | undefined)?.status === 'delivered' || undefined);
      await new Promise((res) => setTimeout(res, 500));
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });

  it('/metrics reads the queue that lives on one shard', async () => {
    const text = await (await fetch(`${sys.url}/metrics`)).text();
    expect(text).toMatch(/^genrelay_queue_jobs\{state="completed"\} [1-9]/m);
    expect(text).toMatch(/^genrelay_upstream_concurrency_in_use \d+/m);
  });
});
