import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

const KEY = 'stats-key';
const auth = { authorization: `Bearer ${KEY}` };

// GET /v1/jobs/{id}/stats: a job's counters without its text, for pages beside a stream.
describe('GET /v1/jobs/{id}/stats', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'stats', env: { API_KEYS: KEY } });
  });
  afterAll(async () => {
    await sys.close();
  });

  const submit = async (behaviour: Parameters<typeof simPrompt>[0]) => {
    const { status, json } = await submitJob(sys.url, { max_tokens: 4000, messages: [{ role: 'user', content: simPrompt(behaviour) }] }, auth);
    expect(status).toBe(202);
    return { id: String(json['id']), token: String(json['viewer_token']) };
  };
  const get = (path: string, headers: Record<string, string> = auth) => fetch(`${sys.url}${path}`, { headers });
  const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

  it("shows the record's status, attempt, usage and metrics, and no text", async () => {
    const job = await submit({ tokens: 12, tag: 'stats-fields' });
    const record = await eventually(async () => {
      const r = await json(await get(`/v1/jobs/${job.id}`));
      return r['status'] === 'completed' ? r : undefined;
    });
    // A read within the cache window may still show the running job: the cache holds for about 1 s.
    const res = await eventually(async () => {
      const r = await get(`/v1/jobs/${job.id}/stats`);
      const body = await json(r);
      return body['status'] === 'completed' ? { r, body } : undefined;
    });
    expect(res.r.status).toBe(200);
    expect(res.r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.r.headers.get('cache-control')).toBe('private, max-age=1');
    expect(Object.keys(res.body).sort()).toEqual(['attempt', 'id', 'metrics', 'status', 'usage', 'viewers']);
    expect(res.body).toEqual({
      id: job.id,
      status: 'completed',
      attempt: record['attempt'],
      usage: record['usage'],
      metrics: record['metrics'],
      viewers: 0,
    });
    expect((res.body['usage'] as { output_tokens: number }).output_tokens).toBe(12);
  });

  it("counts live viewers and tokens while the job runs, read with the job's own viewer token", async () => {
    const job = await submit({ tokens: 2000, tps: 40, tag: 'stats-live' });
    const q = `?token=${encodeURIComponent(job.token)}`;
    const viewer = new AbortController();
    const stream = await fetch(`${sys.url}/v1/jobs/${job.id}/events${q}`, { signal: viewer.signal });
    expect(stream.status).toBe(200);
    void stream.body?.pipeTo(new WritableStream()).catch(() => {});
    try {
      const first = await eventually(async () => {
        const s = await json(await get(`/v1/jobs/${job.id}/stats${q}`, {}));
        return s['viewers'] === 1 && s['status'] === 'running' ? s : undefined;
      }, 20_000, 'one viewer counted');
      const tokensOf = (s: Record<string, unknown>) => (s['usage'] as { output_tokens: number }).output_tokens;
      await eventually(async () => {
        const s = await json(await get(`/v1/jobs/${job.id}/stats${q}`, {}));
        return tokensOf(s) > tokensOf(first) ? s : undefined;
      }, 20_000, 'the token count to grow');
    } finally {
      viewer.abort();
      await fetch(`${sys.url}/v1/jobs/${job.id}/cancel`, { method: 'POST', headers: auth });
    }
  });

  it('refuses a missing or wrong key and a token for another job, with a 401 problem', async () => {
    const [a, b] = [await submit({ tokens: 3 }), await submit({ tokens: 3 })];
    const refused = [
      [`/v1/jobs/${a.id}/stats`, {}],
      [`/v1/jobs/${a.id}/stats`, { authorization: 'Bearer wrong' }],
      [`/v1/jobs/${a.id}/stats?token=${encodeURIComponent(b.token)}`, {}],
      [`/v1/jobs/${a.id}/stats?token=${encodeURIComponent(`${a.token.slice(0, -2)}xx`)}`, {}],
    ] as const;
    for (const [path, headers] of refused) {
      const res = await get(path, headers);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    expect((await get(`/v1/jobs/${a.id}/stats?token=${encodeURIComponent(a.token)}`, {})).status).toBe(200);
    expect((await get(`/v1/jobs/${b.id}/stats`)).status).toBe(200);
  });

  it('answers 404 problem+json for an unknown job or an id that cannot exist', async () => {
    for (const id of ['job_AAAAAAAAAAAAAAAAAAAAAA', 'not-a-job-id']) {
      const res = await get(`/v1/jobs/${id}/stats`);
      expect(res.status, id).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await json(res)).toMatchObject({ status: 404 });
    }
  });
});
