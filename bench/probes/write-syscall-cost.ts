/**
 * Probe: what one socket write to Redis costs the writing process, against the bytes it carries. The
 * worker at 100 generations writes each delta's append alone (one `write(2)` per delta, ~450 bytes),
 * and its CPU profile puts 17-23% of its busy time in `writeUtf8String`, the frame that makes that
 * syscall. This separates the syscall from the bytes: 100 "jobs", each sending one ~450-byte command
 * every 100 ms (1,000 commands/s, as 100 generations at 10 deltas/s), either
 *   - `alone`: each command its own write, as the worker's appends at low load;
 *   - `window-W`: the commands due within W ms leave together, one write (a pipeline), as
 *     `COALESCE_WINDOW_MS=W` or the append batcher under load would send them.
 * The process does nothing else; its CPU (user + system, `process.cpuUsage`) over each 6 s phase is
 * divided by the commands sent. Redis's CPU per command beside it (from /proc). Each round runs every
 * mode once, rotated; median of the rounds with the range.
 * Run: `npx tsx bench/probes/write-syscall-cost.ts [rounds]`.
 *
 * Found (2026-12-06 16:02 UTC, 2-core VM, 3 rounds), client / Redis CPU per command in µs:
 *   alone 70.0 (68.0-88.4) / 21.7 (21.7-23.4); window-2 76.0 (69.6-106.3) / 15.0;
 *   window-5 63.2 (53.5-65.2) / 11.7 (11.7-13.4); window-20 35.3 (34.0-36.2) / 6.7 (5.0-6.7).
 * The bytes are the same in every mode, so the cost is per write and per reply, not per byte: a
 * write and the wake-up its reply brings cost this process about 35 µs, half of all it does. Every
 * mode wakes on 1,000 timers a second, which is the other half (as the worker wakes on each delta).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startRedisServer, stopAll } from '../processes.js';

const jobs = 100;
const periodMs = 100;
const phaseMs = 6_000;
const value = 'x'.repeat(400);
const modes = ['alone', 'window-2', 'window-5', 'window-20'] as const;
type Mode = (typeof modes)[number];

const { proc, url } = await startRedisServer();
const redisPid = proc.child.pid ?? 0;
const redis = new Redis(url, { enableAutoPipelining: false });
await redis.ping();

const redisCpuMs = (): number => {
  const fields = readFileSync(`/proc/${redisPid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
};

async function phase(mode: Mode): Promise<{ clientUs: number; redisUs: number }> {
  const windowMs = mode === 'alone' ? 0 : Number(mode.slice('window-'.length));
  let sent = 0;
  let due: number[] = [];
  let flushing: NodeJS.Timeout | undefined;
  const flush = () => {
    flushing = undefined;
    const pipe = redis.pipeline();
    for (const job of due) pipe.set(`probe:${job}`, value);
    sent += due.length;
    due = [];
    void pipe.exec();
  };
  const timers = Array.from({ length: jobs }, (_, job) =>
    setTimeout(() => {
      timers[job] = setInterval(() => {
        if (windowMs === 0) {
          sent += 1;
          void redis.set(`probe:${job}`, value);
          return;
        }
        due.push(job);
        flushing ??= setTimeout(flush, windowMs);
      }, periodMs);
    }, (job * periodMs) / jobs),
  );
  await sleep(1_000);
  const cpu0 = process.cpuUsage();
  const redis0 = redisCpuMs();
  const sent0 = sent;
  await sleep(phaseMs);
  const cpu = process.cpuUsage(cpu0);
  const redisMs = redisCpuMs() - redis0;
  const n = sent - sent0;
  for (const t of timers) clearInterval(t);
  await sleep(200);
  return { clientUs: (cpu.user + cpu.system) / n, redisUs: (redisMs * 1000) / n };
}

const rounds = Number(process.argv[2] ?? 3);
const results = new Map<Mode, { clientUs: number; redisUs: number }[]>();
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < modes.length; i++) {
    const mode = modes[(i + r) % modes.length] as Mode;
    const res = await phase(mode);
    results.set(mode, [...(results.get(mode) ?? []), res]);
    console.log(`round ${r + 1} ${mode}: client ${res.clientUs.toFixed(1)} µs, Redis ${res.redisUs.toFixed(1)} µs per command`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const fmt = (xs: number[]) => `${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`;
console.log(`\nCPU per command, median of ${rounds} rounds (range), ${jobs} jobs × one ~450-byte command per ${periodMs} ms:`);
for (const mode of modes) {
  const rs = results.get(mode) ?? [];
  console.log(`${mode.padEnd(10)} client ${fmt(rs.map((x) => x.clientUs))} µs   Redis ${fmt(rs.map((x) => x.redisUs))} µs`);
}
redis.disconnect();
await stopAll();
