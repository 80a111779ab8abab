import { AppError } from './errors.js';

/** Everything genrelay reads from the environment, typed, with units in the names. */
export interface Config {
  /** `PORT`: API port. Default 8080. */
  readonly port: number;
  /** `HOST`: API bind address. Default 127.0.0.1. */
  readonly host: string;
  /** `REDIS_URL`: queue, records, logs and channels. Default redis://127.0.0.1:6379. */
  readonly redisUrl: string;
  /**
   * `REDIS_CLUSTER_NODES`: `host:port,host:port,…` seed nodes of a Redis Cluster; when set, every
   * process runs on the Cluster and `REDIS_URL` is not used. Default: none. Entries may be URLs,
   * `redis://[user:password@]host:port` or `rediss://…` (TLS): see {@link redisClusterAuth}.
   */
  readonly redisClusterNodes: readonly { readonly host: string; readonly port: number }[] | undefined;
  /** The credentials and TLS of `REDIS_CLUSTER_NODES`' URLs, the same for every node. */
  readonly redisClusterAuth: RedisClusterAuth;
  /** `ANTHROPIC_API_KEY`: upstream key. No default. */
  readonly anthropicApiKey: string | undefined;
  /** `ANTHROPIC_BASE_URL`: upstream base URL. Default: the SDK's. */
  readonly anthropicBaseUrl: string | undefined;
  /** `DEFAULT_MODEL`: model for jobs that name none. */
  readonly defaultModel: string;
  /** `WORKER_CONCURRENCY`: concurrent generations per worker process. Default 64. */
  readonly workerConcurrency: number;
  /**
   * `UPSTREAM_MAX_CONCURRENCY`: generations streaming from the upstream at once across all workers
   * (BullMQ's global concurrency, written by every worker that has it at start). Unset: leave the
   * queue's as it is; `off`: remove it. Default: unset.
   */
  readonly upstreamMaxConcurrency: number | 'off' | undefined;
  /** `UPSTREAM_RATE_LIMIT`: `N/ms`, at most N upstream requests per that many ms, fleet-wide; unset and `off` as above. */
  readonly upstreamRateLimit: { readonly max: number; readonly durationMs: number } | 'off' | undefined;
  /** `MAX_DURATION_MS`: hard cap on a job's generation time. Default 600000. */
  readonly maxDurationMs: number;
  /** `JOB_ATTEMPTS`: attempts for retryable upstream failures. Default 3. */
  readonly jobAttempts: number;
  /** `RESULT_TTL_S`: how long a finished job's record and log are kept. Default 86400. */
  readonly resultTtlS: number;
  /** `KEEPALIVE_MS`: SSE keep-alive comment interval. Default 15000. */
  readonly keepaliveMs: number;
  /** `API_KEYS`: comma-separated submitter keys; empty = auth off. */
  readonly apiKeys: readonly string[];
  /** `SHUTDOWN_TIMEOUT_MS`: graceful drain before in-flight work is handed back. Default 30000. */
  readonly shutdownTimeoutMs: number;
  /** `KEY_PREFIX`: prefix of every Redis key and of the BullMQ queue. Default genrelay. */
  readonly keyPrefix: string;
  /** `MAX_TOKENS_LIMIT`: largest `max_tokens` a job may ask for. Default 128000. */
  readonly maxTokensLimit: number;
  /** `MAX_BODY_BYTES`: largest accepted request body. Default 1048576 (1 MiB). */
  readonly maxBodyBytes: number;
  /**
   * `REQUEST_TIMEOUT_MS`: longest a client may take to send a whole request (headers within the lesser
   * of this and 10 s); it never cuts a response, so SSE streams are not affected. Default 30000.
   */
  readonly requestTimeoutMs: number;
  /** `MAX_CONNECTIONS`: open connections an API process accepts (viewers included); more are refused. Default 20000. */
  readonly maxConnections: number;
  /** `LOCK_DURATION_MS`: BullMQ job lock; a dead worker's job returns after about this long. Default 15000. */
  readonly lockDurationMs: number;
  /** `UPSTREAM_IDLE_TIMEOUT_MS`: an upstream body silent this long (not even a ping) is aborted. Default 30000. */
  readonly upstreamIdleTimeoutMs: number;
  /**
   * `REDIS_RETRY_MS`: how long a worker sends a write again that Redis refuses (OOM under
   * `noeviction`, READONLY during a failover) before the attempt gives up as a retryable failure.
   * Default 30000.
   */
  readonly redisRetryMs: number;
  /** `REAPER_INTERVAL_MS`: how often each worker looks for jobs past their deadline and missed cancels. Default 1000. */
  readonly reaperIntervalMs: number;
  /** `VIEWER_BUFFER_BYTES`: unsent bytes a viewer may owe before it is disconnected. Default 1048576. */
  readonly viewerBufferBytes: number;
  /**
   * `VIEWER_STALL_TIMEOUT_MS`: a viewer catching up from the log whose socket takes nothing for this
   * long is disconnected (it can resume). Default 30000.
   */
  readonly viewerStallTimeoutMs: number;
  /** `VIEWER_TOKEN_SECRET`: signs viewer tokens; unset = one random secret shared through Redis. */
  readonly viewerTokenSecret: string | undefined;
  /** `VIEWER_TOKEN_TTL_S`: lifetime of a viewer token. Default 86400. */
  readonly viewerTokenTtlS: number;
  /** `CORS_ORIGINS`: comma-separated origins allowed to read records and events; `*` = any. Default none. */
  readonly corsOrigins: readonly string[];
  /** `PRESENCE_TTL_MS`: a node's viewer count stops counting this long after its last refresh (a dead node). Default 15000. */
  readonly presenceTtlMs: number;
  /**
   * `COALESCE_WINDOW_MS`: how long the worker holds the first delta of an idle stream for more to join
   * it. Default 0: batching is self-clocked (deltas that arrive while a write is in flight are joined).
   */
  readonly coalesceWindowMs: number;
  /**
   * `WEBHOOK_SECRET`: the `whsec_…` secret(s) webhook deliveries are signed with (Standard Webhooks);
   * several, space-separated, while a secret rotates (each delivery carries a signature per secret).
   * Jobs may name a webhook only when it is set. Default: none.
   */
  readonly webhookSecrets: readonly string[];
  /** `WEBHOOK_RETRY_DELAYS_MS`: comma-separated delays between delivery attempts. Default: 5 s … 8 h, about a day in all. */
  readonly webhookRetryDelaysMs: readonly number[];
  /** `WEBHOOK_ALLOW_PRIVATE`: allow webhook URLs on loopback/private addresses, and plain http. Default false. */
  readonly webhookAllowPrivate: boolean;
  /** `WORKER_METRICS_PORT`: a standalone worker serves `/metrics` here (on `HOST`). Default: none. */
  readonly workerMetricsPort: number | undefined;
  /** `LOG_LEVEL`: pino level. Default info. */
  readonly logLevel: string;
  /** `NODE_ENV` is `production`. */
  readonly production: boolean;
}

