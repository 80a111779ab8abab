import { bool, int, list, matching, msList, orOff, production, rate, secret, text, url, webhookSecrets, type Parser } from './config-parsers.js';
import { redisCluster } from './config-redis-cluster.js';

/**
 * One configuration variable: the single place its name, parser, default, unit and description are
 * written. `Config`, `defaults` and `loadConfig` (config.ts), the README's table and `.env.example`
 * (`npm run docs:config`) all come from {@link configTable}.
 */
export interface ConfigVariable<T, D extends T | undefined> {
  /** The environment variable. */
  readonly name: string;
  /** Reads its text. */
  readonly parser: Parser<T>;
  /** The value when the variable is unset or empty; `undefined`: none. */
  readonly default: D;
  /** The unit of the value (`ms`, `s`, `bytes`), when it has one. */
  readonly unit?: string;
  /** What it does, one sentence or two (Markdown: the README shows it, `.env.example` quotes it). */
  readonly description: string;
  /** How the README says the default, when it is not the value itself (`none`, `the SDK's`). */
  readonly defaultText?: string;
  /** A value `.env.example` shows commented out, for a variable without a default. */
  readonly example?: string;
}

/** Writes one entry, inferring its types (the default may be absent: `undefined`). */
function variable<T, D extends T | undefined = undefined>(v: ConfigVariable<T, D>): ConfigVariable<T, D> {
  return v;
}

const ms = 'ms';

