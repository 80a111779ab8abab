import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
// Through the package's own export, as a service imports it (npm test builds dist/ first).
import { collectText, createSocketClient, type StreamEvent, type WebSocketLike } from 'genrelay/client';
import { freePort } from './support/free-port.js';
import { startCluster, startNode, type Cluster, type NodeProcess } from './support/processes.js';
import { openSocket } from './support/socket.js';
import { jobEnded, simPrompt, words } from './support/system.js';

// The socket client (genrelay/client) against API and worker processes: it resubscribes by itself
// with `after` across an API node's SIGTERM (the node closes sockets with 1001) and kill -9, yields
// each event once, and a create in flight across a drop runs once.
describe('the socket client', () => {
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
    cluster = await startCluster('ws-client');
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    [api] = await Promise.all([startApi(), cluster.worker(), cluster.worker()]);
  });
  afterAll(async () => {
    await api.stop('SIGKILL');
    await cluster.stop();
  });
  const client = () => createSocketClient({ baseUrl: url, WebSocket: WebSocket as unknown as new (url: string) => WebSocketLike, backoff: { initialMs: 50, maxMs: 500 } });

  it('SIGTERM on the API node closes its sockets with 1001', async () => {
    const socket = await openSocket(url);
    await socket.next((f) => f.type === 'ready');
    await api.stop('SIGTERM', 15_000);
    expect((await socket.closed).code).toBe(1001);
    api = await startApi();
  });

  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    it(`follows a job across the API node ${how === 'SIGTERM' ? 'restarted' : 'killed and restarted'}: every event once, in order, to done`, async () => {
      const text = words(80, `s${how}`);
      const genrelay = client();
      try {
        const job = await genrelay.create({ max_tokens: 1000, messages: [{ role: 'user', content: simPrompt({ text, tps: 20 }) }] });
        const seen: StreamEvent[] = [];
        let restarted: Promise<void> | undefined;
        for await (const event of genrelay.subscribe({ job: job.id })) {
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
        expect(collectText(seen)).toBe(text);
        expect((await jobEnded(url, job.id))['text']).toBe(text);
      } finally {
        genrelay.close();
      }
    });
  }

  it('a create sent while the node is down is sent again after the reconnect, and runs once', async () => {
    const genrelay = client();
    try {
      await genrelay.cancel('job_AAAAAAAAAAAAAAAAAAAAAA').catch(() => undefined);
      await api.stop('SIGKILL');
      const tag = 'ws-create-once';
      const creating = genrelay.create({ max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ text: 'once', tag }) }] }, { idempotencyKey: 'turn-7' });
      await new Promise((r) => setTimeout(r, 300));
      api = await startApi();
      const job = await creating;
      // The same turn again (a user who pressed send twice): the same job.
      const again = await genrelay.create({ max_tokens: 50, messages: [{ role: 'user', content: simPrompt({ text: 'once', tag }) }] }, { idempotencyKey: 'turn-7' });
      expect(again.id).toBe(job.id);
      expect(await jobEnded(url, job.id)).toMatchObject({ status: 'completed', text: 'once' });
      expect(cluster.sim.requests.filter((r) => r.tag === tag)).toHaveLength(1);
    } finally {
      genrelay.close();
    }
  });
});
