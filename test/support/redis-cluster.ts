import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { findRedisServerBinary } from '../../src/local-redis.js';
import { freePort } from './free-port.js';
import { AddressInUseError, startRedisServer, type RedisServerHandle } from './redis-server.js';

const run = promisify(execFile);

/** A real local Redis Cluster made of `redis-server` processes, for tests that need one. */
export interface RedisClusterHandle {
  /** `host:port,host:port,…` of every node: what `REDIS_CLUSTER_NODES` takes. */
  readonly seeds: string;
  /** The CA certificate the nodes' certificate is signed with, when `tls`. */
  readonly caFile: string | undefined;
  /** What a plain ioredis client needs to talk to a node (TLS trust, password). */
  readonly clientOptions: ClusterClientOptions;
  readonly nodes: readonly RedisServerHandle[];
  /** The nodes that are masters now. */
  masters(): Promise<RedisServerHandle[]>;
  /** The node that serves `key`'s slot now (its master). */
  masterOf(key: string): Promise<RedisServerHandle>;
  /**
   * Moves the slot of `key` from its master to another master while clients keep using it, as
   * `redis-cli --cluster reshard` does: IMPORTING/MIGRATING, then `MIGRATE` one key at a time with
   * `pauseMs` between (so multi-key scripts meet a split slot and get TRYAGAIN), then SETSLOT NODE on
   * every master. Resolves with the slot and the two nodes.
   */
  moveSlot(key: string, pauseMs?: number): Promise<{ slot: number; from: RedisServerHandle; to: RedisServerHandle }>;
  /**
   * Holds writes on `master` (`CLIENT PAUSE WRITE`, for at most `holdMs`) and resolves once its
   * replicas have every write it acknowledged: what a kill of it then loses was never acknowledged.
   */
  holdWritesUntilReplicated(master: RedisServerHandle, holdMs?: number): Promise<void>;
  /** Resolves once every live node reports `cluster_state:ok` and agrees on the masters. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** What a plain client needs to talk to one node: the password, TLS trust. */
export interface ClusterClientOptions {
  readonly password?: string;
  readonly tls?: { readonly ca: Buffer; readonly servername: string };
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  readonly masters?: number;
  /** Replicas per master (a failover needs at least one). Default 0. */
  readonly replicas?: number;
  /** `cluster-node-timeout`: how long before a silent master is failed over. Default 2000. */
  readonly nodeTimeoutMs?: number;
  /** `requirepass` (and `masterauth`) of every node. Default: none. */
  readonly password?: string;
  /** An ACL user with every right, made on every node once the cluster is up. */
  readonly user?: { readonly name: string; readonly password: string };
  /** TLS only, with a certificate from a CA made for this cluster (`caFile`). Default false. */
  readonly tls?: boolean;
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
  const tls = options.tls === true ? await makeCertificates(dir) : undefined;
  const auth = options.password === undefined ? [] : ['--requirepass', options.password, '--masterauth', options.password];
  const clientOptions: ClusterClientOptions = {
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(tls === undefined ? {} : { tls: { ca: readFileSync(tls.caFile), servername: 'localhost' } }),
  };
  const cliAuth = [
    ...(options.password === undefined ? [] : ['-a', options.password, '--no-auth-warning']),
    ...(tls === undefined ? [] : ['--tls', '--cacert', tls.caFile]),
  ];
  // A cluster node also listens on its bus port, port + 10000, which freePort() cannot vouch for: a
  // node that finds either taken is started again on another port.
  const startNode = async (): Promise<RedisServerHandle> => {
    for (let attempt = 1; ; attempt++) {
      let port = await freePort();
      while (port + 10_000 > 65_535) port = await freePort();
      try {
        return await startRedisServer({
          port,
          dir: join(dir, String(port)),
          extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2000), ...auth],
          ...(tls === undefined ? {} : { tls }),
        });
      } catch (err) {
        if (!(err instanceof AddressInUseError) || attempt >= 10) throw err;
      }
    }
  };
  const nodes = await Promise.all(Array.from({ length: masters * (1 + replicas) }, startNode));
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
  await run(cli, [...cliAuth, '--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 30_000 });

  const ask = async <T>(node: RedisServerHandle, fn: (r: Redis) => Promise<T>): Promise<T | undefined> => {
    const r = new Redis(node.url, { ...clientOptions, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
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
    // A replica's link is "up" as soon as it has loaded the master's snapshot, but the master streams
    // writes to it only once it is `online` (after its first REPLCONF ACK): until then, everything the
    // master acknowledges would be lost in a failover. So count replicas the masters see online.
    const replicasWanted = replicas * masters;
    const online = (await Promise.all(live.map((n) => ask(n, (r) => r.info('replication')))))
      .map((i) => (String(i).match(/^slave\d+:.*state=online/gm) ?? []).length)
      .reduce((sum, n) => sum + n, 0);
    if (live.length === nodes.length && online < replicasWanted) return `${online} of ${replicasWanted} replicas online`;
    return undefined;
  };
  const handle: RedisClusterHandle = {
    seeds: addresses.join(','),
    caFile: tls?.caFile,
    clientOptions,
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
    async moveSlot(key, pauseMs = 100) {
      const from = await handle.masterOf(key);
      const to = (await handle.masters()).find((n) => n.port !== from.port);
      if (to === undefined) throw new Error('moveSlot needs a second master');
      const open = async (n: RedisServerHandle) => {
        const r = new Redis(n.url, { ...clientOptions, maxRetriesPerRequest: 0 });
        r.on('error', () => {});
        return r;
      };
      const [src, dst] = await Promise.all([open(from), open(to)]);
      try {
        const slot = Number(await src.cluster('KEYSLOT', key));
        const [fromId, toId] = await Promise.all([src.cluster('MYID'), dst.cluster('MYID')]).then((ids) => ids.map(String));
        await dst.cluster('SETSLOT', slot, 'IMPORTING', fromId ?? '');
        await src.cluster('SETSLOT', slot, 'MIGRATING', toId ?? '');
        for (;;) {
          const keys = (await src.cluster('GETKEYSINSLOT', slot, 1)) as string[];
          if (keys.length === 0) break;
          await src.call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys);
          await sleep(pauseMs);
        }
        await dst.cluster('SETSLOT', slot, 'NODE', toId ?? '');
        await src.cluster('SETSLOT', slot, 'NODE', toId ?? '');
        for (const other of await handle.masters()) {
          if (other.port === from.port || other.port === to.port) continue;
          await ask(other, (r) => r.cluster('SETSLOT', slot, 'NODE', toId ?? ''));
        }
        return { slot, from, to };
      } finally {
        src.disconnect();
        dst.disconnect();
      }
    },
    async holdWritesUntilReplicated(master, holdMs = 10_000) {
      const r = new Redis(master.url, { ...clientOptions, maxRetriesPerRequest: 0 });
      r.on('error', () => {});
      try {
        await r.call('CLIENT', 'PAUSE', String(holdMs), 'WRITE');
        const until = Date.now() + holdMs;
        for (;;) {
          const info = await r.info('replication');
          const own = Number(/master_repl_offset:(\d+)/.exec(info)?.[1]);
          const theirs = [...info.matchAll(/^slave\d+:.*offset=(\d+)/gm)].map((m) => Number(m[1]));
          if (theirs.length > 0 && theirs.every((o) => o >= own)) return;
          if (Date.now() > until) throw new Error(`replicas of ${master.port} did not catch up within ${holdMs} ms`);
          await sleep(10);
        }
      } finally {
        r.disconnect();
      }
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
  if (options.user !== undefined) {
    const { name, password } = options.user;
    for (const node of nodes) await ask(node, (r) => r.call('ACL', 'SETUSER', name, 'on', `>${password}`, '~*', '&*', '+@all'));
  }
  return handle;
}

/** A CA and a certificate for 127.0.0.1 / localhost signed by it, made with `openssl` in `dir`. */
async function makeCertificates(dir: string): Promise<{ certFile: string; keyFile: string; caFile: string }> {
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { timeout: 30_000 });
  await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=genrelay test CA');
  await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=localhost');
  await writeFile(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('ext.cnf'));
  return { certFile: f('server.crt'), keyFile: f('server.key'), caFile: f('ca.crt') };
}
