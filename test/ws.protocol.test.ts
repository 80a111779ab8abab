import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type ApiServer } from '../src/api/create-api.js';
import { createLogger } from '../src/shared/logger.js';
import { backend, backendNames } from './support/redis.js';
import { eventsOf, openSocket, type Frame } from './support/socket.js';
import { readSse } from './support/sse.js';
import { eventually, jobEnded, simPrompt, startSystem, submitJob, words, type TestSystem } from './support/system.js';

// The socket (API.md "The WebSocket") on two API nodes and two workers: the same events, ids and
// replay as SSE from the same relay code; create, cancel and subscribe across nodes; bad input kept
// on a healthy socket.
describe.each(backendNames)('the WebSocket, on %s', (on) => {
  let sys: TestSystem;
  let nodeB: ApiServer;
  beforeAll(async () => {
    sys = await startSystem({ name: 'ws', workers: 2, env: { ...backend(on).env } });
    nodeB = await startApi(sys.config, createLogger('silent', 'test'));
  });
  afterAll(async () => {
    await nodeB.close();
    await sys.close();
  });

  it('a job created on node A, followed on node B: the same events, ids and data as SSE, then complete', async () => {
    const { json } = await submitJob(sys.url, { max_tokens: 200, messages: [{ role: 'user', content: simPrompt({ text: words(30, 'w'), tps: 100 }) }] });
    const id = String(json['id']);
    const socket = await openSocket(nodeB.url);
    try {
      await socket.next((f) => f.type === 'ready');
      socket.send({ type: 'subscribe', id: 's1', job: id });
      await socket.next((f) => f.type === 'complete' && f['id'] === 's1');
      expect(socket.frames.find((f) => f.type === 'subscribed')).toMatchObject({ id: 's1', job: id, open_blocks: [] });
      const events = eventsOf(socket.frames, id);
      const sse = await readSse(`${sys.url}/v1/jobs/${id}/events`);
      expect(events.map((e) => [e['seq'], e['event'], e['data']])).toEqual(sse.events.map((e) => [Number(e.id), e.event, JSON.parse(e.data)]));
      // Resumed from a cursor: exactly the rest.
      socket.send({ type: 'subscribe', id: 's2', job: id, after: 5 });
      await socket.next((f) => f.type === 'complete' && f['id'] === 's2');
      const again = eventsOf(socket.frames, id).slice(events.length);
      expect(again.map((e) => e['seq'])).toEqual(events.slice(5).map((e) => e['seq']));
    } finally {
      socket.close();
    }
  });

  it('create with an idempotency key runs once however often it is sent; subscribe:true streams it; a cancel on node B stops the worker', async () => {
    const socket = await openSocket(nodeB.url);
    try {
      await socket.next((f) => f.type === 'ready');
      const body = { max_tokens: 500, messages: [{ role: 'user', content: simPrompt({ tokens: 300, tps: 20, tag: `ws-cancel-${on}` }) }] };
      socket.send({ type: 'create', id: 'c1', body, idempotency_key: `k-${on}`, subscribe: true });
      const created = await socket.next((f) => f.type === 'created');
      const job = String((created['job'] as { id: string }).id);
      // The same turn sent again (a client that reconnected): the same job.
      socket.send({ type: 'create', id: 'c2', body, idempotency_key: `k-${on}` });
      expect(((await socket.next((f) => f.type === 'created' && f['id'] === 'c2'))['job'] as { id: string }).id).toBe(job);
      await socket.next((f) => f.type === 'event' && f['event'] === 'delta');
      const other = await openSocket(sys.url);
      await other.next((f) => f.type === 'ready');
      other.send({ type: 'cancel', id: 'x', job });
      expect(await other.next((f) => f.type === 'cancelled')).toMatchObject({ id: 'x', job, outcome: 'requested' });
      other.close();
      await socket.next((f) => f.type === 'complete' && f['id'] === 'c1');
      expect(eventsOf(socket.frames, job).at(-1)).toMatchObject({ event: 'done', data: { status: 'cancelled' } });
      expect(sys.sim.requests.filter((r) => r.tag === `ws-cancel-${on}`).map((r) => r.outcome)).toEqual(['client_closed']);
    } finally {
      socket.close();
    }
  });

  it('bad input gets error frames and the socket stays open; a dropped socket cancels nothing', async () => {
    const socket = await openSocket(sys.url);
    await socket.next((f) => f.type === 'ready');
    socket.send('{not json');
    socket.send({ type: 'launch', id: 'a' });
    socket.send({ type: 'create', id: 'b', body: { max_tokens: 10, messages: [], temperature: 1 } });
    socket.send({ type: 'subscribe', id: 'c', job: 'job_AAAAAAAAAAAAAAAAAAAAAA' });
    socket.send({ type: 'unsubscribe', id: 'nope' });
    socket.send({ type: 'subscribe', id: 'd', job: 'job_x', conversation: 'conv_y' });
    socket.send({ type: 'ping', id: 'p' });
    await socket.next((f) => f.type === 'pong' && f['id'] === 'p');
    await eventually(async () => (socket.frames.filter((f) => f.type === 'error').length === 6 ? true : undefined));
    const errors = socket.frames.filter((f) => f.type === 'error') as (Frame & { problem: { status: number; errors?: { path: string }[] } })[];
    const byId = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect(errors.map((e) => [e['id'] ?? null, e.problem.status]).sort(byId)).toEqual([
      [null, 400],
      ['a', 400],
      ['b', 400],
      ['c', 404],
      ['nope', 404],
      ['d', 400],
    ].sort(byId));
    expect(errors.find((e) => e['id'] === 'b')?.problem.errors?.map((e) => e.path)).toEqual(expect.arrayContaining(['/temperature']));
    // A running job whose only viewer's socket drops runs on.
    const { json } = await submitJob(sys.url, { max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ text: words(20, 'd'), tps: 50 }) }] });
    socket.send({ type: 'subscribe', id: 'live', job: String(json['id']) });
    await socket.next((f) => f.type === 'event' && f['event'] === 'delta');
    socket.ws.terminate();
    expect(await jobEnded(sys.url, String(json['id']))).toMatchObject({ status: 'completed', text: words(20, 'd') });
  });

  it('a conversation subscription follows every turn, opened before the next exists', async () => {
    const first = String((await submitJob(sys.url, { max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ text: 'One.' }) }] })).json['id']);
    const record = await jobEnded(sys.url, first);
    const conversation = String(record['conversation_id']);
    const socket = await openSocket(nodeB.url);
    try {
      await socket.next((f) => f.type === 'ready');
      socket.send({ type: 'subscribe', id: 'cv', conversation });
      await socket.next((f) => f['conversation'] === conversation && f['event'] === 'done' && f['turn'] === 1);
      const second = String((await submitJob(sys.url, { previous_job_id: first, messages: [{ role: 'user', content: simPrompt({ text: 'Two.' }) }] })).json['id']);
      await socket.next((f) => f['conversation'] === conversation && f['event'] === 'done' && f['turn'] === 2);
      const turns = socket.frames.filter((f) => f['event'] === 'turn').map((f) => f['data']);
      expect(turns).toEqual([
        { job_id: first, turn: 1, previous_job_id: null },
        { job_id: second, turn: 2, previous_job_id: first },
      ]);
      const deltas = socket.frames.filter((f) => f['event'] === 'delta').map((f) => (f['data'] as { text: string }).text).join('');
      expect(deltas).toBe('One.Two.');
    } finally {
      socket.close();
    }
  });

  it('resuming in the middle of a tool call: the subscription says which blocks are open', async () => {
    const input = { query: 'x'.repeat(60) };
    const { json } = await submitJob(sys.url, {
      max_tokens: 500,
      messages: [{ role: 'user', content: simPrompt({ blocks: [{ type: 'tool_use', id: 'toolu_open', name: 'search', input, split: Array(30).fill(3) }], tps: 200 } as never) }],
    });
    const id = String(json['id']);
    await jobEnded(sys.url, id);
    const sse = await readSse(`${sys.url}/v1/jobs/${id}/events`);
    const inside = sse.events.findIndex((e) => e.event === 'tool_input') + 2;
    const socket = await openSocket(sys.url);
    try {
      await socket.next((f) => f.type === 'ready');
      socket.send({ type: 'subscribe', id: 'r', job: id, after: Number(sse.events[inside]?.id) });
      expect(await socket.next((f) => f.type === 'subscribed')).toMatchObject({
        open_blocks: [{ index: 0, block: { type: 'tool_use', id: 'toolu_open', name: 'search' } }],
      });
    } finally {
      socket.close();
    }
  });
});