/** Every variable genrelay's own code reads, keyed by its field in `Config`, in the order the docs show them. */
export const configTable = {
  port: variable({ name: 'PORT', parser: int(0, 65_535), default: 8080, description: 'API port (0: any free port)' }),
  host: variable({ name: 'HOST', parser: text, default: '127.0.0.1', description: 'API bind address (`0.0.0.0` in the Docker image)' }),
  redisUrl: variable({ name: 'REDIS_URL', parser: url(['redis:', 'rediss:']), default: 'redis://127.0.0.1:6379', description: 'Redis for the queue, records, logs and channels (use `noeviction` and AOF in production)' }),
  redisCluster: variable({
    name: 'REDIS_CLUSTER_NODES',
    parser: redisCluster,
    default: undefined,
    defaultText: 'none',
    example: '127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002',
    description: '`host:port,…` seed nodes, or `redis://`/`rediss://` URLs with user and password: every process runs on that Redis Cluster (7.0+) instead of `REDIS_URL` (see docs/operations.md, "Scaling out")',
  }),
  anthropicApiKey: variable({ name: 'ANTHROPIC_API_KEY', parser: text, default: undefined, defaultText: 'none', description: 'upstream key; without it (and without `ANTHROPIC_BASE_URL`) `npm start` uses the simulated upstream; required with `NODE_ENV=production` and by a worker started alone' }),
  anthropicBaseUrl: variable({ name: 'ANTHROPIC_BASE_URL', parser: url(['http:', 'https:']), default: undefined, defaultText: "the SDK's", description: 'upstream base URL (tests and the benchmark point it at the simulator, `npm run simulator`)' }),
  defaultModel: variable({ name: 'DEFAULT_MODEL', parser: text, default: 'claude-sonnet-5-5', description: 'model for jobs that name none (the console shows it)' }),
  workerConcurrency: variable({ name: 'WORKER_CONCURRENCY', parser: int(1, 100_000), default: 64, description: 'concurrent generations per worker process' }),
  upstreamMaxConcurrency: variable({ name: 'UPSTREAM_MAX_CONCURRENCY', parser: orOff(int(1, 1_000_000)), default: undefined, defaultText: 'unset', example: '200', description: 'generations streaming from the upstream at once across all workers (BullMQ global concurrency on the queue); unset leaves the queue\'s as it is, `off` removes it' }),
  upstreamRateLimit: variable({ name: 'UPSTREAM_RATE_LIMIT', parser: orOff(rate), default: undefined, defaultText: 'unset', example: '50/60000', description: '`N/ms`: at most N upstream requests per that many milliseconds, fleet-wide (BullMQ global rate limit, fixed windows); unset and `off` as above' }),
  maxDurationMs: variable({ name: 'MAX_DURATION_MS', parser: int(1), default: 600_000, unit: ms, description: "hard cap on a job's generation time; a job may ask for less" }),
  jobAttempts: variable({ name: 'JOB_ATTEMPTS', parser: int(1, 100), default: 3, description: 'attempts for retryable upstream failures (a crashed attempt counts)' }),
  resultTtlS: variable({ name: 'RESULT_TTL_S', parser: int(1), default: 86_400, unit: 's', description: "how long a finished job's record and log are kept" }),
  keepaliveMs: variable({ name: 'KEEPALIVE_MS', parser: int(100), default: 15_000, unit: ms, description: 'SSE keep-alive comment interval' }),
  apiKeys: variable({ name: 'API_KEYS', parser: list, default: [], defaultText: 'none', description: 'comma-separated submitter keys (clients send one as `Authorization: Bearer`); unset = auth off, with a warning at start' }),
  shutdownTimeoutMs: variable({ name: 'SHUTDOWN_TIMEOUT_MS', parser: int(0), default: 30_000, unit: ms, description: 'graceful drain before in-flight work is handed back' }),
  keyPrefix: variable({
    name: 'KEY_PREFIX',
    parser: matching(/^[A-Za-z0-9_.:-]+$/, 'letters, digits, _ . : -', 'may hold only letters, digits and _ . : - (no braces)'),
    default: 'genrelay',
    description: 'prefix of every Redis key and of the queue (several deployments can share a Redis)',
  }),
  maxTokensLimit: variable({ name: 'MAX_TOKENS_LIMIT', parser: int(1), default: 128_000, unit: 'tokens', description: 'largest `max_tokens` a job may ask for' }),
  maxBodyBytes: variable({ name: 'MAX_BODY_BYTES', parser: int(1024), default: 1_048_576, unit: 'bytes', description: 'largest accepted request body (413 above)' }),
  requestTimeoutMs: variable({ name: 'REQUEST_TIMEOUT_MS', parser: int(1000), default: 30_000, unit: ms, description: 'longest a client may take to send a whole request (headers: at most 10 s); 408 after. Responses, SSE streams included, are never cut' }),
  maxConnections: variable({ name: 'MAX_CONNECTIONS', parser: int(1), default: 20_000, description: 'connections one API process accepts, viewers included; more are closed at once' }),
  lockDurationMs: variable({ name: 'LOCK_DURATION_MS', parser: int(1000), default: 15_000, unit: ms, description: "BullMQ lock; a dead worker's job comes back within about twice this" }),
  reaperIntervalMs: variable({ name: 'REAPER_INTERVAL_MS', parser: int(10), default: 1000, unit: ms, description: 'how often each worker ends jobs past their deadline and checks cancel flags' }),
  upstreamIdleTimeoutMs: variable({ name: 'UPSTREAM_IDLE_TIMEOUT_MS', parser: int(100), default: 30_000, unit: ms, description: 'an upstream body silent this long (not even a ping) is aborted and retried' }),
  redisRetryMs: variable({ name: 'REDIS_RETRY_MS', parser: int(0), default: 30_000, unit: ms, description: 'how long a worker sends a write again that Redis refuses (OOM, READONLY) before the attempt gives up as retryable' }),
  viewerBufferBytes: variable({ name: 'VIEWER_BUFFER_BYTES', parser: int(1024), default: 1_048_576, unit: 'bytes', description: 'unsent bytes a viewer following live may owe before it is disconnected (it can resume)' }),
  viewerStallTimeoutMs: variable({ name: 'VIEWER_STALL_TIMEOUT_MS', parser: int(100), default: 30_000, unit: ms, description: 'a viewer catching up from the log whose socket takes nothing this long is disconnected' }),
  viewerTokenSecret: variable({ name: 'VIEWER_TOKEN_SECRET', parser: secret(32), default: undefined, defaultText: 'random, shared via Redis', description: 'HMAC secret that signs viewer tokens; set it in production (to rotate it, move the old one to `VIEWER_TOKEN_PREVIOUS_SECRETS`)' }),
  viewerTokenPreviousSecrets: variable({ name: 'VIEWER_TOKEN_PREVIOUS_SECRETS', parser: list, default: [], defaultText: 'none', description: 'comma-separated former `VIEWER_TOKEN_SECRET`s: tokens they signed still verify until they expire; nothing is signed with them' }),
  idempotencySecret: variable({ name: 'IDEMPOTENCY_SECRET', parser: secret(32), default: undefined, defaultText: 'random, shared via Redis', description: 'HMAC secret that turns an Idempotency-Key into its job id; never rotate it while jobs may be retried (set it in production)' }),
  viewerTokenTtlS: variable({ name: 'VIEWER_TOKEN_TTL_S', parser: int(1), default: 86_400, unit: 's', description: 'lifetime of a viewer token' }),
  corsOrigins: variable({ name: 'CORS_ORIGINS', parser: list, default: [], defaultText: 'none', description: 'comma-separated origins (or `*`) allowed to read records and events' }),
  presenceTtlMs: variable({ name: 'PRESENCE_TTL_MS', parser: int(300), default: 15_000, unit: ms, description: "a node's viewer count stops counting this long after its last refresh" }),
  coalesceWindowMs: variable({ name: 'COALESCE_WINDOW_MS', parser: int(0, 1000), default: 0, unit: ms, description: "up to how long an idle stream's first delta waits for more to join it; a worker's jobs share one window, so their writes leave together (0 = purely self-clocked batching, the lowest latency)" }),
  workerMetricsPort: variable({ name: 'WORKER_METRICS_PORT', parser: int(0, 65_535), default: undefined, defaultText: 'none', example: '9464', description: "a standalone worker serves `/metrics` and `/healthz` on this port (`npm start` serves the worker's metrics on the API's `/metrics`)" }),
  webhookSecrets: variable({ name: 'WEBHOOK_SECRET', parser: webhookSecrets, default: [], defaultText: 'none', description: '`whsec_…` secret(s), space-separated while rotating, that sign webhook deliveries; unset = jobs may not name a webhook' }),
  webhookRetryDelaysMs: variable({
    name: 'WEBHOOK_RETRY_DELAYS_MS',
    parser: msList,
    default: [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000],
    unit: ms,
    description: 'delays between webhook delivery attempts (about a day in all)',
  }),
  webhookAllowPrivate: variable({ name: 'WEBHOOK_ALLOW_PRIVATE', parser: bool, default: false, description: 'allow webhook URLs on loopback/private addresses, and plain http (development, tests)' }),
  logLevel: variable({ name: 'LOG_LEVEL', parser: text, default: 'info', description: 'pino log level: fatal, error, warn, info, debug, trace (JSON logs on stdout)' }),
  production: variable({ name: 'NODE_ENV', parser: production, default: false, defaultText: 'unset', description: '`production` requires `ANTHROPIC_API_KEY` (no simulated upstream)' }),
} as const;

