import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/free-port.js';
import { startWorkerProcess, type NodeProcess } from './support/processes.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhook-receiver.js';

const secret = `whsec_${randomBytes(32).toString('base64')}`;
const verifier = new Webhook(secret);
const verify = (r: { headers: Record<string, unknown>; body: string }) =>
  verifier.verify(r.body, r.headers as Record<string, string>) as { type: string; timestamp: string; data: Record<string, unknown> };

// Webhooks end to end: a real receiver, signatures checked with the reference library
// (standardwebhooks), retries after a 500 and while the receiver is down, 410, a worker killed in the
// middle of a delivery, and the refusal of private destinations.
describe('webhooks', () => {
  let sys: TestSystem;
  const receivers: WebhookReceiver[] = [];
  const procs: NodeProcess[] = [];
  beforeAll(async () => {
    sys = await startSystem({
      name: 'webhooks',
      env: { WEBHOOK_SECRET: secret, WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_RETRY_DELAYS_MS: '200,400,800,1600', LOCK_DURATION_MS: '1000' },
    });
  });
  afterEach(async () => {
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await sys.close();
  });
  const receiver = async (port?: number) => {
    const r = await startWebhookReceiver(port);
    receivers.push(r);
    return r;
  };
  const submit = async (url: string, behaviour: Record<string, unknown>, base = sys.url) => {
    const { status, json } = await submitJob(base, {
      max_tokens: 100,
      messages: [{ role: 'user', content: simPrompt(behaviour) }],
      webhook: { url },
    });
    expect(status, JSON.stringify(json)).toBe(202);
    return String(json['id']);
  };
  const webhookState = (id: string, status: string) =>
    eventually(async () => {
      const w = (await getRecord(sys.url, id))['webhook'] as Record<string, unknown> | undefined;
      return w?.['status'] === status ? w : undefined;
    }, 20_000, `webhook ${status}`);

  it('delivers a signed job.completed with the record, once, and the record says so', async () => {
    const r = await receiver();
    // By name: the delivery resolves it, checks the address and connects to that one.
    const id = await submit(r.url.replace('127.0.0.1', 'localhost'), { text: 'hello webhook', tag: 'wh-ok' });
    const [delivery] = await r.waitFor(1);
    const payload = verify(delivery!);
    const record = await jobEnded(sys.url, id);
    expect(payload.type).toBe('job.completed');
    expect(payload.data).toMatchObject({ id, status: 'completed', text: 'hello webhook' });
    expect(payload.timestamp).toBe(record['finished_at']);
    expect(delivery!.headers['webhook-id']).toBe(`evt_${id}_completed`);
    expect(await webhookState(id, 'delivered')).toEqual({ status: 'delivered', attempts: 1, last_status: 200, last_error: null });
    await new Promise((res) => setTimeout(res, 500));
    expect(r.received).toHaveLength(1);
  });

  it('a failed and a cancelled job are job.failed and job.cancelled', async () => {
    const r = await receiver();
    const failed = await submit(r.url, { fault: 'http_400', tag: 'wh-failed' });
    const running = await submit(r.url, { tokens: 400, tps: 20, tag: 'wh-cancel' });
    await eventually(async () => ((await getRecord(sys.url, running))['status'] === 'running' ? true : undefined));
    await fetch(`${sys.url}/v1/jobs/${running}/cancel`, { method: 'POST' });
    const got = await r.waitFor(2);
    const byJob = new Map(got.map((d) => [verify(d).data['id'], verify(d).type]));
    expect(byJob.get(failed)).toBe('job.failed');
    expect(byJob.get(running)).toBe('job.cancelled');
  });

  it('retries after a 500 with the same id and body, on the schedule, until a 2xx', async () => {
    const r = await receiver();
    r.answers = [500, 500];
    const id = await submit(r.url, { text: 'try again', tag: 'wh-500' });
    const got = await r.waitFor(3);
    for (const d of got) verify(d);
    expect(new Set(got.map((d) => d.headers['webhook-id'])).size).toBe(1);
    expect(new Set(got.map((d) => d.body)).size).toBe(1);
    // WEBHOOK_RETRY_DELAYS_MS=200,400: each wait at least 80 % of its step.
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(160);
    expect(got[2]!.at - got[1]!.at).toBeGreaterThanOrEqual(320);
    expect(await webhookState(id, 'delivered')).toMatchObject({ attempts: 3, last_status: 200 });
  });

  it('a receiver that is down for a while gets the delivery once it is back', async () => {
    const port = await freePort();
    const id = await submit(`http://127.0.0.1:${port}/late`, { text: 'eventually', tag: 'wh-down' });
    const pending = await webhookState(id, 'pending').then(() =>
      eventually(async () => {
        const w = (await getRecord(sys.url, id))['webhook'] as Record<string, unknown>;
        return Number(w['attempts']) >= 2 ? w : undefined;
      }),
    );
    expect(pending['last_error']).toMatch(/ECONNREFUSED/);
    const r = await receiver(port);
    const [delivery] = await r.waitFor(1, 10_000);
    expect(verify(delivery!).data['id']).toBe(id);
    expect(await webhookState(id, 'delivered')).toMatchObject({ last_status: 200 });
  });

  it('410 stops the deliveries', async () => {
    const r = await receiver();
    r.answers = [410];
    const id = await submit(r.url, { text: 'unwanted', tag: 'wh-410' });
    expect(await webhookState(id, 'gone')).toMatchObject({ attempts: 1, last_status: 410 });
    await new Promise((res) => setTimeout(res, 800));
    expect(r.received).toHaveLength(1);
  });

  it('a worker killed in the middle of a delivery loses nothing: another worker delivers it', async () => {
    const r = await receiver();
    r.answers = ['hold'];
    // Only worker processes from here on: the in-process one stops.
    await Promise.all(sys.workers.splice(0).map((w) => w.close(1000)));
    const env = {
      REDIS_URL: sys.config.redisUrl,
      KEY_PREFIX: sys.config.keyPrefix,
      ANTHROPIC_BASE_URL: sys.sim.url,
      ANTHROPIC_API_KEY: 'test-key',
      WEBHOOK_SECRET: secret,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_DELAYS_MS: '200,400,800',
      LOCK_DURATION_MS: '1000',
    };
    const first = await startWorkerProcess(env);
    procs.push(first);
    const id = await submit(r.url, { text: 'at least once', tag: 'wh-crash' });
    await r.waitFor(1);
    await first.stop('SIGKILL');
    const second = await startWorkerProcess(env);
    procs.push(second);
    const got = await r.waitFor(2, 20_000);
    expect(verify(got[1]!).data).toMatchObject({ id, text: 'at least once' });
    expect(got[1]!.headers['webhook-id']).toBe(got[0]!.headers['webhook-id']);
    expect(await webhookState(id, 'delivered')).toMatchObject({ last_status: 200 });
  });
});