/** Defaults for every variable, in one place. */
export const defaults = {
  port: 8080,
  host: '127.0.0.1',
  redisUrl: 'redis://127.0.0.1:6379',
  defaultModel: 'claude-sonnet-5-5',
  workerConcurrency: 64,
  maxDurationMs: 600_000,
  jobAttempts: 3,
  resultTtlS: 86_400,
  keepaliveMs: 15_000,
  shutdownTimeoutMs: 30_000,
  keyPrefix: 'genrelay',
  maxTokensLimit: 128_000,
  maxBodyBytes: 1_048_576,
  requestTimeoutMs: 30_000,
  maxConnections: 20_000,
  lockDurationMs: 15_000,
  upstreamIdleTimeoutMs: 30_000,
  viewerBufferBytes: 1_048_576,
  viewerStallTimeoutMs: 30_000,
  reaperIntervalMs: 1000,
  redisRetryMs: 30_000,
  viewerTokenTtlS: 86_400,
  presenceTtlMs: 15_000,
  coalesceWindowMs: 0,
  logLevel: 'info',
  webhookRetryDelaysMs: [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000],
} as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the configuration from `env` (pure: pass `process.env` from a `main.ts`). Reports every bad
 * variable at once in one `config_invalid` error.
 */
export function loadConfig(env: Env): Config {
  const problems: { path: string; message: string }[] = [];
  const str = (name: string, fallback: string): string => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? fallback : v;
  };
  const optional = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const raw = optional(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push({ path: name, message: `must be an integer from ${min} to ${max}, got "${raw}"` });
      return fallback;
    }
    return n;
  };
  const list = (name: string): string[] =>
    (optional(name) ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
  const url = (name: string, fallback: string | undefined, protocols: readonly string[]): string | undefined => {
    const raw = optional(name) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) throw new Error('protocol');
    } catch {
      problems.push({ path: name, message: `must be a ${protocols.join(' or ')} URL, got "${raw}"` });
    }
    return raw;
  };

  const bool = (name: string, fallback: boolean): boolean => {
    const raw = optional(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    problems.push({ path: name, message: `must be true or false, got "${raw}"` });
    return fallback;
  };
  const delays = (name: string, fallback: readonly number[]): readonly number[] => {
    const raw = optional(name);
    if (raw === undefined) return fallback;
    const parts = raw.split(',').map((p) => Number(p.trim()));
    if (parts.length === 0 || parts.some((n) => !Number.isInteger(n) || n < 0)) {
      problems.push({ path: name, message: `must be comma-separated whole milliseconds, got "${raw}"` });
      return fallback;
    }
    return parts;
  };
  const keyPrefix = str('KEY_PREFIX', defaults.keyPrefix);
  if (!/^[A-Za-z0-9_.:-]+$/.test(keyPrefix)) {
    problems.push({ path: 'KEY_PREFIX', message: 'may hold only letters, digits and _ . : - (no braces)' });
  }
  const config: Config = {
    port: int('PORT', defaults.port, 0, 65_535),
    host: str('HOST', defaults.host),
    redisUrl: url('REDIS_URL', defaults.redisUrl, ['redis:', 'rediss:']) ?? defaults.redisUrl,
    ...clusterNodes(optional('REDIS_CLUSTER_NODES'), problems),
    anthropicApiKey: optional('ANTHROPIC_API_KEY'),
    anthropicBaseUrl: url('ANTHROPIC_BASE_URL', undefined, ['http:', 'https:']),
    defaultModel: str('DEFAULT_MODEL', defaults.defaultModel),
    workerConcurrency: int('WORKER_CONCURRENCY', defaults.workerConcurrency, 1, 100_000),
    upstreamMaxConcurrency: maxConcurrency(optional('UPSTREAM_MAX_CONCURRENCY'), problems),
    upstreamRateLimit: rateLimit(optional('UPSTREAM_RATE_LIMIT'), problems),
    maxDurationMs: int('MAX_DURATION_MS', defaults.maxDurationMs, 1),
    jobAttempts: int('JOB_ATTEMPTS', defaults.jobAttempts, 1, 100),
    resultTtlS: int('RESULT_TTL_S', defaults.resultTtlS, 1),
    keepaliveMs: int('KEEPALIVE_MS', defaults.keepaliveMs, 100),
    apiKeys: list('API_KEYS'),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', defaults.shutdownTimeoutMs, 0),
    keyPrefix,
    maxTokensLimit: int('MAX_TOKENS_LIMIT', defaults.maxTokensLimit, 1),
    maxBodyBytes: int('MAX_BODY_BYTES', defaults.maxBodyBytes, 1024),
    requestTimeoutMs: int('REQUEST_TIMEOUT_MS', defaults.requestTimeoutMs, 1000),
    maxConnections: int('MAX_CONNECTIONS', defaults.maxConnections, 1),
    lockDurationMs: int('LOCK_DURATION_MS', defaults.lockDurationMs, 1000),
    upstreamIdleTimeoutMs: int('UPSTREAM_IDLE_TIMEOUT_MS', defaults.upstreamIdleTimeoutMs, 100),
    reaperIntervalMs: int('REAPER_INTERVAL_MS', defaults.reaperIntervalMs, 10),
    redisRetryMs: int('REDIS_RETRY_MS', defaults.redisRetryMs, 0),
    viewerBufferBytes: int('VIEWER_BUFFER_BYTES', defaults.viewerBufferBytes, 1024),
    viewerStallTimeoutMs: int('VIEWER_STALL_TIMEOUT_MS', defaults.viewerStallTimeoutMs, 100),
    viewerTokenSecret: optional('VIEWER_TOKEN_SECRET'),
    viewerTokenTtlS: int('VIEWER_TOKEN_TTL_S', defaults.viewerTokenTtlS, 1),
    corsOrigins: list('CORS_ORIGINS'),
    presenceTtlMs: int('PRESENCE_TTL_MS', defaults.presenceTtlMs, 300),
    coalesceWindowMs: int('COALESCE_WINDOW_MS', defaults.coalesceWindowMs, 0, 1000),
    webhookSecrets: webhookSecrets(optional('WEBHOOK_SECRET'), problems),
    webhookRetryDelaysMs: delays('WEBHOOK_RETRY_DELAYS_MS', defaults.webhookRetryDelaysMs),
    webhookAllowPrivate: bool('WEBHOOK_ALLOW_PRIVATE', false),
    workerMetricsPort: optional('WORKER_METRICS_PORT') === undefined ? undefined : int('WORKER_METRICS_PORT', 0, 0, 65_535),
    logLevel: str('LOG_LEVEL', defaults.logLevel),
    production: env['NODE_ENV'] === 'production',
  };
  const secret = config.viewerTokenSecret;
  if (secret !== undefined && secret.length < 32) {
    problems.push({ path: 'VIEWER_TOKEN_SECRET', message: 'must be at least 32 characters' });
  }
  if (problems.length > 0) {
    const list = problems.map((p) => `${p.path} ${p.message}`).join('; ');
    throw new AppError('config_invalid', `invalid configuration: ${list}`, { details: problems });
  }
  return Object.freeze(config);
}