/** A variable read elsewhere than `loadConfig`: by a library, the CLI, the simulator or the tests' tools. */
export interface OtherVariable {
  /** The name; a trailing `*` stands for a family (`OTEL_*`). */
  readonly name: string;
  /** Who reads it. */
  readonly readBy: string;
  /** What it does. */
  readonly description: string;
}

/** The variables outside {@link configTable}, listed under it in the README. */
export const otherVariables: readonly OtherVariable[] = [
  { name: 'OTEL_*', readBy: 'OpenTelemetry', description: "the standard OpenTelemetry variables (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`, …), read by the OpenTelemetry SDK's own code" },
  { name: 'GENRELAY_URL', readBy: 'CLI', description: '`genrelay` CLI: the API (default `http://127.0.0.1:8080`); `--url` wins' },
  { name: 'GENRELAY_API_KEY', readBy: 'CLI', description: '`genrelay` CLI: one of the server\'s `API_KEYS`, sent as `Authorization: Bearer`' },
  { name: 'SIM_PORT', readBy: 'simulator', description: '`npm run simulator`: port (default 4010)' },
  { name: 'SIM_HOST', readBy: 'simulator', description: '`npm run simulator`: bind address (default 127.0.0.1)' },
  { name: 'SIM_DEMO', readBy: 'simulator', description: '`npm run simulator`: `1` answers like `npm start`\'s (Markdown at a human pace)' },
  { name: 'SIM_TTFT_MS', readBy: 'simulator', description: '`npm run simulator`: time to the first token, ms (default 20)' },
  { name: 'SIM_TOKENS_PER_S', readBy: 'simulator', description: '`npm run simulator`: tokens per second (default 200)' },
  { name: 'GC_ON_SIGUSR2', readBy: 'benchmark', description: '`1` with `node --expose-gc`: SIGUSR2 runs a garbage collection (the benchmark\'s memory figures)' },
  { name: 'PATH', readBy: 'npm start', description: 'where `npm start` looks for `redis-server` when no Redis answers' },
];
