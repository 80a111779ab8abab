import { randomBytes } from 'node:crypto';
import { cancelJob, eventsPath, messagesBody, submitJob } from '../genrelay-http.js';
import { startFloor, type Floor } from '../floor/floor.js';
import { startPeer, type Peer } from '../peer/peer.js';
import { inWindow, worstWindow, type Row, type ScenarioResult } from '../result.js';
import type { BenchSystem } from '../system.js';
import { runFanoutRound, type FanoutRound, type FanoutTarget } from './fanout-round.js';

/**
 * Scenarios 3 and 5: one stream at 50 deltas/s watched by 1,000 / 5,000 / 10,000 viewers on one API
 * process, and the same through vercel's resumable-stream (one server process, same Redis, same
 * viewers) and through the socket floor (`bench/floor/`: the least a Node relay can do), in turn per
 * size. Each round starts a fresh server process.
 */
export async function fanout(sys: BenchSystem): Promise<ScenarioResult> {
  const quick = sys.options.quick;
  const sizes = sys.options.fanoutSizes ?? (quick ? [100, 500, 1000] : [1000, 5000, 10000]);
  // Clients lagging past 50 ms (p99) would be half the 100 ms target: such a round is invalid.
  const plan = { sampled: 200, tps: 50, windowS: quick ? 4 : 10, boundMs: 50 };
  const genrelay: FanoutTarget = {
    name: 'genrelay',
    async prepare(label) {
      const api = await sys.restartApi(`fanout-${label}`);
      return { host: api.host, port: api.port, serverPid: api.proc.pid, serverOutput: api.proc.output, otherPids: { worker: sys.worker.pid, redis: sys.redisProc.pid } };
    },
    async startStream(directive, maxTokens) {
      const id = await submitJob(sys.api.url, directive, maxTokens);
      return { path: eventsPath(id), stop: () => cancelJob(sys.api.url, id) };
    },
    // The API stays up (idle) until the next round restarts it.
    finish: async () => {},
  };
  // The same API and stream, viewers on the socket: one subscription each.
  const genrelayWs: FanoutTarget = {
    ...genrelay,
    name: 'genrelay (socket)',
    async startStream(directive, maxTokens) {
      const id = await submitJob(sys.api.url, directive, maxTokens);
      return { path: '/v1/ws', subscribe: JSON.stringify({ type: 'subscribe', id: 's', job: id }), stop: () => cancelJob(sys.api.url, id) };
    },
  };
  let peer: Peer | undefined;
  const resumable: FanoutTarget = {
    name: 'resumable-stream',
    async prepare(label) {
      peer = await startPeer(sys.redisUrl, sys.sim.url, sys.options.profile.has('peer'), `fanout-${label}`);
      return { host: peer.host, port: peer.port, serverPid: peer.server.pid, serverOutput: peer.server.output, otherPids: { producer: peer.producer.pid, redis: sys.redisProc.pid } };
    },
    async startStream(directive, maxTokens) {
      const current = peer;
      if (current === undefined) throw new Error('peer not prepared');
      const id = `s-${randomBytes(6).toString('hex')}`;
      await current.start(id, messagesBody(directive, maxTokens));
      return { path: `/streams/${id}`, stop: () => current.stop(id) };
    },
    // A producer that fell behind keeps publishing its backlog long after its viewers left.
    async finish() {
      await peer?.close();
      peer = undefined;
    },
  };

  let floorServer: Floor | undefined;
  const floor: FanoutTarget = {
    name: 'socket floor',
    async prepare(label) {
      floorServer = await startFloor(`fanout-${label}`, sys.options.profile.has('floor'));
      return { host: floorServer.host, port: floorServer.port, serverPid: floorServer.proc.pid, serverOutput: floorServer.proc.output, otherPids: {} };
    },
    async startStream(directive) {
      if (floorServer === undefined) throw new Error('floor not prepared');
      return floorServer.start(directive);
    },
    async finish() {
      await floorServer?.close();
      floorServer = undefined;
    },
  };

  const rounds: Rounds[] = [];
  try {
    for (const viewers of sizes) {
      const g = await runFanoutRound(genrelay, sys.clients, { ...plan, viewers });
      const w = sys.options.socket ? await runFanoutRound(genrelayWs, sys.clients, { ...plan, viewers }) : undefined;
      let p: FanoutRound | string | undefined;
      if (sys.options.peer) {
        p = await runFanoutRound(resumable, sys.clients, { ...plan, viewers }).catch(async (err: unknown) => {
          await sys.clients.close().catch(() => {});
          return `failed: ${err instanceof Error ? err.message : String(err)}`;
        });
      }
      const f = sys.options.floor ? await runFanoutRound(floor, sys.clients, { ...plan, viewers }) : undefined;
      rounds.push({ genrelay: g, socket: w, peer: p, floor: f });
    }
  } finally {
    await peer?.close();
    await floorServer?.close();
  }
  return { name: 'fanout', rows: fanoutRows(rounds, Math.max(...sizes)), details: { plan, sizes, rounds } };
}

/** One size's rounds: genrelay (SSE, and on the socket), the peer (or why it failed) and the floor, when they ran. */
interface Rounds {
  readonly genrelay: FanoutRound;
  readonly socket: FanoutRound | undefined;
  readonly peer: FanoutRound | string | undefined;
  readonly floor: FanoutRound | undefined;
}

/**
 * Table rows: per size latency, CPU and memory, with the peer as baseline and the targets; then the
 * floor's figures in the genrelay column of rows of their own (it is a bound, not a competitor).
 */
