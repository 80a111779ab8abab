import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { findRedisServerBinary } from '../../src/local-redis.js';
import { freePort } from './free-port.js';
import { startRedisServer, type RedisServerHandle } from './redis-server.js';

const run = promisify(execFile);

/** A real local Redis Cluster made of `redis-server` processes, for tests that need one. */
export interface RedisClusterHandle {
  /** `host:port,host:port,…` of every node: what `REDIS_CLUSTER_NODES` takes. */
  readonly seeds: string;
  readonly nodes: readonly RedisServerHandle[];
  /** The nodes that are masters now. */
  masters(): Promise<RedisServerHandle[]>;
  /** The node that serves `key`'s slot now (its master). */
  masterOf(key: string): Promise<RedisServerHandle>;
  /** Resolves once every live node reports `cluster_state:ok` and agrees on the masters. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  readonly masters?: number;
  /** Replicas per master (a failover needs at least one). Default 0. */
  readonly replicas?: number;
  /** `cluster-node-timeout`: how long before a silent master is failed over. Default 2000. */
  readonly nodeTimeoutMs?: number;
}

/**
 * Starts `masters × (1 + replicas)` `redis-server --cluster-enabled yes` processes on free ports and
 * joins them with `redis-cli --cluster create`; resolves once the cluster is `ok` everywhere.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 0;
  const server = findRedisServerBinary();
  if (server === undefined) throw new Error('redis-server not found: install it (apt-get install -y redis-server)');
  const cli = join(server, '..', 'redis-cli');
  const dir = await mkdtemp(join(tmpdir(), 'genrelay-cluster-'));
  const ports = await Promise.all(Array.from({ length: masters * (1 + replicas) }, () => freePort()));
  const nodes = await Promise.all(
    ports.map((port) =>
      startRedisServer({
        port,
        dir: join(dir, String(port)),
        extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2000)],
      }),
    ),
  );
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  await run(cli, ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });

  const ask = async <T>(node: RedisServerHandle, fn: (r: Redis) => Promise<T>): Promise<T | undefined> => {
    const r = new Redis(node.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    r.on('error', () => {});
    try {
      await r.connect();
      return await fn(r);
    } catch {
      return undefined;
    } finally {
      r.disconnect();
    }
  };
  /**
   * Why the cluster is not ready for work, or undefined: every live node says `ok`, every slot is
   * served by a live master, and every live replica's link to its master is up (a replica that never
   * synced could not be elected).
   */
  const unhealthy = async (): Promise<string | undefined> => {
    const live = (await Promise.all(nodes.map(async (n) => ((await ask(n, (r) => r.ping())) === 'PONG' ? n : undefined)))).filter(
      (n): n is RedisServerHandle => n !== undefined,
    );
    if (live.length === 0) return 'no node answers';
    const livePorts = new Set(live.map((n) => n.port));
    for (const n of live) {
      const info = String((await ask(n, (r) => r.cluster('INFO'))) ?? '');
      if (!info.includes('cluster_state:ok')) return `${n.port}: ${info.split('\n')[0]?.trim() ?? 'no answer'}`;
      const replication = String((await ask(n, (r) => r.info('replication'))) ?? '');
      if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return `${n.port}: replica not linked`;
    }
    const slots = ((await ask(live[0] as RedisServerHandle, (r) => r.cluster('SLOTS'))) ?? []) as unknown as [number, number, [string, number]][];
    const covered = slots.filter(([, , [, port]]) => livePorts.has(port)).reduce((sum, [from, to]) => sum + (to - from + 1), 0);
    if (covered !== 16_384) return `${16_384 - covered} slots without a live master`;
    const replicasWanted = replicas * masters;
    const linked = (await Promise.all(live.map((n) => ask(n, (r) => r.info('replication'))))).filter((i) => String(i).includes('master_link_status:up')).length;
    if (live.length === nodes.length && linked < replicasWanted) return `${linked} of ${replicasWanted} replicas linked`;
    return undefined;
  };
  const handle: RedisClusterHandle = {
    seeds: addresses.join(','),
    nodes,
    async masters() {
      const roles = await Promise.all(nodes.map((n) => ask(n, async (r) => String(await r.role().then((x) => (x as unknown[])[0])))));
      return nodes.filter((_, i) => roles[i] === 'master');
    },
    async masterOf(key) {
      for (const node of nodes) {
        const slot = await ask(node, (r) => r.cluster('KEYSLOT', key) as Promise<number>);
        if (slot === undefined) continue;
        const shards = ((await ask(node, (r) => r.cluster('SLOTS'))) ?? []) as unknown as [number, number, [string, number]][];
        const owner = shards.find(([from, to]) => slot >= from && slot <= to)?.[2];
        const found = nodes.find((n) => n.port === owner?.[1]);
        if (found !== undefined) return found;
      }
      throw new Error(`no master found for ${key}`);
    },
    async waitHealthy(timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const problem = await unhealthy();
        if (problem === undefined) return;
        if (Date.now() > until) throw new Error(`cluster not healthy within ${timeoutMs} ms: ${problem}`);
        await sleep(100);
      }
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  await handle.waitHealthy();
  return handle;
}
