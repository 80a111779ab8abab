import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse } from './support/sse.js';
import { getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

describe('submitting and reading jobs', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'submit', env: { MAX_DURATION_MS: '60000' } });
  });
  afterAll(async () => {
    await sys.close();
  });

  it('answers 202 with Location and an unguessable id, keeps the record current, ends completed', async () => {
    const { status, json, headers } = await submitJob(sys.url, {
      max_tokens: 100,
      messages: [{ role: 'user', content: simPrompt({ text: 'one two three', chunk: 4 }) }],
      metadata: { user: 'u_42' },
      max_duration_ms: 120_000,
    });
    expect(status).toBe(202);
    const id = String(json['id']);
    expect(id).toMatch(/^job_[A-Za-z0-9_-]{22}$/);
    expect(headers.get('location')).toBe(`/v1/jobs/${id}`);
    expect(json).toMatchObject({ status: 'queued', events_url: `/v1/jobs/${id}/events` });
    expect(Date.parse(String(json['created_at']))).not.toBeNaN();

    await readSse(`${sys.url}/v1/jobs/${id}/events`);
    const rec = await getRecord(sys.url, id);
    expect(rec).toMatchObject({
      id,
      status: 'completed',
      model: sys.config.defaultModel,
      attempt: 1,
      text: 'one two three',
      partial: false,
      stop_reason: 'end_turn',
      error: null,
      cancel_requested_at: null,
      metadata: { user: 'u_42' },
    });
    // max_duration_ms is capped by MAX_DURATION_MS, counted from the first start.
    expect(Date.parse(String(rec['deadline_at'])) - Date.parse(String(rec['started_at']))).toBe(60_000);
    const usage = rec['usage'] as { input_tokens: number; output_tokens: number };
    expect(usage.output_tokens).toBe(4);
    expect(usage.input_tokens).toBeGreaterThan(0);
    const metrics = rec['metrics'] as Record<string, number | null>;
    for (const k of ['queue_ms', 'ttft_ms', 'duration_ms', 'output_tokens_per_s']) {
      expect(typeof metrics[k], k).toBe('number');
    }
  });

  it('passes the Messages parameters to the upstream unchanged, with the default model', async () => {
    const body = {
      max_tokens: 64,
      system: 'be brief',
      stop_sequences: ['STOP'],
      output_config: { effort: 'low' },
      messages: [{ role: 'user', content: simPrompt({ text: 'a b', tag: 'params' }) }],
    };
    const { json } = await submitJob(sys.url, body);
    await readSse(`${sys.url}/v1/jobs/${String(json['id'])}/events`);
    const req = sys.sim.requests.find((r) => r.tag === 'params');
    expect(req?.body).toEqual({ ...body, model: sys.config.defaultModel, stream: true });
  });

  it('with an Idempotency-Key returns the same job for the same body, 409 for another body', async () => {
    const body = { max_tokens: 10, messages: [{ role: 'user', content: simPrompt({ tokens: 2 }) }] };
    const key = `idem-${Math.random()}`;
    const first = await submitJob(sys.url, body, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    // Same body, keys in another order: the same request.
    const again = await submitJob(sys.url, { messages: body.messages, max_tokens: 10 }, { 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect(again.json['id']).toBe(first.json['id']);
    expect(again.headers.get('location')).toBe(`/v1/jobs/${String(first.json['id'])}`);
    const other = await submitJob(sys.url, { ...body, max_tokens: 11 }, { 'idempotency-key': key });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () => submitJob(sys.url, body, { 'idempotency-key': `${key}-c` })),
    );
    expect(new Set(concurrent.map((r) => r.json['id'])).size).toBe(1);
    expect(concurrent.filter((r) => r.status === 202)).toHaveLength(1);
  });

  it('serves /healthz, /readyz and Prometheus /metrics', async () => {
    expect((await fetch(`${sys.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${sys.url}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    expect(metrics).toMatch(/^genrelay_jobs_submitted_total\{outcome="created"\} \d+/m);
    expect(metrics).toMatch(/^genrelay_viewers{transport="sse"} \d+/m);
  });

  it('keeps a finished job for RESULT_TTL_S, then answers 404', async () => {
    const { json } = await submitJob(sys.url, { max_tokens: 10, messages: [{ role: 'user', content: simPrompt({ tokens: 2 }) }] });
    const id = String(json['id']);
    await readSse(`${sys.url}/v1/jobs/${id}/events`);
    // The presence hash (`:viewers`) has a lifetime of its own, refreshed by the API nodes.
    const keys = (await sys.redis.keys(`${sys.config.keyPrefix}:{job:${id}}:*`)).filter((k) => !k.endsWith(':viewers'));
    expect(keys.length).toBeGreaterThanOrEqual(2);
    for (const key of keys) {
      const ttl = await sys.redis.ttl(key);
      expect(ttl).toBeGreaterThan(sys.config.resultTtlS - 60);
      expect(ttl).toBeLessThanOrEqual(sys.config.resultTtlS);
    }
    // Expire them now, as time would.
    await Promise.all(keys.map((k) => sys.redis.pexpire(k, 1)));
    await new Promise((r) => setTimeout(r, 20));
    expect((await fetch(`${sys.url}/v1/jobs/${id}`)).status).toBe(404);
    expect((await fetch(`${sys.url}/v1/jobs/${id}/events`)).status).toBe(404);
  });
});
