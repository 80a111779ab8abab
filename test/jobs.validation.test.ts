import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSystem, type TestSystem } from './support/system.js';

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

// Bad input gets the right 4xx as problem+json naming the offending path; never a 500, never a job.
describe('POST /v1/jobs input validation', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'validation', env: { MAX_BODY_BYTES: '4096', MAX_TOKENS_LIMIT: '8192' } });
  });
  afterAll(async () => {
    await sys.close();
  });

  const post = async (body: string, contentType = 'application/json') => {
    const res = await fetch(`${sys.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return { status: res.status, body: (await res.json()) as ProblemBody };
  };
  const ok = { max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
  const paths = (p: ProblemBody) => (p.errors ?? []).map((e) => e.path);

  const cases: [string, unknown, number, string[]][] = [
    ['no messages', { max_tokens: 10 }, 400, ['/messages']],
    ['empty messages', { ...ok, messages: [] }, 400, ['/messages']],
    ['max_tokens 0', { ...ok, max_tokens: 0 }, 400, ['/max_tokens']],
    ['max_tokens over the limit', { ...ok, max_tokens: 1_000_000 }, 400, ['/max_tokens']],
    ['max_tokens missing', { messages: ok.messages }, 400, ['/max_tokens']],
    ['max_tokens a string', { ...ok, max_tokens: '10' }, 400, ['/max_tokens']],
    ['max_tokens fractional', { ...ok, max_tokens: 1.5 }, 400, ['/max_tokens']],
    ['messages not an array', { ...ok, messages: 'hi' }, 400, ['/messages']],
    ['a bad role', { ...ok, messages: [{ role: 'robot', content: 'hi' }] }, 400, ['/messages/0/role']],
    ['content a number', { ...ok, messages: [{ role: 'user', content: 5 }] }, 400, ['/messages/0/content']],
    ['temperature (refused: API version 2026-10-21)', { ...ok, temperature: 1 }, 400, ['/temperature']],
    ['metadata with a number', { ...ok, metadata: { user: 42 } }, 400, ['/metadata/user']],
    ['an unknown field', { ...ok, stream: true }, 400, ['/stream']],
    ['max_duration_ms negative', { ...ok, max_duration_ms: -5 }, 400, ['/max_duration_ms']],
    ['a JSON array', [ok], 400, ['']],
  ];
  for (const [name, body, status, expected] of cases) {
    it(`rejects ${name} with ${status} and the path`, async () => {
      const res = await post(JSON.stringify(body));
      expect(res.status).toBe(status);
      expect(res.body.status).toBe(status);
      expect(res.body.type).toBe('urn:genrelay:problem:validation_failed');
      expect(paths(res.body)).toEqual(expect.arrayContaining(expected));
    });
  }

  it('lists every problem at once', async () => {
    const res = await post(JSON.stringify({ max_tokens: 0, messages: [], temperature: 9 }));
    expect(paths(res.body)).toEqual(expect.arrayContaining(['/max_tokens', '/messages', '/temperature']));
  });

  it('rejects invalid JSON with 400', async () => {
    const res = await post('{"max_tokens": 10, "messages": [');
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/not valid JSON/);
  });

  it('rejects a body over MAX_BODY_BYTES with 413 naming the limit', async () => {
    const res = await post(JSON.stringify({ ...ok, messages: [{ role: 'user', content: 'x'.repeat(10_000) }] }));
    expect(res.status).toBe(413);
    expect(res.body.detail).toBe('The request body is larger than 4096 bytes (MAX_BODY_BYTES).');
  });

  it('answers a known route asked with the wrong method with 405 and Allow', async () => {
    for (const [method, path, allow] of [
      ['GET', '/v1/jobs', 'POST'],
      ['DELETE', '/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA', 'GET, HEAD, OPTIONS'],
      ['PUT', '/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA/events', 'GET, HEAD, OPTIONS'],
      ['GET', '/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA/cancel', 'POST'],
      ['POST', '/healthz', 'GET, HEAD'],
    ] as const) {
      const res = await fetch(`${sys.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe(allow);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as ProblemBody).detail).toContain(`allowed: ${allow}`);
    }
    // A path no route knows stays a 404.
    expect((await fetch(`${sys.url}/v2/jobs`, { method: 'POST' })).status).toBe(404);
  });

  it('says an integer cursor is too large rather than not an integer', async () => {
    const res = await fetch(`${sys.url}/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA/events?last_event_id=99999999999999999999`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as ProblemBody;
    expect(body.errors?.[0]).toMatchObject({ path: 'query:last_event_id', message: expect.stringMatching(/too large/) });
  });

  it('rejects a wrong content type with 415', async () => {
    const res = await post(JSON.stringify(ok), 'text/plain');
    expect(res.status).toBe(415);
  });

  it('answers an unknown job with 404 problem+json on every job route', async () => {
    for (const [method, path] of [
      ['GET', '/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA'],
      ['GET', '/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA/events'],
      ['POST', '/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA/cancel'],
      ['GET', '/v1/jobs/not-an-id'],
    ] as const) {
      const res = await fetch(`${sys.url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as ProblemBody).status).toBe(404);
    }
  });

  it('creates no job for a rejected request', async () => {
    const before = await sys.redis.keys(`${sys.config.keyPrefix}:{job:*`);
    await post(JSON.stringify({ max_tokens: 0, messages: [] }));
    expect(await sys.redis.keys(`${sys.config.keyPrefix}:{job:*`)).toEqual(before);
  });
});
