import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import type { Config } from '../shared/config.js';
import { createJobStore } from '../shared/job-store.js';
import { loadScripts } from '../shared/scripts.js';
import type { Logger } from '../shared/logger.js';
import { createQueue, createWebhookQueue } from '../shared/queue.js';
import { listen } from '../shared/listen.js';
import { createRedis, logConnectionErrors } from '../shared/redis.js';
import { globalKeys } from '../shared/keys.js';
import { signViewerToken } from '../shared/viewer-token.js';
import { createAuth } from './auth.js';
import { createApp } from './create-app.js';
import { createTokenSecret } from './token-secret.js';
import { nodeSettings, startDeploymentCheck } from './deployment-check.js';
import { createEventHub } from './event-hub.js';
import { createApiMetrics } from './metrics.js';
import { registerQueueMetrics } from './queue-metrics.js';
import { createPresence } from './presence.js';
import { createJobSubmitter } from './submit-job.js';

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
export async function startApi(config: Config, logger: Logger, extraMetrics: () => readonly Registry[] = () => []): Promise<ApiServer> {
  const redis = createRedis(config, 'commands', logger);
  const subscriber = createRedis(config, 'subscriber', logger);
  const queueConnection = createRedis(config, 'queue', logger);
  const store = createJobStore(redis, config);
  await loadScripts(redis);
  const queue = createQueue(queueConnection, config.keyPrefix);
  const webhookQueue = createWebhookQueue(queueConnection, config.keyPrefix);
  webhookQueue.on('error', logConnectionErrors(logger, 'queue connection error'));
  // Without a listener BullMQ's connection errors during a Redis outage reach stderr as stack traces.
  queue.on('error', logConnectionErrors(logger, 'queue connection error'));
  // The gauge reads the hub at scrape time; the hub is created just below.
  const metrics = createApiMetrics({ get viewerCount() { return hub.viewerCount; }, bufferedBytes: () => hub.bufferedBytes() });
  registerQueueMetrics(metrics.registry, queue);
  const nodeId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
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
    onOverflow: () => metrics.slowViewerDisconnects.inc(),
  });
  const tokenSecret = await createTokenSecret({
    configured: config.viewerTokenSecret,
    redis,
    key: globalKeys(config.keyPrefix).tokenSecret,
    logger,
  });
  const stopDeploymentCheck = await startDeploymentCheck({
    redis,
    keyPrefix: config.keyPrefix,
    nodeId,
    settings: nodeSettings(config),
    logger,
  });
  const submit = createJobSubmitter({ store, queue, webhookQueue, secret: () => tokenSecret.current(), ...config });
  const auth = createAuth({ apiKeys: config.apiKeys, tokenSecret });
  const mintViewerToken = (jobId: string) => {
    const expiresAt = Date.now() + config.viewerTokenTtlS * 1000;
    return { token: signViewerToken(tokenSecret.current(), { subject: jobId, expiresAt }), expiresAt };
  };
  const app = createApp({ redis, store, hub, presence, submit, metrics, logger, auth, mintViewerToken, extraMetrics, ...config });

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
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const failures: unknown[] = [];
      tokenSecret.close();
      await stopDeploymentCheck();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await hub.close().catch((err: unknown) => failures.push(err));
      await presence.close().catch((err: unknown) => failures.push(err));
      server.closeIdleConnections();
      // A keep-alive connection that was busy a moment ago would hold close() for keepAliveTimeout.
      const force = setTimeout(() => server.closeAllConnections(), 2000);
      force.unref();
      await closed;
      clearTimeout(force);
      await queue.close().catch((err: unknown) => failures.push(err));
      await webhookQueue.close().catch((err: unknown) => failures.push(err));
      for (const conn of [redis, queueConnection]) await conn.quit().catch((err: unknown) => failures.push(err));
      if (failures.length > 0) throw new AggregateError(failures, 'api close failed');
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
