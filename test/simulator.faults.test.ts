import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { startSimulator, type SimRequestRecord } from '../src/simulator/index.js';
import { SIM_MODEL, simRequest, useSimulatorClient } from './support/simulator-client.js';

const ctx = useSimulatorClient();

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Iterates a `create({stream: true})` stream, counting text deltas, and returns them with the error. */
async function drain(directive: object, signal?: AbortSignal): Promise<{ deltas: number; error: unknown }> {
  let deltas = 0;
  try {
    const stream = await ctx.client.messages.create({ ...simRequest(directive), stream: true }, signal ? { signal } : {});
    for await (const e of stream) if (e.type === 'content_block_delta') deltas++;
  } catch (error) {
    return { deltas, error };
  }
  return { deltas, error: undefined };
}

async function recordsTagged(tag: string): Promise<SimRequestRecord[]> {
  const res = await fetch(`${ctx.sim.url}/_sim/requests?tag=${encodeURIComponent(tag)}`);
  expect(res.headers.get('content-type')).toBe('application/json');
  return (await res.json()) as SimRequestRecord[];
}

describe('simulator faults: HTTP errors before the stream', () => {
  const cases = [
    ['http_400', 400, Anthropic.BadRequestError, 'invalid_request_error'],
    ['http_401', 401, Anthropic.AuthenticationError, 'authentication_error'],
    ['http_403', 403, Anthropic.PermissionDeniedError, 'permission_error'],
    ['http_404', 404, Anthropic.NotFoundError, 'not_found_error'],
    ['http_413', 413, APIError, 'request_too_large'],
    ['http_429', 429, Anthropic.RateLimitError, 'rate_limit_error'],
    ['http_500', 500, Anthropic.InternalServerError, 'api_error'],
    ['http_529', 529, Anthropic.InternalServerError, 'overloaded_error'],
  ] as const;

  it.each(cases)('%s surfaces as status %i, the right class and the real body', async (fault, status, cls, type) => {
    const err = await caught(ctx.client.messages.create({ ...simRequest({ fault }), stream: true }));
    expect(err).toBeInstanceOf(cls);
    const apiErr = err as APIError;
    expect(apiErr.status).toBe(status);
    expect(apiErr.type).toBe(type);
    expect(apiErr.requestID).toMatch(/^req_/);
    expect(apiErr.error).toEqual({
      type: 'error',
      error: { type, message: expect.any(String) },
      request_id: apiErr.requestID,
    });
    expect(apiErr.headers?.get('content-type')).toBe('application/json');
  });

  it('maps 413 and 529 to the SDK classes made for them', async () => {
    const tooLarge = await caught(ctx.client.messages.create(simRequest({ fault: 'http_413' })));
    expect((tooLarge as Error).name).toBe('ContentTooLargeError');
    const overloaded = await caught(ctx.client.messages.create(simRequest({ fault: 'http_529' })));
    expect((overloaded as Error).name).toBe('OverloadedError');
  });

  it('429 carries retry-after and the ratelimit headers; 529 carries retry-after when asked', async () => {
    const err = (await caught(ctx.client.messages.create(simRequest({ fault: 'http_429', retry_after: 7 })))) as APIError;
    expect(err.headers?.get('retry-after')).toBe('7');
    expect(err.headers?.get('anthropic-ratelimit-requests-limit')).toMatch(/^\d+$/);
    expect(err.headers?.get('anthropic-ratelimit-requests-remaining')).toBe('0');
    expect(Date.parse(err.headers?.get('anthropic-ratelimit-requests-reset') ?? '')).toBeGreaterThan(Date.now());
    const overloaded = (await caught(ctx.client.messages.create(simRequest({ fault: 'http_529', retry_after: 3 })))) as APIError;
    expect(overloaded.headers?.get('retry-after')).toBe('3');
    const plain = (await caught(ctx.client.messages.create(simRequest({ fault: 'http_529' })))) as APIError;
    expect(plain.headers?.get('retry-after')).toBeNull();
  });

  it('refuses a request without credentials with 401 authentication_error', async () => {
    const keyless = new Anthropic({ apiKey: null, baseURL: ctx.sim.url, maxRetries: 0, defaultHeaders: { Authorization: null } });
    const err = await caught(keyless.messages.create(simRequest({})));
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((err as APIError).error).toMatchObject({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  });

  it('validates like the real API: missing max_tokens, empty messages, unknown model, unknown path', async () => {
    const noMax = (await caught(ctx.client.messages.create({ model: SIM_MODEL, messages: [{ role: 'user', content: 'x' }] } as unknown as Anthropic.MessageCreateParamsNonStreaming))) as APIError;
    expect(noMax).toBeInstanceOf(Anthropic.BadRequestError);
    expect(noMax.error).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' }, request_id: noMax.requestID });
    const empty = (await caught(ctx.client.messages.create({ model: SIM_MODEL, max_tokens: 10, messages: [] }))) as APIError;
    expect(empty).toBeInstanceOf(Anthropic.BadRequestError);
    expect(empty.type).toBe('invalid_request_error');
    expect(empty.apiMessage).toMatch(/^messages: /);
    const model = (await caught(ctx.client.messages.create({ ...simRequest({}), model: 'gpt-4o' }))) as APIError;
    expect(model).toBeInstanceOf(Anthropic.NotFoundError);
    expect(model.apiMessage).toBe('model: gpt-4o');
    const path = await fetch(`${ctx.sim.url}/v1/nothing`, { method: 'POST', headers: { 'x-api-key': 'k' }, body: '{}' });
    expect(path.status).toBe(404);
    expect(path.headers.get('request-id')).toMatch(/^req_/);
    expect(await path.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    const typo = (await caught(ctx.client.messages.create(simRequest({ fault_afterr: 1 })))) as APIError;
    expect(typo.status).toBe(400);
    expect(typo.apiMessage).toMatch(/sim directive/);
  });
});

describe('simulator faults: mid-stream', () => {
  it('error_event after N deltas → APIError with no status and type overloaded_error', async () => {
    const { deltas, error } = await drain({ tokens: 10, fault: 'error_event', fault_after: 4 });
    expect(deltas).toBe(4);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBeUndefined();
    expect((error as APIError).type).toBe('overloaded_error');
    const streamed = await caught(ctx.client.messages.stream(simRequest({ fault: 'error_event', error_type: 'api_error' })).finalMessage());
    expect((streamed as APIError).type).toBe('api_error');
  });

  it('drop destroys the socket after N deltas and the SDK iteration throws', async () => {
    const { deltas, error } = await drain({ tokens: 10, fault: 'drop', fault_after: 3, tag: 'drop' });
    expect(deltas).toBe(3);
    expect(error).toBeInstanceOf(Error);
    expect(ctx.sim.requests.find((r) => r.tag === 'drop')).toMatchObject({ outcome: 'fault', fault: 'drop', deltasSent: 3 });
    // All deltas due in the same tick as the drop: they must still reach the client before the socket dies.
    const burst = await drain({ tokens: 50, tps: 1e9, fault: 'drop', fault_after: 30 });
    expect(burst.deltas).toBe(30);
    expect(burst.error).toBeInstanceOf(Error);
  });

  it('stall sends nothing after N deltas, not even pings, until the client aborts', async () => {
    const controller = new AbortController();
    const res = await fetch(`${ctx.sim.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'test' },
      body: JSON.stringify({ ...simRequest({ tokens: 10, fault: 'stall', fault_after: 2, ping_ms: 20, tag: 'stall' }), stream: true }),
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 300);
    let body = '';
    const decoder = new TextDecoder();
    await expect(
      (async () => {
        for await (const chunk of res.body as AsyncIterable<Uint8Array>) body += decoder.decode(chunk, { stream: true });
      })(),
    ).rejects.toThrow();
    const names = [...body.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(names).toEqual(['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta']);
    await expect.poll(async () => (await recordsTagged('stall'))[0]?.outcome).toBe('client_closed');
    const [record] = await recordsTagged('stall');
    expect(record).toMatchObject({ deltasSent: 2, fault: 'stall' });
    expect(record?.closedByClientAt).toEqual(expect.any(Number));
  });

  it('an SDK abort mid-stream is recorded as client_closed', async () => {
    const controller = new AbortController();
    const run = drain({ tokens: 1000, tps: 20, tag: 'abort' }, controller.signal);
    await expect.poll(() => ctx.sim.requests.find((r) => r.tag === 'abort')?.deltasSent ?? 0).toBeGreaterThan(0);
    controller.abort();
    await run;
    await expect.poll(() => ctx.sim.requests.find((r) => r.tag === 'abort')?.outcome).toBe('client_closed');
  });

  it('fault_times: 1 fails the first identical request with 529 and lets the retry through', async () => {
    const params = simRequest({ text: 'second time lucky', fault: 'http_529', fault_times: 1, tag: 'times' });
    const first = await caught(ctx.client.messages.create(params));
    expect((first as APIError).status).toBe(529);
    const second = await ctx.client.messages.create(params);
    expect(second.content).toEqual([{ type: 'text', text: 'second time lucky' }]);
    const records = await recordsTagged('times');
    expect(records.map((r) => [r.n, r.outcome, r.status])).toEqual([[1, 'fault', 529], [2, 'completed', 200]]);
    expect(records[0]?.key).toBe(records[1]?.key);
    expect(records[0]?.headers['authorization']).toBe('[redacted]');
  });
});

describe('simulator lifecycle', () => {
  it('POST /_sim/reset clears records and fault_times counters', async () => {
    const own = await startSimulator({ defaults: { ttft_ms: 1 } });
    const ownClient = new Anthropic({ apiKey: 'test', baseURL: own.url, maxRetries: 0 });
    const params = simRequest({ fault: 'http_500', fault_times: 1, key: 'k1' });
    await caught(ownClient.messages.create(params));
    await ownClient.messages.create(params);
    expect(own.requests).toHaveLength(2);
    expect((await fetch(`${own.url}/_sim/reset`, { method: 'POST' })).status).toBe(200);
    expect(own.requests).toHaveLength(0);
    expect((await caught(ownClient.messages.create(params))) as APIError).toMatchObject({ status: 500 });
    await own.close();
  });

  it('close() ends open stalled streams and is idempotent', async () => {
    const own = await startSimulator();
    const ownClient = new Anthropic({ apiKey: 'test', baseURL: own.url, maxRetries: 0 });
    const stream = await ownClient.messages.create({ ...simRequest({ fault: 'stall', fault_after: 0 }), stream: true });
    const reading = (async () => {
      for await (const _ of stream) void _;
    })().then(() => 'ended', () => 'threw');
    await Promise.all([own.close(), own.close()]);
    expect(['ended', 'threw']).toContain(await reading);
    await expect(own.close()).resolves.toBeUndefined();
  });
});
