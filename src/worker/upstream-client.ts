import Anthropic from '@anthropic-ai/sdk';

/**
 * The SDK client every attempt uses. Retries are off (`maxRetries: 0`): the queue owns retries, so an
 * attempt is one upstream request and the record's `attempt` counts them all.
 */
export function createUpstreamClient(options: { apiKey: string; baseUrl: string | undefined }): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseUrl === undefined ? {} : { baseURL: options.baseUrl }),
    maxRetries: 0,
  });
}