function fanoutRows(rounds: readonly Rounds[], largest: number): Row[] {
  const rows: Row[] = [];
  for (const { genrelay: g, socket: w, peer, floor: f } of rounds) {
    const p = typeof peer === 'object' ? peer : undefined;
    const scenario = `3/5 fan-out ${g.viewers} viewers`;
    const atLargest = g.viewers === largest;
    const lower = (mine: number, theirs: number): boolean => mine < theirs || (mine === theirs && Number.isFinite(mine));
    const better = (mine: number, theirs: number | undefined): boolean | null => (theirs === undefined ? null : lower(mine, theirs));
    const both = (own: boolean | null, peerBetter: boolean | null): boolean | null =>
      own === null ? peerBetter : peerBetter === null ? own : own && peerBetter;
    const baseline = (v: number | undefined): number | string | null => (p !== undefined ? (v ?? null) : typeof peer === 'string' ? peer : null);
    // A target against the peer (and an absolute one at the largest size), as a test of the medians.
    const judged = (absolute: number | undefined) => {
      const own = atLargest ? absolute : undefined;
      const target = [own === undefined ? undefined : `≤ ${own}`, p ? '< peer' : undefined].filter((t) => t !== undefined).join(', ');
      return {
        target: target === '' ? null : target,
        meets: (v: number, b: number) => (own === undefined || v <= own) && (p === undefined || lower(v, b)),
      };
    };
    const own: Row[] = [];
    own.push({
      scenario, metric: 'delivery p50 (ms)', genrelay: g.latency.p50, baseline: baseline(p?.latency.p50),
      ...judged(undefined), met: better(g.latency.p50, p?.latency.p50),
    });
    own.push({
      scenario, metric: 'delivery p99 (ms)', genrelay: g.latency.p99, baseline: baseline(p?.latency.p99),
      ...judged(100), met: both(atLargest ? g.latency.p99 <= 100 : null, better(g.latency.p99, p?.latency.p99)),
    });
    own.push({
      scenario, metric: 'memory per viewer after GC (KB)', genrelay: g.memoryPerViewerKb, baseline: baseline(p?.memoryPerViewerKb),
      ...judged(16), met: both(atLargest ? g.memoryPerViewerKb <= 16 : null, better(g.memoryPerViewerKb, p?.memoryPerViewerKb)),
    });
    own.push({ scenario, metric: 'server CPU per delivered delta (µs)', genrelay: g.serverCpuUsPerDelivered, baseline: baseline(p?.serverCpuUsPerDelivered), target: null, met: null });
    own.push({ scenario, metric: 'server CPU (% of a core)', genrelay: g.serverCpuPercent, baseline: baseline(p?.serverCpuPercent), target: null, met: null });
    own.push({ scenario, metric: 'machine busy (% of all cores)', genrelay: g.check.machineBusyPct, baseline: baseline(p?.check.machineBusyPct), target: null, met: null });
    own.push({
      scenario, metric: 'viewers connected / failed / cut early', genrelay: `${g.opened} / ${g.viewers - g.opened} / ${sumOf(g.closedEarly)}`,
      baseline: p ? `${p.opened} / ${p.viewers - p.opened} / ${sumOf(p.closedEarly)}` : baseline(undefined), target: null, met: null,
    });
    // Rows compared with the peer are only as trustworthy as the worse of the two rounds.
    rows.push(...inWindow(own, p === undefined ? g.check : worstWindow([g.check, p.check])));
    if (w !== undefined) {
      // The socket beside SSE: the goal is that a viewer costs no more on it.
      rows.push(...inWindow([
        { scenario, metric: 'socket: delivery p50 (ms)', genrelay: w.latency.p50, baseline: g.latency.p50, target: null, met: null },
        { scenario, metric: 'socket: delivery p99 (ms)', genrelay: w.latency.p99, baseline: g.latency.p99, target: null, met: null },
        {
          scenario, metric: 'socket: memory per viewer after GC (KB, SSE beside)', genrelay: w.memoryPerViewerKb, baseline: g.memoryPerViewerKb,
          target: '≤ SSE', met: w.memoryPerViewerKb <= g.memoryPerViewerKb, meets: (v: number, b: number) => v <= b,
        },
        { scenario, metric: 'socket: server CPU per delivered delta (µs)', genrelay: w.serverCpuUsPerDelivered, baseline: g.serverCpuUsPerDelivered, target: null, met: null },
        { scenario, metric: 'socket: viewers connected / failed / cut early', genrelay: `${w.opened} / ${w.viewers - w.opened} / ${sumOf(w.closedEarly)}`, baseline: null, target: null, met: null },
      ], worstWindow([g.check, w.check])));
    }
    if (f !== undefined) {
      // The floor's round has its own window; the comparison holds only when both rounds were valid.
      const worse = worstWindow([g.check, f.check]);
      const ratio = g.latency.p99 / f.latency.p99;
      rows.push(...inWindow([{
        scenario, metric: 'delivery p99 / socket floor p99', genrelay: Math.round(ratio * 100) / 100, baseline: null,
        target: atLargest ? '≤ 1.15' : null, met: atLargest ? ratio <= 1.15 : null, ...(atLargest ? { meets: (v: number) => v <= 1.15 } : {}),
      }], worse));
      rows.push(...inWindow([
        { scenario, metric: 'socket floor: delivery p50 (ms)', genrelay: f.latency.p50, baseline: null, target: null, met: null },
        { scenario, metric: 'socket floor: delivery p99 (ms)', genrelay: f.latency.p99, baseline: null, target: null, met: null },
        { scenario, metric: 'socket floor: server CPU per delivered delta (µs)', genrelay: f.serverCpuUsPerDelivered, baseline: null, target: null, met: null },
        { scenario, metric: 'socket floor: memory per viewer after GC (KB)', genrelay: f.memoryPerViewerKb, baseline: null, target: null, met: null },
      ], f.check));
    }
  }
  return rows;
}

function sumOf(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((s, n) => s + n, 0);
}
