/** How a prompt's tokens split between the prompt cache and the rest (see `prompt-cache.ts`). */
export interface InputUsage {
  /** `input_tokens`: tokens neither read from nor written to the cache. */
  readonly input: number;
  /** `cache_creation_input_tokens`: tokens written to the cache by this request. */
  readonly cacheCreation: number;
  /** `cache_read_input_tokens`: tokens of the longest cached prefix this request hit. */
  readonly cacheRead: number;
}

/** `usage.server_tool_use`: server tool calls made, by name (web_search, web_fetch). */
export interface ServerToolCounts {
  readonly web_search_requests: number;
  readonly web_fetch_requests: number;
}

/** `message_start.message.usage` of a full-usage answer: one output token, no server tool run yet. */
export function startUsage(input: InputUsage): Record<string, unknown> {
  return {
    input_tokens: input.input,
    cache_creation_input_tokens: input.cacheCreation,
    cache_read_input_tokens: input.cacheRead,
    output_tokens: 1,
    service_tier: 'standard',
    server_tool_use: null,
  };
}

/** `message_delta.usage` of a full-usage answer: every counter, cumulative for the whole message. */
export function deltaUsage(
  input: InputUsage,
  outputTokens: number,
  serverTools: ServerToolCounts | null,
): Record<string, unknown> {
  return {
    input_tokens: input.input,
    cache_creation_input_tokens: input.cacheCreation,
    cache_read_input_tokens: input.cacheRead,
    output_tokens: outputTokens,
    server_tool_use: serverTools,
  };
}

/** `usage` of a complete full-usage Message (non-streaming answer). */
export function messageUsage(
  input: InputUsage,
  outputTokens: number,
  serverTools: ServerToolCounts | null,
): Record<string, unknown> {
  return {
    input_tokens: input.input,
    cache_creation_input_tokens: input.cacheCreation,
    cache_read_input_tokens: input.cacheRead,
    output_tokens: outputTokens,
    service_tier: 'standard',
    server_tool_use: serverTools,
  };
}
