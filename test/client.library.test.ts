import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// Through the package's own export, as a service imports it (npm test builds dist/ first).
import { collectText, ConnectionError, createClient, createContentFold, ProblemError, WaitTimeoutError, type ConversationEvent, type StreamEvent } from 'genrelay/client';
import { freePort } from './support/free-port.js';
import { startCluster, startNode, type Cluster, type NodeProcess } from './support/processes.js';
import { jobEnded, simPrompt, words } from './support/system.js';

/** A load balancer in front of the API that answers 503 with Retry-After while `down` is set. */
async function startFront(target: string): Promise<{ url: string; down: boolean; refused: number; close(): Promise<void> }> {
  const to = new URL(target);
  const front = {
    url: '',
    down: false,
    refused: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    if (front.down) {
      front.refused += 1;
      res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'about:blank', title: 'Service unavailable', status: 503, detail: 'deploying' }));
      return;
    }
    const up = httpRequest({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return front;
}

// genrelay/client against real API and worker processes: follow resumes by itself across an API
// restart and a killed API, yields nothing twice, ends after done; errors are typed; wait loops on
// the server's ?wait=.
describe('genrelay/client', () => {
  let cluster: Cluster;
  let port: number;
  let api: NodeProcess;
  let url: string;
  const startApi = async () => {
    const p = startNode('api/main.ts', { ...cluster.env, PORT: String(port) });
    await p.waitForLog((l) => l['msg'] === 'api listening');
    return p;
  };
  beforeAll(async () => {
    cluster = await startCluster('client');
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    [api] = await Promise.all([startApi(), cluster.worker()]);
  });
  afterAll(async () => {
    await api.stop('SIGKILL');
    await cluster.stop();
  });
  const client = () => createClient({ baseUrl: url });

  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    it(`follow goes on across an API node ${how === 'SIGTERM' ? 'restarted' : 'killed and restarted'} mid-stream: every event once, in order, to done`, async () => {
      const text = words(80, `r${how}`);
      const job = await client().jobs.create({ max_tokens: 1000, messages: [{ role: 'user', content: simPrompt({ text, tps: 20 }) }] });
      const seen: StreamEvent[] = [];
      const states: string[] = [];
      let restarted: Promise<void> | undefined;
      for await (const event of client().jobs.follow(job.id, { onState: (s) => states.push(s.kind) })) {
        seen.push(event);
        if (event.type === 'delta' && seen.filter((e) => e.type === 'delta').length === 10) {
          restarted ??= (async () => {
            await api.stop(how, 15_000);
            api = await startApi();
          })();
        }
      }
      await restarted;
      expect(seen.map((e) => e.id)).toEqual(seen.map((_, i) => i + 1));
      expect(seen.at(-1)?.type).toBe('done');
      expect(states.filter((s) => s === 'reconnecting').length).toBeGreaterThan(0);
      const record = await jobEnded(url, job.id);
      expect(collectText(seen)).toBe(record['text']);
      expect(record['text']).toBe(text);
    });
  }

  it('conversations: previous_job_id continues, follow goes turn after turn across an API restart, the fold rebuilds each reply', async () => {
    const genrelay = client();
    const first = await genrelay.jobs.create({ max_tokens: 200, messages: [{ role: 'user', content: simPrompt({ text: words(30, 'one'), tps: 40 }) }] });
    const firstRecord = await genrelay.jobs.wait(first.id);
    const conversationId = String(firstRecord.conversation_id);
    const abort = new AbortController();
    const seen: ConversationEvent[] = [];
    let second = '';
    let restarted: Promise<void> | undefined;
    const fold = createContentFold();
    const replies: unknown[] = [];
    try {
      for await (const event of genrelay.conversations.follow(conversationId, { signal: abort.signal })) {
        seen.push(event);
        if (event.type === 'turn') fold.apply({ type: 'reset', data: {} });
        fold.apply(event);
        if (event.type === 'done') replies.push(fold.content());
        if (event.type === 'done' && event.turn === 1) {
          second = (await genrelay.jobs.create({ previous_job_id: first.id, messages: [{ role: 'user', content: simPrompt({ text: words(60, 'two'), tps: 30 }) }] })).id;
        }
        if (event.type === 'delta' && event.turn === 2 && event.seq === 8) {
          restarted ??= (async () => {
            await api.stop('SIGTERM', 15_000);
            api = await startApi();
          })();
        }
        if (event.type === 'done' && event.turn === 2) abort.abort();
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    }
    await restarted;
    expect(seen.map((e) => e.id)).toEqual([...new Set(seen.map((e) => e.id))]);
    expect(seen.filter((e) => e.type === 'turn').map((e) => e.data)).toEqual([
      { job_id: first.id, turn: 1, previous_job_id: null },
      { job_id: second, turn: 2, previous_job_id: first.id },
    ]);
    const view = await genrelay.conversations.get(conversationId);
    expect(view.turns.map((t) => t.content)).toEqual(replies);
    expect(view.turns[1]?.content).toEqual([{ type: 'text', text: words(60, 'two') }]);
  });

  it('follow from a cursor gets exactly the rest; a cursor at done ends at once', async () => {
    const job = await client().jobs.create({ max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ tokens: 20 }) }] });
    const all: StreamEvent[] = [];
    for await (const e of client().jobs.follow(job.id)) all.push(e);
    const rest: StreamEvent[] = [];
    for await (const e of client().jobs.follow(job.id, { after: 5 })) rest.push(e);
    expect(rest).toEqual(all.slice(5));
    const none: StreamEvent[] = [];
    for await (const e of client().jobs.follow(job.id, { after: all.length })) none.push(e);
    expect(none).toEqual([]);
  });

  it('honours Retry-After from a load balancer answering 503, then streams through it', async () => {
    const front = await startFront(url);
    try {
      const via = createClient({ baseUrl: front.url });
      const job = await via.jobs.create({ max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ tokens: 10, tps: 50 }) }] });
      front.down = true;
      const started = Date.now();
      const states: { kind: string; inMs?: number }[] = [];
      setTimeout(() => (front.down = false), 1500);
      const events: StreamEvent[] = [];
      for await (const e of via.jobs.follow(job.id, { onState: (s) => states.push(s) })) events.push(e);
      expect(events.at(-1)?.type).toBe('done');
      expect(front.refused).toBeGreaterThan(0);
      // Each wait after a 503 was at least the second it asked for.
      expect(states.filter((s) => s.kind === 'reconnecting').every((s) => (s.inMs ?? 0) >= 1000)).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    } finally {
      await front.close();
    }
  });

  it('errors are typed: a problem with its fields, an unreachable server, a follow of no such job', async () => {
    const c = client();
    const invalid = await c.jobs.create({ max_tokens: 0, messages: [] }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ProblemError);
    expect(invalid).toMatchObject({ status: 400, type: 'urn:genrelay:problem:validation_failed' });
    expect((invalid as ProblemError).errors.map((e) => e.path)).toEqual(expect.arrayContaining(['/messages', '/max_tokens']));
    const missing = await c.jobs.get('job_AAAAAAAAAAAAAAAAAAAAAA').catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'ProblemError', status: 404, title: 'Not found' });
    const follow = async () => {
      for await (const e of c.jobs.follow('job_AAAAAAAAAAAAAAAAAAAAAA')) void e;
    };
    await expect(follow()).rejects.toMatchObject({ name: 'ProblemError', status: 404 });
    const nowhere = await createClient({ baseUrl: 'http://127.0.0.1:1' }).jobs.get('job_AAAAAAAAAAAAAAAAAAAAAA').catch((e: unknown) => e);
    expect(nowhere).toBeInstanceOf(ConnectionError);
  });

  it('wait returns the ended record, or gives up with the record so far; a viewer token reads without a key', async () => {
    const c = client();
    const quick = await c.jobs.create({ max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ tokens: 10, tps: 20 }) }] });
    expect(await c.jobs.wait(quick.id)).toMatchObject({ status: 'completed' });
    const slow = await c.jobs.create({ max_tokens: 1000, messages: [{ role: 'user', content: simPrompt({ tokens: 400, tps: 20 }) }] });
    const timedOut = await c.jobs.wait(slow.id, { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(WaitTimeoutError);
    expect(['queued', 'running']).toContain((timedOut as WaitTimeoutError).record.status);
    const viewer = createClient({ baseUrl: url, token: slow.viewer_token });
    expect((await viewer.jobs.get(slow.id)).id).toBe(slow.id);
    expect(await c.jobs.cancel(slow.id)).toMatchObject({ id: slow.id });
    expect(await viewer.jobs.wait(slow.id)).toMatchObject({ status: 'cancelled' });
    const grant = await c.jobs.viewerToken(slow.id);
    expect(grant.viewer_url).toContain(`/jobs/${slow.id}?token=`);
  });

  it('the same Idempotency-Key and body give the same job', async () => {
    const body = { max_tokens: 10, messages: [{ role: 'user' as const, content: simPrompt({ tokens: 2 }) }] };
    const key = `client-${Math.random()}`;
    const [a, b] = [await client().jobs.create(body, { idempotencyKey: key }), await client().jobs.create(body, { idempotencyKey: key })];
    expect(b.id).toBe(a.id);
  });
});