describe('the WebSocket: limits, credentials, liveness', () => {
  let sys: TestSystem;
  let quick: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({
      name: 'ws-limits',
      env: { API_KEYS: 'k1', MAX_BODY_BYTES: '65536', VIEWER_BUFFER_BYTES: '262144' },
      apiOptions: { socketAuthWindowMs: 500 },
    });
    // Pings every 300 ms (only the mute socket's test uses it), at most 6 connections.
    quick = await startSystem({ name: 'ws-quick', env: { API_KEYS: 'k1', MAX_CONNECTIONS: '6' }, apiOptions: { socketPingMs: 300 } });
  });
  afterAll(async () => {
    await quick.close();
  });
  afterAll(async () => {
    await sys.close();
  });
  const auth = { authorization: 'Bearer k1' };

  it('credentials: on the upgrade, or a first auth frame in time (4401 otherwise); a viewer token reads its own job only', async () => {
    const header = await openSocket(sys.url, { headers: auth });
    expect(await header.next((f) => f.type === 'ready')).toMatchObject({ access: 'key' });
    header.close();
    const late = await openSocket(sys.url);
    expect((await late.closed).code).toBe(4401);
    const wrong = await openSocket(sys.url);
    wrong.send({ type: 'auth', key: 'nope' });
    expect((await wrong.closed).code).toBe(4401);
    // A wrong key on the upgrade is refused before any socket exists.
    const badHeader = await openSocket(sys.url, { headers: { authorization: 'Bearer nope' } });
    expect(badHeader.ws.readyState).not.toBe(badHeader.ws.OPEN);
    badHeader.ws.terminate();

    const a = await submitJob(sys.url, { max_tokens: 20, messages: [{ role: 'user', content: simPrompt({ text: 'A' }) }] }, auth);
    const b = await submitJob(sys.url, { max_tokens: 20, messages: [{ role: 'user', content: simPrompt({ text: 'B' }) }] }, auth);
    const viewer = await openSocket(sys.url);
    viewer.send({ type: 'auth', token: String(a.json['viewer_token']) });
    expect(await viewer.next((f) => f.type === 'ready')).toMatchObject({ access: 'viewer' });
    viewer.send({ type: 'subscribe', id: 'mine', job: String(a.json['id']) });
    viewer.send({ type: 'subscribe', id: 'theirs', job: String(b.json['id']) });
    viewer.send({ type: 'create', id: 'make', body: { max_tokens: 5, messages: [{ role: 'user', content: 'x' }] } });
    await viewer.next((f) => f.type === 'complete' && f['id'] === 'mine');
    await viewer.next((f) => f.type === 'error' && f['id'] === 'make');
    await viewer.next((f) => f.type === 'error' && f['id'] === 'theirs');
    expect(viewer.frames.filter((f) => f.type === 'error').map((f) => [f['id'], (f['problem'] as { status: number }).status]).sort()).toEqual([
      ['make', 401],
      ['theirs', 401],
    ]);
    viewer.close();
  });

  it('a frame over MAX_BODY_BYTES closes the socket with 1009', async () => {
    const socket = await openSocket(sys.url, { headers: auth });
    await socket.next((f) => f.type === 'ready');
    socket.send({ type: 'ping', id: 'x'.repeat(70_000) });
    expect((await socket.closed).code).toBe(1009);
  });

  it('a client that stops reading is closed with 1013 once it owes VIEWER_BUFFER_BYTES; the job goes on', async () => {
    // 12 MB: beyond what the kernel's socket buffers on loopback take for the client that stopped.
    const { json } = await submitJob(sys.url, { max_tokens: 8000, messages: [{ role: 'user', content: simPrompt({ tokens: 1500, chunk: 8000, tps: 1500 }) }] }, auth);
    const id = String(json['id']);
    const slow = await openSocket(sys.url, { headers: auth });
    await slow.next((f) => f.type === 'ready');
    slow.send({ type: 'subscribe', id: 's', job: id });
    await slow.next((f) => f.type === 'event');
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await eventually(async () => {
      const res = await fetch(`${sys.url}/v1/jobs/${id}`, { headers: auth });
      return ((await res.json()) as { status: string }).status === 'completed' ? true : undefined;
    }, 45_000);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect((await slow.closed).code).toBe(1013);
    const metrics = await (await fetch(`${sys.url}/metrics`)).text();
    expect(metrics).toMatch(/^genrelay_viewer_slow_disconnects_total\{transport="ws"\} [1-9]/m);
  });

  it('a socket that stops answering pings is dropped; subscriptions per socket are bounded; sockets count as connections', async () => {
    const mute = await openSocket(quick.url, { headers: auth, autoPong: false });
    await mute.next((f) => f.type === 'ready');
    expect((await mute.closed).code).toBe(1006);

    const many = await openSocket(sys.url, { headers: auth });
    await many.next((f) => f.type === 'ready');
    const { json } = await submitJob(sys.url, { max_tokens: 20, messages: [{ role: 'user', content: simPrompt({ text: 'x', ttft_ms: 5000 }) }] }, auth);
    many.send({ type: 'subscribe', id: 'one', job: String(json['id']) });
    many.send({ type: 'subscribe', id: 'two', job: String(json['id']) });
    await many.next((f) => f.type === 'error' && f['id'] === 'two');
    for (let i = 0; i < 100; i += 1) {
      const r = await submitJob(sys.url, { max_tokens: 20, messages: [{ role: 'user', content: simPrompt({ text: 'y', ttft_ms: 5000 }) }] }, auth);
      many.send({ type: 'subscribe', id: `n${i}`, job: String(r.json['id']) });
    }
    const over = await many.next((f) => f.type === 'error' && String(f['id']).startsWith('n'));
    expect(over['id']).toBe('n99');
    expect(String((over['problem'] as { detail: string }).detail)).toMatch(/at most 100/);
    many.close();

    const open: Awaited<ReturnType<typeof openSocket>>[] = [];
    for (let i = 0; i < 8; i += 1) open.push(await openSocket(quick.url, { headers: auth }));
    const refused = await eventually(async () => (open.filter((s) => s.ws.readyState !== s.ws.OPEN).length > 0 ? true : undefined), 5000);
    expect(refused).toBe(true);
    for (const s of open) s.close();
  });
});