/** `WEBHOOK_SECRET`: one or more `whsec_<base64 key>` secrets, space-separated. */
function webhookSecrets(raw: string | undefined, problems: { path: string; message: string }[]): readonly string[] {
  if (raw === undefined) return [];
  const secrets = raw.split(/\s+/).filter((s) => s !== '');
  for (const secret of secrets) {
    const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.alloc(0);
    if (key.length < 24) {
      problems.push({ path: 'WEBHOOK_SECRET', message: 'must be whsec_ followed by the base64 of at least 24 random bytes' });
      return [];
    }
  }
  return secrets;
}

/** Who genrelay is on a Redis Cluster, and whether it speaks TLS there. */
export interface RedisClusterAuth {
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly tls: boolean;
}

const noClusterAuth: RedisClusterAuth = { username: undefined, password: undefined, tls: false };

/**
 * `REDIS_CLUSTER_NODES`: seed nodes, comma-separated, each `host:port` or a URL
 * (`redis://[user:password@]host:port`, `rediss://` for TLS). Every URL must say the same scheme and
 * credentials (nodes of one cluster share them); plain entries take the URLs'. Messages never
 * repeat a password.
 */
function clusterNodes(
  raw: string | undefined,
  problems: { path: string; message: string }[],
): { redisClusterNodes: readonly { host: string; port: number }[] | undefined; redisClusterAuth: RedisClusterAuth } {
  if (raw === undefined) return { redisClusterNodes: undefined, redisClusterAuth: noClusterAuth };
  const wrong = (message: string) => {
    problems.push({ path: 'REDIS_CLUSTER_NODES', message });
    return { redisClusterNodes: undefined, redisClusterAuth: noClusterAuth };
  };
  const nodes: { host: string; port: number }[] = [];
  const auths = new Set<string>();
  let auth: RedisClusterAuth | undefined;
  for (const part of raw.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    let host: string;
    let port: number;
    if (/^rediss?:\/\//.test(part)) {
      let u: URL;
      try {
        u = new URL(part);
      } catch {
        return wrong(`an entry is not a valid redis:// or rediss:// URL (entry ${nodes.length + 1})`);
      }
      host = u.hostname.replace(/^\[|\]$/g, '');
      port = u.port === '' ? 6379 : Number(u.port);
      const entry: RedisClusterAuth = {
        username: u.username === '' ? undefined : decodeURIComponent(u.username),
        password: u.password === '' ? undefined : decodeURIComponent(u.password),
        tls: u.protocol === 'rediss:',
      };
      auths.add(JSON.stringify(entry));
      auth = entry;
    } else {
      const at = part.lastIndexOf(':');
      port = Number(part.slice(at + 1));
      host = part.slice(0, at).replace(/^\[|\]$/g, '');
      if (at <= 0) return wrong(`must be host:port pairs or redis:// URLs, comma-separated (entry ${nodes.length + 1} has no port)`);
    }
    if (host === '' || !Number.isInteger(port) || port <= 0 || port >= 65_536) {
      return wrong(`must be host:port pairs or redis:// URLs, comma-separated (entry ${nodes.length + 1} has no valid host and port)`);
    }
    nodes.push({ host, port });
  }
  if (nodes.length === 0) return wrong('must name at least one node');
  if (auths.size > 1) return wrong('every redis:// or rediss:// entry must have the same scheme, user and password');
  return { redisClusterNodes: nodes, redisClusterAuth: auth ?? noClusterAuth };
}

/** `UPSTREAM_MAX_CONCURRENCY`: a count from 1, or `off`. */
function maxConcurrency(raw: string | undefined, problems: { path: string; message: string }[]): number | 'off' | undefined {
  if (raw === undefined || raw === 'off') return raw;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 1_000_000) return n;
  problems.push({ path: 'UPSTREAM_MAX_CONCURRENCY', message: `must be an integer from 1 to 1000000, or off, got "${raw}"` });
  return undefined;
}

/** `UPSTREAM_RATE_LIMIT`: `N/ms`, e.g. `50/60000` for 50 requests a minute, or `off`. */
function rateLimit(raw: string | undefined, problems: { path: string; message: string }[]): { max: number; durationMs: number } | 'off' | undefined {
  if (raw === undefined || raw === 'off') return raw;
  const m = /^(\d+)\s*\/\s*(\d+)$/.exec(raw);
  const max = Number(m?.[1]);
  const durationMs = Number(m?.[2]);
  if (m === null || max < 1 || durationMs < 1) {
    problems.push({ path: 'UPSTREAM_RATE_LIMIT', message: `must be N/ms (requests per milliseconds, e.g. 50/60000) or off, got "${raw}"` });
    return undefined;
  }
  return { max, durationMs };
}