describe('webhook destinations that could reach inside', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'webhooks-ssrf', env: { WEBHOOK_SECRET: secret, WEBHOOK_RETRY_DELAYS_MS: '100' } });
  });
  afterAll(async () => {
    await sys.close();
  });
  const body = (url: string) => ({ max_tokens: 10, messages: [{ role: 'user', content: simPrompt({ tokens: 2 }) }], webhook: { url } });

  it('are refused at submit when the URL says so: a private or loopback IP, localhost, plain http', async () => {
    for (const url of [
      'https://127.0.0.1/hook',
      'https://10.1.2.3/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]/hook',
      'https://[::ffff:192.168.0.1]/hook',
      'https://localhost/hook',
      'http://example.com/hook',
      'not a url',
    ]) {
      const { status, json } = await submitJob(sys.url, body(url));
      expect(status, url).toBe(400);
      expect((json['errors'] as { path: string }[])[0]?.path, url).toBe('/webhook/url');
    }
  });

  it('are refused at delivery when the name resolves to a private address, with no retry', async () => {
    // This machine's own name resolves to a loopback or private address.
    const { status, json } = await submitJob(sys.url, body(`https://${hostname()}/hook`));
    expect(status).toBe(202);
    const id = String(json['id']);
    const w = await eventually(async () => {
      const state = (await getRecord(sys.url, id))['webhook'] as Record<string, unknown> | undefined;
      return state?.['status'] === 'refused' ? state : undefined;
    }, 20_000, 'refused');
    expect(w).toMatchObject({ attempts: 1, last_status: null, last_error: expect.stringMatching(/resolves to .*(loopback|private)/) });
  });

  it('are refused without WEBHOOK_SECRET: webhooks are off', async () => {
    const off = await startSystem({ name: 'webhooks-off', workers: 0 });
    try {
      const { status, json } = await submitJob(off.url, body('https://example.com/hook'));
      expect(status).toBe(400);
      expect((json['errors'] as { path: string; message: string }[])[0]).toMatchObject({ path: '/webhook', message: expect.stringMatching(/WEBHOOK_SECRET/) });
    } finally {
      await off.close();
    }
  });
});
