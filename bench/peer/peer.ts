import { randomBytes } from 'node:crypto';
import { ipcClient, type IpcClient } from '../ipc.js';
import { answers, freePort, startNode, waitFor, type Proc } from '../processes.js';
import { openViewer } from '../sse-client.js';
import type { ProducerCommand } from './producer.js';

/** The running resumable-stream peer: a server process and a producer process on the bench's Redis. */
export interface Peer {
  readonly server: Proc;
  readonly producer: Proc;
  readonly host: string;
  readonly port: number;
  /** Starts producing stream `streamId` from the simulator with `body`; resolves once viewers can resume it. */
  start(streamId: string, body: Readonly<Record<string, unknown>>): Promise<void>;
  /** Aborts the upstream of `streamId`, which ends the stream for every viewer. */
  stop(streamId: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts both peer processes (own key prefix) and runs one short stream through them. */
export async function startPeer(redisUrl: string, simUrl: string, profile: boolean, label: string): Promise<Peer> {
  const prefix = `bench-peer-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const server = startNode(`peer-server-${label}`, 'bench/peer/server.ts', { REDIS_URL: redisUrl, PEER_PREFIX: prefix, PEER_PORT: String(port), GC_ON_SIGUSR2: '1' }, { profile, nodeFlags: ['--expose-gc'] });
  const producer = startNode(`peer-producer-${label}`, 'bench/peer/producer.ts', { REDIS_URL: redisUrl, PEER_PREFIX: prefix, SIM_URL: simUrl }, { ipc: true });
  const ipc: IpcClient = ipcClient(producer.child, producer.name);
  await waitFor('the peer server', () => answers(`http://127.0.0.1:${port}/healthz`), server);
  const peer: Peer = {
    server,
    producer,
    host: '127.0.0.1',
    port,
    start: async (streamId, body) => void (await ipc.request<unknown>({ type: 'start', streamId, body } satisfies ProducerCommand)),
    stop: async (streamId) => void (await ipc.request<unknown>({ type: 'stop', streamId } satisfies ProducerCommand)),
    async close() {
      await producer.stop();
      await server.stop();
    },
  };
  // Warm-up, and proof that a stream goes all the way through.
  const id = `warmup-${randomBytes(4).toString('hex')}`;
  await peer.start(id, { model: 'claude-sonnet-5-5', max_tokens: 100, messages: [{ role: 'user', content: '<<sim {"tokens":20,"tps":400,"ttft_ms":50,"stamp":true}>>' }] });
  const viewer = await openViewer({ host: peer.host, port, path: `/streams/${id}`, sampled: true });
  await waitFor('a warm-up peer stream', async () => viewer.counters.closed !== undefined, server, 30_000);
  if (viewer.counters.status !== 200 || viewer.counters.firstStampAt === 0) {
    throw new Error(`peer warm-up: status ${viewer.counters.status}, ${viewer.counters.closed}; server output:\n${server.output()}`);
  }
  return peer;
}
