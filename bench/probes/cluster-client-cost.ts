/**
 * Probe: what one command costs the client process on one Redis and on a 3-master cluster, through
 * the same `createRedis` the worker uses (auto-pipelining on). Explains why the worker's CPU rises on
 * the cluster in scenario 6 (`npm run bench -- --only=scaling`). Run: `npx tsx bench/probes/cluster-client-cost.ts`;
 * profile one kind: `PROBE_ONLY=cluster node --cpu-prof --import tsx bench/probes/cluster-client-cost.ts`.
 */
import pino from 'pino';
import { createRedis, type RedisClient } from '../../src/shared/redis.js';
import { startRedisCluster } from '../../test/support/redis-cluster.js';
import { startRedisServer } from '../processes.js';

const SCRIPT = "redis.call('APPEND', KEYS[1], ARGV[1]); redis.call('SPUBLISH', KEYS[2], ARGV[1]); return 1";
const COMMANDS = 60_000;
const IN_FLIGHT = 500;
const JOBS = 500;

async function measure(redis: RedisClient): Promise<{ cpuUsPerCmd: number; wallUsPerCmd: number }> {
  const sha = String(await (redis as { script(...a: string[]): Promise<unknown> }).script('LOAD', SCRIPT));
  if ('nodes' in redis) await Promise.all(redis.nodes('master').map((n) => n.script('LOAD', SCRIPT)));
  const run = async (n: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < n) {
          const i = next++ % JOBS;
          await redis.evalsha(sha, 2, `probe:{job:${i}}:text`, `probe:{job:${i}}:ch`, 'x'.repeat(40));
        }
      }),
    );
  };
  await run(10_000); // warm-up: JIT, slot map, connections
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run(COMMANDS);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { cpuUsPerCmd: (cpu.user + cpu.system) / COMMANDS, wallUsPerCmd: (wall * 1000) / COMMANDS };
}

const logger = pino({ level: 'silent' });
const single = await startRedisServer();
const cluster = await startRedisCluster({ masters: 3 });
const rows: Record<string, unknown>[] = [];
// PROBE_ONLY=one|cluster measures one kind, e.g. under `node --cpu-prof`.
const kinds = (['one', 'cluster'] as const).filter((k) => (process.env['PROBE_ONLY'] ?? k) === k);
for (let round = 0; round < 3; round++) {
  for (const kind of kinds) {
    const target =
      kind === 'one'
        ? { redisUrl: single.url, keyPrefix: 'probe', redisClusterNodes: undefined }
        : { redisUrl: '', keyPrefix: 'probe', redisClusterNodes: cluster.seeds.split(',').map((hp) => ({ host: '127.0.0.1', port: Number(hp.split(':')[1]) })) };
    const redis = createRedis(target, 'commands', logger);
    const r = await measure(redis);
    rows.push({ round, kind, cpu_us_per_cmd: r.cpuUsPerCmd.toFixed(2), wall_us_per_cmd: r.wallUsPerCmd.toFixed(2) });
    redis.disconnect();
  }
}
console.table(rows);
await cluster.stop();
await single.proc.stop();
process.exit(0);
