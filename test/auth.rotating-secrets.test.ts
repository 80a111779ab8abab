import { afterEach, describe, expect, it } from 'vitest';
import { signViewerToken } from '../src/shared/viewer-token.js';
import { uniquePrefix } from './support/redis.js';
import { simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

const KEY = 'rotation-key-1';
const auth = { authorization: `Bearer ${KEY}` };
const secret = (c: string) => c.repeat(40);

// Who sees what, and secrets that rotate (issue 19 §4): a viewer token's record omits `worker` and
// `metadata`; the viewer-token secret rotates (the new one signs, the previous ones still verify),
// and Idempotency-Keys keep mapping to the same job across that rotation (IDEMPOTENCY_SECRET).
describe('viewer tokens and rotating secrets', () => {
  const systems: TestSystem[] = [];
  afterEach(async () => {
    await Promise.all(systems.splice(0).map((s) => s.close()));
  });
  const start = async (name: string, env: Record<string, string>, workers = 1) => {
    const s = await startSystem({ name, env: { API_KEYS: KEY, ...env }, workers });
    systems.push(s);
    return s;
  };
  const read = async (url: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  it("a viewer token's record omits worker and metadata; the key's has them", async () => {
    const sys = await start('viewer-view', {});
    const { json } = await submitJob(
      sys.url,
      { max_tokens: 50, metadata: { user: 'u_42' }, messages: [{ role: 'user', content: simPrompt({ text: 'hi there' }) }] },
      auth,
    );
    const id = String(json['id']);
    const token = encodeURIComponent(String(json['viewer_token']));
    const byKey = await read(`${sys.url}/v1/jobs/${id}?wait=10`, auth);
    expect(byKey.json).toMatchObject({ status: 'completed', metadata: { user: 'u_42' } });
    expect(byKey.json['worker']).toEqual(expect.any(String));

    for (const path of [`/v1/jobs/${id}?token=${token}`, `/v1/jobs/${id}?token=${token}&wait=1`]) {
      const byToken = await read(`${sys.url}${path}`);
      expect(byToken.status, path).toBe(200);
      expect(byToken.json).toMatchObject({ id, status: 'completed', text: 'hi there' });
      expect(byToken.json).not.toHaveProperty('worker');
      expect(byToken.json).not.toHaveProperty('metadata');
    }

    // A conversation read with its viewer token: no turn carries them.
    const conv = String(byKey.json['conversation_id']);
    const minted = await fetch(`${sys.url}/v1/conversations/${conv}/viewer-token`, { method: 'POST', headers: auth });
    const convToken = encodeURIComponent(String(((await minted.json()) as Record<string, unknown>)['token']));
    const conversation = await read(`${sys.url}/v1/conversations/${conv}?token=${convToken}`);
    expect(conversation.status).toBe(200);
    const turns = conversation.json['turns'] as Record<string, unknown>[];
    expect(turns).toHaveLength(1);
    for (const turn of turns) {
      expect(turn).not.toHaveProperty('worker');
      expect(turn).not.toHaveProperty('metadata');
    }
  });

  it('after the viewer-token secret rotates: a retried submission is the same job, old tokens verify, unknown ones do not', async () => {
    const prefix = uniquePrefix('rotation');
    const idempotency = secret('i');
    const before = await start('rotation-before', { KEY_PREFIX: prefix, VIEWER_TOKEN_SECRET: secret('a'), IDEMPOTENCY_SECRET: idempotency });
    const body = { max_tokens: 1000, messages: [{ role: 'user', content: simPrompt({ text: words(40, 'r'), tps: 20 }) }] };
    const first = await submitJob(before.url, body, { ...auth, 'idempotency-key': 'order-7' });
    expect(first.status).toBe(202);
    const id = String(first.json['id']);
    const oldToken = String(first.json['viewer_token']);

    // A node of the same deployment after the rotation: a new secret signs, the old one is "previous".
    const after = await start(
      'rotation-after',
      { KEY_PREFIX: prefix, VIEWER_TOKEN_SECRET: secret('b'), VIEWER_TOKEN_PREVIOUS_SECRETS: `${secret('z')},${secret('a')}`, IDEMPOTENCY_SECRET: idempotency },
      0,
    );
    const retry = await submitJob(after.url, body, { ...auth, 'idempotency-key': 'order-7' });
    expect(retry.status).toBe(200);
    expect(retry.json['id']).toBe(id);
    // It is still in flight: the retry found the running job, not a finished one.
    expect(['queued', 'running']).toContain(retry.json['status']);

    const withToken = (t: string) => read(`${after.url}/v1/jobs/${id}?token=${encodeURIComponent(t)}`);
    expect((await withToken(oldToken)).status).toBe(200);
    expect((await withToken(String(retry.json['viewer_token']))).status).toBe(200);
    const expiresAt = Date.now() + 60_000;
    expect((await withToken(signViewerToken(secret('b'), { subject: id, expiresAt }))).status).toBe(200);
    expect((await withToken(signViewerToken(secret('c'), { subject: id, expiresAt }))).status).toBe(401);
    // A previous secret verifies only until its tokens expire.
    expect((await withToken(signViewerToken(secret('a'), { subject: id, expiresAt: Date.now() - 1000 }))).status).toBe(401);
    // Events too, with the old token.
    const events = await fetch(`${after.url}/v1/jobs/${id}/events?token=${encodeURIComponent(oldToken)}`);
    expect(events.status).toBe(200);
    await events.body?.cancel();

    const ended = await read(`${after.url}/v1/jobs/${id}?wait=30`, auth);
    expect(ended.json).toMatchObject({ id, status: 'completed', attempt: 1 });
  });
});
