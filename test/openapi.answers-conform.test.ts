import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOf, createDocumentValidator, type Answer, type OpenApiDoc } from './support/openapi.js';
import { openSocket } from './support/socket.js';
import { readSse, type SseEvent } from './support/sse.js';
import { simPrompt, startSystem, type TestSystem } from './support/system.js';

// Every answer the server gives in the main flows, checked against the document it serves: the
// operation found by method and path template, the status and media type listed there, the body valid
// against the schema given (ajv, JSON Schema 2020-12 with formats); each SSE event against the event
// schema the operation names, each socket frame against ServerFrame.

const KEY = 'k-openapi';
const auth = { authorization: `Bearer ${KEY}` };

describe('every answer conforms to the OpenAPI document', () => {
  let sys: TestSystem;
  let validator: ReturnType<typeof createDocumentValidator>;
  const seen: Answer[] = [];

  /** Calls the API, checks the answer against the document, and returns it. */
  async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; key?: boolean } = {}) {
    const url = `${sys.url}${path}`;
    const raw = typeof init.body === 'string' ? init.body : init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers = { ...(init.key === false ? {} : auth), ...(raw === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers };
    const answer = await answerOf(method, url, await fetch(url, { method, headers, ...(raw === undefined ? {} : { body: raw }) }));
    seen.push(answer);
    expect(validator.checkAnswer(answer), `${method} ${path}`).toEqual([]);
    return answer;
  }

  /** Reads an event stream, checks the answer and each event against the schema its operation names. */
  async function stream(path: string, options: { headers?: Record<string, string>; until?: (e: SseEvent) => boolean } = {}) {
    const read = await readSse(`${sys.url}${path}`, { headers: { ...auth, ...options.headers }, ...(options.until ? { until: options.until } : {}) });
    if (read.status !== 200) {
      // Not a stream: asked again as a plain request, to check the body readSse let go.
      expect((await call('GET', path, { headers: options.headers ?? {} })).status).toBe(read.status);
      return read;
    }
    const answer: Answer = { method: 'GET', path: path.split('?')[0] ?? path, status: read.status, contentType: read.contentType, body: '' };
    seen.push(answer);
    expect(validator.checkAnswer(answer)).toEqual([]);
    const ref = validator.operationOf('GET', answer.path).operation.responses['200']?.content?.['text/event-stream']?.['x-event-schema']?.$ref;
    expect(ref).toBeDefined();
    for (const e of read.events) expect(validator.check(String(ref), { ...e, data: JSON.parse(e.data) }), `${e.event} ${e.data}`).toEqual([]);
    return read;
  }

  const body = (prompt: string, more: Record<string, unknown> = {}) => ({ max_tokens: 300, messages: [{ role: 'user', content: prompt }], ...more });
  const ended = async (id: string) => {
    for (;;) {
      const r = await call('GET', `/v1/jobs/${id}?wait=5`);
      if (r.status === 200) return r.body as Record<string, unknown>;
    }
  };

  beforeAll(async () => {
    sys = await startSystem({ name: 'openapi-answers', env: { API_KEYS: KEY, MAX_BODY_BYTES: '65536', CORS_ORIGINS: 'https://app.example' } });
    const doc = (await (await fetch(`${sys.url}/v1/openapi.json`, { headers: auth })).json()) as OpenApiDoc;
    validator = createDocumentValidator(doc);
  });
  afterAll(async () => {
    await sys.close();
  });

  it('jobs: submit, replay, read, wait, events, cancel, viewer tokens, and each refusal', async () => {
    const doc = await call('GET', '/v1/openapi.json');
    await call('GET', '/v1/openapi.json', { headers: { 'if-none-match': String((await fetch(`${sys.url}/v1/openapi.json`, { headers: auth })).headers.get('etag')) } });
    expect(doc.status).toBe(200);
    expect((await call('GET', '/v1/openapi.json', { key: false })).status).toBe(401);

    expect((await call('POST', '/v1/jobs', { body: body('hi'), key: false })).status).toBe(401);
    expect((await call('POST', '/v1/jobs', { body: 'hi', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect((await call('POST', '/v1/jobs', { body: body('x'.repeat(70_000)) })).status).toBe(413);
    expect((await call('POST', '/v1/jobs', { body: '{"max_tokens": ' })).status).toBe(400);
    expect((await call('POST', '/v1/jobs', { body: body('hi', { temperature: 1, max_tokens: 0 }) })).status).toBe(400);

    const quick = body(simPrompt({ text: 'Paris is the capital.' }));
    const first = await call('POST', '/v1/jobs', { body: quick, headers: { 'idempotency-key': 'openapi-1' } });
    expect(first.status).toBe(202);
    expect((await call('POST', '/v1/jobs', { body: quick, headers: { 'idempotency-key': 'openapi-1' } })).status).toBe(200);
    expect((await call('POST', '/v1/jobs', { body: { ...quick, max_tokens: 301 }, headers: { 'idempotency-key': 'openapi-1' } })).status).toBe(409);
    const quickId = String((first.body as { id: string }).id);

    // Thinking, text and a tool call: block_start, thinking, delta, tool_input, block_stop, done.
    const blocks = [{ type: 'thinking', thinking: 'Weather needs a tool.' }, { type: 'text', text: 'Let me look.' }, { type: 'tool_use', name: 'get_weather', input: { city: 'Paris' } }];
    const tooling = await call('POST', '/v1/jobs', { body: body(simPrompt({ blocks } as never)) });
    const toolingId = String((tooling.body as { id: string }).id);
    const events = await stream(`/v1/jobs/${toolingId}/events`);
    expect(new Set(events.events.map((e) => e.event))).toEqual(new Set(['status', 'block_start', 'thinking', 'block_stop', 'delta', 'tool_input', 'done']));
    expect((await stream(`/v1/jobs/${toolingId}/events`, { headers: { 'last-event-id': String(events.events.at(-1)?.id) } })).status).toBe(204);
    const record = await call('GET', `/v1/jobs/${toolingId}`);
    expect((record.body as { content: unknown[] }).content).toHaveLength(3);
    expect((await call('GET', `/v1/jobs/${toolingId}?wait=1`)).status).toBe(200);
    expect((await call('GET', `/v1/jobs/${toolingId}?wait=soon`)).status).toBe(400);
    expect((await call('GET', `/v1/jobs/job_${'A'.repeat(22)}`)).status).toBe(404);
    expect((await stream(`/v1/jobs/job_${'A'.repeat(22)}/events`)).status).toBe(404);

    // A slow job: waited for in vain (202), a cursor past its last event (400), cancelled (202, then 200).
    const slow = await call('POST', '/v1/jobs', { body: body(simPrompt({ tokens: 400, tps: 20 })) });
    const slowId = String((slow.body as { id: string }).id);
    await stream(`/v1/jobs/${slowId}/events`, { until: (e) => e.event === 'delta' });
    expect((await call('GET', `/v1/jobs/${slowId}`, { headers: { prefer: 'wait=1' } })).status).toBe(202);
    expect((await stream(`/v1/jobs/${slowId}/events?last_event_id=999999`)).status).toBe(400);
    expect((await call('POST', '/v1/jobs', { body: { previous_job_id: slowId, messages: [{ role: 'user', content: 'more' }] } })).status).toBe(409);
    expect((await call('POST', `/v1/jobs/${slowId}/cancel`)).status).toBe(202);
    expect((await ended(slowId))['status']).toBe('cancelled');
    expect((await call('POST', `/v1/jobs/${slowId}/cancel`)).status).toBe(200);
    expect((await call('POST', `/v1/jobs/job_${'B'.repeat(22)}/cancel`)).status).toBe(404);

    const grant = await call('POST', `/v1/jobs/${quickId}/viewer-token`);
    expect(grant.status).toBe(201);
    const token = encodeURIComponent((grant.body as { token: string }).token);
    expect((await call('GET', `/v1/jobs/${quickId}?token=${token}`, { key: false })).status).toBe(200);
    expect((await call('GET', `/v1/jobs/${toolingId}?token=${token}`, { key: false })).status).toBe(401);
    expect((await call('GET', `/v1/jobs/${quickId}/stats`)).status).toBe(200);
    expect((await call('GET', `/v1/jobs/${quickId}/stats?token=${token}`, { key: false })).status).toBe(200);
    expect((await call('GET', `/v1/jobs/job_${'D'.repeat(22)}/stats`)).status).toBe(404);
    expect((await call('POST', `/v1/jobs/job_${'C'.repeat(22)}/viewer-token`)).status).toBe(404);
  });

  it('conversations: a continued job, the conversation, its stream across turns, its viewer token', async () => {
    const one = await call('POST', '/v1/jobs', { body: body(simPrompt({ text: 'Paris is the capital.' })) });
    const oneId = String((one.body as { id: string }).id);
    const record = await ended(oneId);
    const conversation = String(record['conversation_id']);
    const two = await call('POST', '/v1/jobs', {
      body: { previous_job_id: oneId, messages: [{ role: 'user', content: simPrompt({ text: 'About two million.' }, 'How big?') }] },
    });
    expect(two.status).toBe(202);
    let dones = 0;
    const read = await stream(`/v1/conversations/${conversation}/events`, { until: (e) => e.event === 'done' && (dones += 1) === 2 });
    expect(read.events.filter((e) => e.event === 'turn').map((e) => e.id)).toEqual(['1-0', '2-0']);
    const view = await call('GET', `/v1/conversations/${conversation}`);
    expect((view.body as { turns: unknown[] }).turns).toHaveLength(2);
    expect((await stream(`/v1/conversations/${conversation}/events?last_event_id=later`)).status).toBe(400);
    expect((await call('GET', `/v1/conversations/conv_${'D'.repeat(22)}`)).status).toBe(404);
    const grant = await call('POST', `/v1/conversations/${conversation}/viewer-token`);
    expect(grant.status).toBe(201);
    const token = encodeURIComponent((grant.body as { token: string }).token);
    expect((await call('GET', `/v1/conversations/${conversation}?token=${token}`, { key: false })).status).toBe(200);
    expect((await call('POST', `/v1/conversations/conv_${'E'.repeat(22)}/viewer-token`)).status).toBe(404);
  });

  it('health, readiness, metrics, pages and CORS preflights', async () => {
    expect((await call('GET', '/healthz', { key: false })).status).toBe(200);
    expect((await call('GET', '/readyz', { key: false })).status).toBe(200);
    expect((await call('GET', '/metrics', { key: false })).status).toBe(200);
    expect((await call('GET', '/', { key: false })).status).toBe(200);
    expect((await call('GET', `/jobs/job_${'F'.repeat(22)}`, { key: false })).status).toBe(200);
    expect((await call('GET', '/favicon.ico', { key: false })).status).toBe(204);
    expect((await call('GET', '/chat', { key: false })).status).toBe(200);
    expect((await call('GET', `/chat/conv_${'F'.repeat(22)}`, { key: false })).status).toBe(200);
    expect((await call('GET', '/assets/lib/client/index.js', { key: false })).status).toBe(200);
    expect((await call('GET', '/assets/lib/server/main.js', { key: false })).status).toBe(404);
    const origin = { origin: 'https://app.example', 'access-control-request-method': 'GET' };
    expect((await call('OPTIONS', `/v1/jobs/job_${'G'.repeat(22)}/events`, { key: false, headers: origin })).status).toBe(204);
    expect((await call('OPTIONS', `/v1/conversations/conv_${'G'.repeat(22)}`, { key: false, headers: origin })).status).toBe(204);
  });

  it('the socket: every client frame sent is a ClientFrame, every server frame a ServerFrame', async () => {
    const socket = await openSocket(sys.url, { headers: auth });
    const sent = [
      { type: 'ping', id: 'p1' },
      { type: 'create', id: 'c1', idempotency_key: 'openapi-ws', subscribe: true, body: body(simPrompt({ text: 'Over the socket.' })) },
      { type: 'subscribe', id: 's1', job: `job_${'H'.repeat(22)}` },
      { type: 'cancel', id: 'x1', job: `job_${'H'.repeat(22)}` },
    ];
    for (const frame of sent) {
      expect(validator.check('#/components/schemas/ClientFrame', frame)).toEqual([]);
      socket.send(frame);
    }
    socket.send('not json');
    await socket.next((f) => f.type === 'complete' && f['id'] === 'c1');
    await socket.next((f) => f.type === 'error' && f['id'] === 'x1');
    socket.close();
    expect(new Set(socket.frames.map((f) => f.type))).toEqual(new Set(['ready', 'pong', 'created', 'subscribed', 'event', 'complete', 'error']));
    for (const frame of socket.frames) expect(validator.check('#/components/schemas/ServerFrame', frame), JSON.stringify(frame)).toEqual([]);
  });

  afterAll(() => {
    // The flows gave every status the API has (but 503, which needs Redis gone), each one checked above.
    expect([...new Set(seen.map((a) => a.status))].sort()).toEqual([200, 201, 202, 204, 304, 400, 401, 404, 409, 413, 415]);
  });
});
