import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../shared/config.js';
import { createJobStore } from '../shared/job-store.js';
import type { Logger } from '../shared/logger.js';
import { createQueue } from '../shared/queue.js';
import { createRedis } from '../shared/redis.js';
import { createApp } from './create-app.js';
import { createEventHub } from './event-hub.js';
import { createApiMetrics } from './metrics.js';
import { createJobSubmitter } from './submit-job.js';

/** A listening API node. */
export interface ApiServer {
  readonly server: Server;
  /** e.g. `http://127.0.0.1:8080` */
  readonly url: string;
  /** Ends SSE responses (clients reconnect elsewhere), stops listening, closes connections; idempotent. */
  close(): Promise<void>;
}

/** Builds the API from the configuration and starts listening on `config.host:config.port`. */
export async function startApi(config: Config, logger: Logger): Promise<ApiServer> {
  const redis = createRedis(config, 'commands', logger);
  const subscriber = createRedis(config, 'subscriber', logger);
  const queueConnection = createRedis(config, 'queue', logger);
  const store = createJobStore(redis, config);
  const queue = createQueue(queueConnection, config.keyPrefix);
  const hub = createEventHub({
    subscriber,
    store,
    logger,
    keepaliveMs: config.keepaliveMs,
    viewerBufferBytes: config.viewerBufferBytes,
  });
  const metrics = createApiMetrics(() => hub.viewerCount);
  const submit = createJobSubmitter({ redis, store, queue, ...config });
  const app = createApp({ redis, store, hub, submit, metrics, logger, ...config });

  const server = createServer(app);
  // SSE responses are long-lived; Node's default request timeout would cut them.
  server.requestTimeout = 0;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url }, 'api listening');

  let closing: Promise<void> | undefined;
  return {
    server,
    url,
    close() {
      closing ??= (async () => {
        const failures: unknown[] = [];
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await hub.close().catch((err: unknown) => failures.push(err));
        server.closeIdleConnections();
        await closed;
        await queue.close().catch((err: unknown) => failures.push(err));
        for (const conn of [redis, queueConnection]) await conn.quit().catch((err: unknown) => failures.push(err));
        if (failures.length > 0) throw new AggregateError(failures, 'api close failed');
      })();
      return closing;
    },
  };
}
