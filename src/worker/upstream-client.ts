import Anthropic from '@anthropic-ai/sdk';
import type { TracerProvider } from '@opentelemetry/api';
import type { Logger } from '../shared/logger.js';

/**
 * The SDK client every attempt uses. Retries are off (`maxRetries: 0`): the queue owns retries, so an
 * attempt is one upstream request and the record's `attempt` counts them all. With `logger`, what the
 * SDK logs goes through it (its `console.warn` notices are routed by `routeConsoleToLogger`).
 * With `tracerProvider` (tracing on) the SDK's own OpenTelemetry tracing makes each request an
 * `anthropic.messages.create` CLIENT span under the attempt's, and sends its `traceparent` upstream;
 * without one its tracing is off (`openTelemetry: false`), whatever `ANTHROPIC_OPEN_TELEMETRY` says.
 */
export function createUpstreamClient(options: {
  apiKey: string;
  baseUrl: string | undefined;
  logger?: Logger;
  tracerProvider?: TracerProvider | undefined;
}): Anthropic {
  const sdkLogger = options.logger?.child({ source: 'anthropic-sdk' });
  return new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseUrl === undefined ? {} : { baseURL: options.baseUrl }),
    maxRetries: 0,
    openTelemetry: options.tracerProvider === undefined ? false : { tracerProvider: options.tracerProvider },
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
