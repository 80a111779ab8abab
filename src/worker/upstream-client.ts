import Anthropic from '@anthropic-ai/sdk';
import type { Logger } from '../shared/logger.js';

/**
 * The SDK client every attempt uses. Retries are off (`maxRetries: 0`): the queue owns retries, so an
 * attempt is one upstream request and the record's `attempt` counts them all. With `logger`, what the
 * SDK logs goes through it (its `console.warn` notices are routed by `routeConsoleToLogger`).
 */
export function createUpstreamClient(options: { apiKey: string; baseUrl: string | undefined; logger?: Logger }): Anthropic {
  const sdkLogger = options.logger?.child({ source: 'anthropic-sdk' });
  return new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseUrl === undefined ? {} : { baseURL: options.baseUrl }),
    maxRetries: 0,
    ...(sdkLogger === undefined
      ? {}
      : {
          logger: {
            debug: (msg: string, ...rest: unknown[]) => sdkLogger.debug({ rest }, msg),
            info: (msg: string, ...rest: unknown[]) => sdkLogger.info({ rest }, msg),
            warn: (msg: string, ...rest: unknown[]) => sdkLogger.warn({ rest }, msg),
            error: (msg: string, ...rest: unknown[]) => sdkLogger.error({ rest }, msg),
          },
        }),
  });
}
