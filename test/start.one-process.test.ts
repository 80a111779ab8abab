import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, type NodeProcess } from './support/processes.js';
import { redisUrl, uniquePrefix } from './support/redis.js';
import { readSse, viewerText } from './support/sse.js';
import { getRecord, submitJob } from './support/system.js';

// `npm start` with no Anthropic key: API, worker and the simulated upstream in one process, with a
// banner saying so; a job submitted with plain HTTP streams to completion.
describe('npm start without a key', () => {
  let proc: NodeProcess;
  let url: string;
  beforeAll(async () => {
    proc = startNode('main.ts', { REDIS_URL: redisUrl(), KEY_PREFIX: uniquePrefix('start'), PORT: '0' });
    url = String((await proc.waitForLog((l) => l['msg'] === 'api listening'))['url']);
  });
  afterAll(async () => {
    await proc.stop();
  });

  it('says loudly that it uses the simulated upstream', () => {
    expect(proc.output()).toMatch(/NO ANTHROPIC_API_KEY: using the built-in SIMULATED upstream/);
  });

  it('streams a submitted job to completion', async () => {
    const { status, json } = await submitJob(url, { max_tokens: 30, messages: [{ role: 'user', content: 'Explain TCP' }] });
    expect(status).toBe(202);
    const view = await readSse(`${url}${String(json['events_url'])}`);
    const record = await getRecord(url, String(json['id']));
    expect(record['status']).toBe('completed');
    expect(String(record['text']).length).toBeGreaterThan(0);
    expect(viewerText(view.events)).toBe(record['text']);
    // One /metrics for the one process: the API's and the worker's.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^genrelay_attempts_total\{outcome="completed"\} 1$/m);
    expect(metrics).toMatch(/^genrelay_active_attempts 0$/m);
    expect(metrics).toMatch(/^genrelay_ttft_seconds_count 1$/m);
    expect(metrics).toMatch(/^genrelay_jobs_submitted_total\{outcome="created"\} 1$/m);
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await proc.stop('SIGTERM')).toBe(0);
  });
});

describe('start-up checks', () => {
  it('refuses to start without a key in production', async () => {
    const p = startNode('main.ts', { REDIS_URL: redisUrl(), NODE_ENV: 'production', PORT: '0' });
    expect(await p.exited).not.toBe(0);
    expect(p.output()).toMatch(/ANTHROPIC_API_KEY is not set/);
  });

  it('names REDIS_URL when no Redis answers', async () => {
    const p = startNode('api/main.ts', { REDIS_URL: 'redis://127.0.0.1:1', PORT: '0' });
    expect(await p.exited).not.toBe(0);
    expect(p.output()).toMatch(/No Redis answers at REDIS_URL=redis:\/\/127\.0\.0\.1:1/);
  });

  it('reports every bad variable at once', async () => {
    const p = startNode('api/main.ts', { REDIS_URL: redisUrl(), PORT: 'eighty', WORKER_CONCURRENCY: '0' });
    expect(await p.exited).not.toBe(0);
    expect(p.output()).toMatch(/PORT must be an integer/);
    expect(p.output()).toMatch(/WORKER_CONCURRENCY must be an integer/);
  });
});
