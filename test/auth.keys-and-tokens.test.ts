import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globalKeys } from '../src/shared/keys.js';
import { signViewerToken } from '../src/shared/viewer-token.js';
import { readSse, viewerText } from './support/sse.js';
import { simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

const KEY = 'secret-key-1';
const auth = { authorization: `Bearer ${KEY}` };

describe('API keys and viewer tokens', () => {
  let sys: TestSystem;
  let jobA: { id: string; token: string };
  let jobB: { id: string; token: string };
  beforeAll(async () => {
    sys = await startSystem({
      name: 'auth',
      env: { API_KEYS: `other-key, ${KEY}`, CORS_ORIGINS: 'https://app.example' },
    });
    const make = async () => {
      const { json } = await submitJob(sys.url, { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ tokens: 5 }) }] }, auth);
      return { id: String(json['id']), token: String(json['viewer_token']) };
    };
    [jobA, jobB] = [await make(), await make()];
  });
  afterAll(async () => {
    await sys.close();
  });

  const call = (method: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${sys.url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, ...(method === 'POST' ? { body: '{}' } : {}) });

  it('refuses every /v1 call without a valid key, with one answer whether or not the job exists', async () => {
    const unknown = 'job_AAAAAAAAAAAAAAAAAAAAAA';
    const bodies = new Set<string>();
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: KEY }, { authorization: `Basic ${KEY}` }]) {
      for (const [method, path] of [
        ['POST', '/v1/jobs'],
        ['GET', `/v1/jobs/${jobA.id}`],
        ['GET', `/v1/jobs/${unknown}`],
        ['GET', `/v1/jobs/${jobA.id}/events`],
        ['GET', `/v1/jobs/${unknown}/events`],
        ['POST', `/v1/jobs/${jobA.id}/cancel`],
        ['POST', `/v1/jobs/${unknown}/cancel`],
        ['POST', `/v1/jobs/${jobA.id}/viewer-token`],
      ] as const) {
        const res = await call(method, path, headers);
        expect(res.status, `${method} ${path}`).toBe(401);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
        bodies.add(await res.text());
      }
    }
    expect(bodies.size).toBe(1);
  });

  it('accepts any configured key', async () => {
    expect((await call('GET', `/v1/jobs/${jobA.id}`, auth)).status).toBe(200);
    expect((await call('GET', `/v1/jobs/${jobA.id}`, { authorization: 'Bearer other-key' })).status).toBe(200);
  });

  it('a viewer token opens its job record and events, nothing else', async () => {
    const q = `token=${encodeURIComponent(jobA.token)}`;
    const rec = await call('GET', `/v1/jobs/${jobA.id}?${q}`);
    expect(rec.status).toBe(200);
    const view = await readSse(`${sys.url}/v1/jobs/${jobA.id}/events?${q}`);
    expect(view.status).toBe(200);
    expect(view.events.at(-1)?.event).toBe('done');
    const after = (await (await call('GET', `/v1/jobs/${jobA.id}?${q}`)).json()) as { text: string };
    expect(viewerText(view.events)).toBe(after.text);
    expect(after.text.length).toBeGreaterThan(0);
    // Reading only: not cancel, not minting, not submitting.
    expect((await call('POST', `/v1/jobs/${jobA.id}/cancel?${q}`)).status).toBe(401);
    expect((await call('POST', `/v1/jobs/${jobA.id}/viewer-token?${q}`)).status).toBe(401);
    expect((await call('POST', `/v1/jobs?${q}`)).status).toBe(401);
  });

  it('a token for job A opens nothing of job B', async () => {
    const q = `token=${encodeURIComponent(jobA.token)}`;
    expect((await call('GET', `/v1/jobs/${jobB.id}?${q}`)).status).toBe(401);
    expect((await readSse(`${sys.url}/v1/jobs/${jobB.id}/events?${q}`)).status).toBe(401);
    // Not even with a valid key beside it: a bad token is refused outright.
    expect((await call('GET', `/v1/jobs/${jobB.id}?${q}`, auth)).status).toBe(401);
  });

  it('refuses an altered, an expired and a malformed token', async () => {
    const [head, sig = ''] = [jobA.token.slice(0, jobA.token.lastIndexOf('.')), jobA.token.slice(jobA.token.lastIndexOf('.') + 1)];
    const flipped = `${head}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`;
    const longer = jobA.token.replace(/^(v1\.[^.]+\.)([^.]+)/, (_, a: string, exp: string) => `${a}${(parseInt(exp, 36) * 2).toString(36)}`);
    const secret = String(await sys.redis.get(globalKeys(sys.config.keyPrefix).tokenSecret));
    expect(secret.length).toBeGreaterThan(20);
    const expired = signViewerToken(secret, { subject: jobA.id, expiresAt: Date.now() - 1000 });
    const valid = signViewerToken(secret, { subject: jobA.id, expiresAt: Date.now() + 60_000 });
    const status = async (token: string) => (await call('GET', `/v1/jobs/${jobA.id}?token=${encodeURIComponent(token)}`)).status;
    expect(await status(valid)).toBe(200);
    expect(await status(flipped)).toBe(401);
    expect(await status(longer)).toBe(401);
    expect(await status(expired)).toBe(401);
    expect(await status('garbage')).toBe(401);
    expect(await status('')).toBe(401);
  });

  it('mints a fresh viewer token for an existing job, 404 for an unknown one', async () => {
    const res = await call('POST', `/v1/jobs/${jobB.id}/viewer-token`, auth);
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: string; expires_at: string; viewer_url: string; events_url: string };
    expect(Date.parse(body.expires_at)).toBeGreaterThan(Date.now());
    expect(body.viewer_url).toBe(`/jobs/${jobB.id}?token=${encodeURIComponent(body.token)}`);
    expect((await call('GET', body.events_url.replace('/events', ''))).status).toBe(200);
    expect((await call('POST', '/v1/jobs/job_AAAAAAAAAAAAAAAAAAAAAA/viewer-token', auth)).status).toBe(404);
  });

  it('sends CORS headers on reads for configured origins only', async () => {
    const q = `token=${encodeURIComponent(jobA.token)}`;
    const allowed = await call('GET', `/v1/jobs/${jobA.id}?${q}`, { origin: 'https://app.example' });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const refused = await call('GET', `/v1/jobs/${jobA.id}?${q}`, { origin: 'https://evil.example' });
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${sys.url}/v1/jobs/${jobA.id}/events`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'last-event-id' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Last-Event-ID/);
    // The 401 of a refused read still carries CORS, so a browser app can read why.
    const denied = await call('GET', `/v1/jobs/${jobA.id}`, { origin: 'https://app.example' });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('leaves health and metrics open for probes', async () => {
    expect((await call('GET', '/healthz')).status).toBe(200);
    expect((await call('GET', '/readyz')).status).toBe(200);
    expect((await call('GET', '/metrics')).status).toBe(200);
  });
});
