import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Tracer } from '@opentelemetry/api';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Config } from '../shared/config.js';
import { createJobStore } from '../shared/job-store.js';
import { loadScripts } from '../shared/scripts.js';
import type { Logger } from '../shared/logger.js';
import { createQueue, createWebhookQueue } from '../shared/queue.js';
import { listen } from '../shared/listen.js';
import { closeAll } from '../shared/close-all.js';
import { createRedis, dropRedis, logConnectionErrors } from '../shared/redis.js';
import { globalKeys, recordFields } from '../shared/keys.js';
import { signViewerToken } from '../shared/viewer-token.js';
import { createAuth } from './auth.js';
import { createApp } from './create-app.js';
import { createTokenSecret, type TokenSecret } from './token-secret.js';
import { nodeSettings, startDeploymentCheck } from './deployment-check.js';
import { createEventHub } from './event-hub.js';
import { createApiMetrics } from './metrics.js';
import { registerQueueMetrics } from './queue-metrics.js';
import { createPresence } from './presence.js';
import { createJobSubmitter } from './submit-job.js';
import { cancelJob } from './cancel-job.js';
import { createJob } from './create-job.js';
import { jobRequestSchema } from './job-request.js';
import { createRecordReader } from './read-record.js';
import { attachSocketServer } from './ws/socket-server.js';

/** A listening API node. */
export interface ApiServer {
  readonly server: Server;
  /** e.g. `http://127.0.0.1:8080` */
  readonly url: string;
  /** Ends SSE responses (clients reconnect elsewhere), stops listening, closes connections; idempotent. */
  close(): Promise<void>;
}

/**
 * Builds the API from the configuration and starts listening on `config.host:config.port`;
 * `extraMetrics` are more registries served at `/metrics`, read at each scrape (the worker's, when
 * both run in one process and the worker starts after the API).
 */
/** Options of {@link startApi} beyond the configuration (tests shorten the socket's timers). */
export interface ApiOptions {
  /** More registries served at `/metrics`, read at each scrape. */
  readonly extraMetrics?: () => readonly Registry[];
  /** How often sockets are pinged. Default 30 s. */
  readonly socketPingMs?: number;
  /** How long a socket has to send `auth`. Default 10 s. */
  readonly socketAuthWindowMs?: number;
  /** genrelay's tracer when tracing is on (`createTracing`): submission and delivery spans. Default: off. */
  readonly tracer?: Tracer | undefined;
}

