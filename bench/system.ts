import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startClientPool, type ClientPool } from './client-pool.js';
import { eventsPath, submitJob } from './genrelay-http.js';
import type { BenchOptions } from './options.js';
import { startOtlpSink, type OtlpSink } from './otlp-sink.js';
import { answers, freePort, scriptNodeFlags, startNode, startRedisServer, waitFor, type Proc } from './processes.js';
import { openViewer } from './sse-client.js';

/** A running genrelay API process. */
export interface ApiProc {
  readonly proc: Proc;
  readonly url: string;
  readonly host: string;
  readonly port: number;
}

/** Everything the scenarios run against: Redis, the simulator, genrelay's API and worker, the clients. */
export interface BenchSystem {
  readonly options: BenchOptions;
  /** The driver's own connection (INFO, reading records). */
  readonly redis: Redis;
  readonly redisUrl: string;
  readonly redisProc: Proc;
  readonly sim: { readonly url: string; readonly proc: Proc };
  readonly keyPrefix: string;
  /** The current API process (fan-out restarts it per round). */
  readonly api: ApiProc;
  /** The current worker process (the coalescing scenario restarts it with other settings). */
  readonly worker: Proc;
  readonly clients: ClientPool;
  /** With `--trace`: where the API and worker send their spans. */
  readonly traceSink: OtlpSink | undefined;
  /** Stops the API process and starts a fresh one (a clean memory baseline). */
  restartApi(label: string): Promise<ApiProc>;
  /** Stops the worker and starts a fresh one with `env` added to its environment. */
  restartWorker(label: string, env: Readonly<Record<string, string>>): Promise<Proc>;
}

/** Client processes: the machine has two cores, so two. */
const CLIENT_PROCESSES = 2;

/** Starts Redis, the simulator, one API, one worker and the client processes, then runs one job end to end. */
export async function startSystem(options: BenchOptions): Promise<BenchSystem> {
  const { proc: redisProc, url: redisUrl } = await startRedisServer();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const keyPrefix = `bench-${randomBytes(4).toString('hex')}`;
  const traceSink = options.trace ? await startOtlpSink() : undefined;

  const simPort = await freePort();
  const simProc = startNode('simulator', 'src/simulator/main.ts', { SIM_PORT: String(simPort) }, { profile: options.profile.has('simulator') });
  const simUrl = `http://127.0.0.1:${simPort}`;
  await waitFor('the simulator', async () => simProc.output().includes('listening on'), simProc);

  const shared = {
    REDIS_URL: redisUrl,
    KEY_PREFIX: keyPrefix,
    LOG_LEVEL: 'warn',
    ANTHROPIC_BASE_URL: simUrl,
    ANTHROPIC_API_KEY: 'bench',
    VIEWER_TOKEN_SECRET: randomBytes(24).toString('hex'),
    // The standard variables, as an operator would set them; the default 5 s batch delay.
    ...(traceSink === undefined ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: traceSink.url }),
  };
  const startApi = async (label: string): Promise<ApiProc> => {
    const port = await freePort();
    // `--expose-gc` and GC_ON_SIGUSR2: the fan-out scenario reads memory per viewer after a full GC.
    const proc = startNode(`api-${label}`, 'src/api/main.ts', { ...shared, HOST: '127.0.0.1', PORT: String(port), GC_ON_SIGUSR2: '1' }, {
      profile: options.profile.has('api'),
      nodeFlags: [...scriptNodeFlags('start:api'), '--expose-gc'],
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor('the API', () => answers(`${url}/healthz`), proc);
    return { proc, url, host: '127.0.0.1', port };
  };
  let api = await startApi('main');
  const startWorker = (label: string, env: Readonly<Record<string, string>> = {}): Proc =>
    startNode(label, 'src/worker/main.ts', {
      ...shared,
      // Room for the largest worker scenario: `--workers=2000` ran only 1,200 before this followed it.
      WORKER_CONCURRENCY: String(Math.max(1200, ...(options.workerSizes ?? []))),
      SHUTDOWN_TIMEOUT_MS: '2000',
      // `BENCH_COALESCE_WINDOW_MS=5 npm run bench -- --only=workers`: the worker scenario with a window.
      ...(process.env['BENCH_COALESCE_WINDOW_MS'] === undefined ? {} : { COALESCE_WINDOW_MS: process.env['BENCH_COALESCE_WINDOW_MS'] }),
      ...env,
      // `BENCH_WORKER_NODE_FLAGS="--max-semi-space-size=16"`: Node flags replacing start:worker's.
    }, { profile: options.profile.has('worker'), nodeFlags: workerNodeFlags() });
  let worker = startWorker('worker');
  const clients = startClientPool(CLIENT_PROCESSES);

  await runOneJob(api, worker);
  return {
    options,
    redis,
    redisUrl,
    redisProc,
    sim: { url: simUrl, proc: simProc },
    keyPrefix,
    get api() {
      return api;
    },
    get worker() {
      return worker;
    },
    clients,
    traceSink,
    async restartWorker(label, env) {
      await worker.stop();
      worker = startWorker(`worker-${label}`, env);
      await runOneJob(api, worker);
      return worker;
    },
    async restartApi(label) {
      await api.proc.stop();
      api = await startApi(label);
      await runOneJob(api, worker);
      return api;
    },
  };
}

/** Submits a short job and watches it to the end: proves the worker is up and warms both processes. */
export async function runOneJob(api: ApiProc, worker: Proc): Promise<void> {
  const deadline = Date.now() + 30_000;
  const id = await submitJob(api.url, { tokens: 20, tps: 400, ttft_ms: 1, stamp: true }, 100);
  const viewer = await openViewer({ host: api.host, port: api.port, path: eventsPath(id), sampled: true });
  await waitFor('a warm-up job to finish', async () => viewer.counters.closed !== undefined, worker, Math.max(1000, deadline - Date.now()));
  if (viewer.counters.status !== 200 || viewer.counters.firstStampAt === 0) {
    throw new Error(`warm-up job ${id}: status ${viewer.counters.status}, closed ${viewer.counters.closed}; worker output:\n${worker.output()}`);
  }
}

/** The worker's Node flags: start:worker's, or BENCH_WORKER_NODE_FLAGS's (space-separated) instead. */
function workerNodeFlags(): readonly string[] {
  const given = process.env['BENCH_WORKER_NODE_FLAGS'];
  return given === undefined ? scriptNodeFlags('start:worker') : given.split(/\s+/).filter((f) => f !== '');
}
