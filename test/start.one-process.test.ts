import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNode, startNpm, type NodeProcess } from './support/processes.js';
import { redisUrl, uniquePrefix } from './support/redis.js';
import { readSse, viewerText } from './support/sse.js';
import { eventually, getRecord, submitJob } from './support/system.js';

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

  it('says loudly that it uses the simulated upstream, and names the console', async () => {
    await eventually(async () => (proc.output().includes('genrelay is up') ? true : undefined), 10_000, 'the banner');
    expect(proc.output()).toMatch(/NO ANTHROPIC_API_KEY: using the built-in SIMULATED upstream/);
    expect(proc.output()).toContain(`console:  ${url}/`);
  });

  it('streams a submitted job to completion', async () => {
    const { status, json } = await submitJob(url, { max_tokens: 30, messages: [{ role: 'user', content: 'Explain TCP <<sim {"ttft_ms":5,"tps":500}>>' }] });
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

  it('writes like a model by default (Markdown at a pace a person sees), and routes the SDK\'s notices through the logger', async () => {
    // A deprecated model: the SDK prints a notice with console.warn, which must come out as JSON.
    const { json } = await submitJob(url, { model: 'claude-sonnet-4-5', max_tokens: 40, messages: [{ role: 'user', content: 'Explain TCP' }] });
    const view = await readSse(`${url}${String(json['events_url'])}`);
    const record = await getRecord(url, String(json['id']));
    expect(record['status']).toBe('completed');
    expect(viewerText(view.events)).toMatch(/^## /);
    // Hundreds of ms to the first token (the simulator waits 450 ms), not the test default of 20.
    expect(Number((record['metrics'] as Record<string, unknown>)['ttft_ms'])).toBeGreaterThanOrEqual(400);
    const lines = proc.output().split('\n').filter((l) => l.includes('deprecated'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ source: 'console', level: 40 });
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

describe('starting and stopping as a user does', () => {
  it('reads .env from the working directory; variables set in the environment win', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'genrelay-env-'));
    try {
      const prefix = uniquePrefix('dotenv');
      await writeFile(join(dir, '.env'), `REDIS_URL=${redisUrl()}\nKEY_PREFIX=${prefix}\nPORT=0\nAPI_KEYS=from-dotenv\nLOG_LEVEL=debug\n`);
      const p = startNode('api/main.ts', { LOG_LEVEL: 'info' }, [], { cwd: dir });
      try {
        const listening = await p.waitForLog((l) => l['msg'] === 'api listening');
        const apiUrl = String(listening['url']);
        // API_KEYS came from .env: a request without the key is refused, with it served.
        expect((await fetch(`${apiUrl}/v1/jobs/job_0000000000000000000000`)).status).toBe(401);
        const withKey = await fetch(`${apiUrl}/v1/jobs/job_0000000000000000000000`, { headers: { authorization: 'Bearer from-dotenv' } });
        expect(withKey.status).toBe(404);
        expect(p.output()).toMatch(/"msg":"read \.env/);
        // LOG_LEVEL from the environment won over .env's debug.
        expect(p.output()).not.toMatch(/"level":20/);
      } finally {
        await p.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a taken port is one line naming it and PORT, and nothing was started before', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = startNode('main.ts', { REDIS_URL: redisUrl(), KEY_PREFIX: uniquePrefix('port'), PORT: String(port) });
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`genrelay: port ${port} on 127.0.0.1 is already in use: set PORT to a free port.`);
      expect(p.output()).not.toMatch(/worker started|\n\s+at /);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('a taken WORKER_METRICS_PORT is one line too, before the worker took any job', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = startNode('worker/main.ts', {
        REDIS_URL: redisUrl(),
        KEY_PREFIX: uniquePrefix('metrics-port'),
        ANTHROPIC_API_KEY: 'k',
        WORKER_METRICS_PORT: String(port),
      });
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`genrelay: port ${port} on 127.0.0.1 is already in use: set WORKER_METRICS_PORT to a free port.`);
      expect(p.output()).not.toMatch(/worker started|\n\s+at /);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('SIGTERM to the npm process of `npm start` drains and stops the server, and npm exits 0', async () => {
    const p = startNpm('start', { REDIS_URL: redisUrl(), KEY_PREFIX: uniquePrefix('npm-start'), PORT: '0' });
    try {
      const listening = await p.waitForLog((l) => l['msg'] === 'api listening', 30_000);
      const serverPid = Number(listening['pid']);
      expect(serverPid).not.toBe(p.pid);
      const apiUrl = String(listening['url']);
      expect((await fetch(`${apiUrl}/healthz`)).status).toBe(200);
      // Even a signal that comes while it is still starting: it finishes starting, then stops in order.
      expect(await p.stop('SIGTERM', 15_000)).toBe(0);
      expect(p.output()).toMatch(/"msg":"stopped"/);
      // The node process npm ran is gone too, and its port is free.
      expect(() => process.kill(serverPid, 0)).toThrow();
      await expect(fetch(`${apiUrl}/healthz`)).rejects.toThrow();
    } finally {
      await p.stop('SIGKILL');
    }
  });
});