export async function startApi(config: Config, logger: Logger, options: ApiOptions = {}): Promise<ApiServer> {
  const extraMetrics = options.extraMetrics ?? (() => []);
  const redis = createRedis(config, 'commands', logger);
  const subscriber = createRedis(config, 'subscriber', logger);
  const queueConnection = createRedis(config, 'queue', logger);
  const store = createJobStore(redis, config);
  const nodeId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  // What start-up does in Redis comes first, before any timer or server exists: when it fails (Redis
  // refusing writes, a missing permission) only the connections and the token secret's timer are
  // there to close, and they are.
  let tokenSecret: TokenSecret | undefined;
  let idempotency: TokenSecret | undefined;
  let stopDeploymentCheck: () => Promise<void>;
  try {
    await loadScripts(redis);
    tokenSecret = await createTokenSecret({
      configured: config.viewerTokenSecret,
      redis,
      key: globalKeys(config.keyPrefix).tokenSecret,
      logger,
    });
    // Its own secret, so rotating the viewer-token secret never changes the job an
    // Idempotency-Key maps to (a retry of an in-flight submission would become a second job).
    idempotency = await createTokenSecret({
      configured: config.idempotencySecret,
      variable: 'IDEMPOTENCY_SECRET',
      redis,
      key: globalKeys(config.keyPrefix).idempotencySecret,
      logger,
    });
    stopDeploymentCheck = await startDeploymentCheck({
      redis,
      keyPrefix: config.keyPrefix,
      nodeId,
      settings: nodeSettings(config),
      logger,
    });
  } catch (err) {
    const opened = [tokenSecret, idempotency];
    await closeAll('api start-up cleanup', [...opened.map((o) => () => o?.close()), ...[redis, subscriber, queueConnection].map((c) => () => dropRedis(c))]);
    throw err;
  }
  const secret = tokenSecret;
  const idempotencySecret = idempotency;
  const queue = createQueue(queueConnection, config.keyPrefix);
  const webhookQueue = createWebhookQueue(queueConnection, config.keyPrefix);
  webhookQueue.on('error', logConnectionErrors(logger, 'queue connection error'));
  // Without a listener BullMQ's connection errors during a Redis outage reach stderr as stack traces.
  queue.on('error', logConnectionErrors(logger, 'queue connection error'));
  // The gauge reads the hub at scrape time; the hub is created just below.
  const metrics = createApiMetrics({ viewerCount: (t) => hub.viewerCount(t), bufferedBytes: (t) => hub.bufferedBytes(t) });
  registerQueueMetrics(metrics.registry, queue);
  const presence = createPresence({
    redis,
    keyOf: (id) => store.keys(id).viewers,
    nodeId,
    logger,
    ttlMs: config.presenceTtlMs,
  });
  const hub = createEventHub({
    subscriber,
    store,
    logger,
    keepaliveMs: config.keepaliveMs,
    viewerBufferBytes: config.viewerBufferBytes,
    replayStallMs: config.viewerStallTimeoutMs,
    onViewers: (jobId, count) => presence.set(jobId, count),
    onOverflow: (transport) => metrics.slowViewerDisconnects.inc({ transport }),
    tracing:
      options.tracer === undefined
        ? undefined
        : { tracer: options.tracer, readTraceparent: async (id) => (await redis.hget(store.keys(id).record, recordFields.traceparent)) ?? undefined },
  });
  const submit = createJobSubmitter({ store, queue, webhookQueue, secret: () => idempotencySecret.current(), ...config });
  const auth = createAuth({ apiKeys: config.apiKeys, tokenSecret: secret, previousSecrets: config.viewerTokenPreviousSecrets });
  const mintViewerToken = (jobId: string) => {
    const expiresAt = Date.now() + config.viewerTokenTtlS * 1000;
    return { token: signViewerToken(secret.current(), { subject: jobId, expiresAt }), expiresAt };
  };
  const app = createApp({ redis, store, hub, presence, submit, metrics, logger, auth, mintViewerToken, extraMetrics, ...config, tracer: options.tracer });
  const schema = jobRequestSchema(config);
  const readView = createRecordReader(store, presence);
  const control = globalKeys(config.keyPrefix).control;

  // requestTimeout bounds receiving the request (headers and body), never the response, so a client
  // cannot hold a socket by trickling a body while SSE streams run for as long as their jobs do.
  // Node checks these timeouts every connectionsCheckingInterval (30 s by default): often enough here.
  const server = createServer(
    {
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: Math.min(10_000, config.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs),
    },
    app,
  );
  server.keepAliveTimeout = 65_000;
  server.maxConnections = config.maxConnections;
  const sockets = attachSocketServer(server, {
    hub,
    store,
    auth,
    logger,
    keyPrefix: config.keyPrefix,
    maxPayloadBytes: config.maxBodyBytes,
    createJob: (body, key) => createJob({ submit, metrics, mintViewerToken, readView }, schema, body, key, '/idempotency_key'),
    cancelJob: (id) => cancelJob(store, redis, control, id),
    onSubscribe: () => metrics.viewerConnections.inc({ transport: 'ws' }),
    ...(options.socketPingMs === undefined ? {} : { pingEveryMs: options.socketPingMs }),
    ...(options.socketAuthWindowMs === undefined ? {} : { authWindowMs: options.socketAuthWindowMs }),
  });
  metrics.sockets(() => sockets.size);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A keep-alive connection that was busy a moment ago would hold close() for keepAliveTimeout.
      const force = setTimeout(() => server.closeAllConnections(), 2000);
      force.unref();
      await closeAll('api close failed', [
        () => secret.close(),
        () => idempotencySecret.close(),
        () => stopDeploymentCheck(),
        // Sockets first (1001: clients move to another node and resubscribe with `after`), so the
        // hub's closing does not send their subscriptions a `complete` they would take for the end.
        () => sockets.close(),
        () => hub.close(),
        () => presence.close(),
        async () => {
          server.closeIdleConnections();
          await closed;
          clearTimeout(force);
        },
        () => queue.close(),
        () => webhookQueue.close(),
        () => redis.quit(),
        () => queueConnection.quit(),
      ]).finally(() => clearTimeout(force));
    })();
    return closing;
  };
  try {
    await listen(server, config.port, config.host, 'PORT');
  } catch (err) {
    // Nothing half-started: the connections opened above go too.
    await close().catch(() => {});
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url }, 'api listening');
  return { server, url, close };
}
