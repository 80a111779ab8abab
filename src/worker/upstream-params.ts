import type Anthropic from '@anthropic-ai/sdk';

/** What a started attempt carries to build its upstream request from (see `JobStore.start`). */
export interface StartedRequest {
  /** The job's upstream parameters as JSON, without `messages` (unless the job predates conversations). */
  readonly params: string;
  /** The job's turn in its conversation. */
  readonly turn: number;
  /** The conversation's messages the upstream gets, JSON each. */
  readonly history: readonly string[];
}

/** The prompt-cache breakpoint genrelay places (the default 5-minute cache). */
const breakpoint = { type: 'ephemeral' } as const;
/** Blocks that cannot carry `cache_control` (the upstream refuses it there). */
const uncacheable: ReadonlySet<string> = new Set(['thinking', 'redacted_thinking']);

/**
 * The streaming request of an attempt: the job's parameters and its conversation's history. From the
 * second turn on, the history ends with a prompt-cache breakpoint (on the last block that may carry
 * one) unless the request placed one itself anywhere: each turn then reads the history the turn
 * before cached, and caches its own for the next (API.md §4.2). The first turn places none: a job that
 * is never continued would pay the cache write for nothing.
 */
export function upstreamParams(started: StartedRequest): Anthropic.MessageCreateParamsStreaming {
  const params = JSON.parse(started.params) as Anthropic.MessageCreateParamsStreaming;
  // One parse for the whole history, not one per message.
  if (started.history.length > 0) params.messages = JSON.parse(`[${started.history.join(',')}]`) as Anthropic.MessageParam[];
  params.stream = true;
  if (started.turn > 1 && !started.params.includes('"cache_control"') && !started.history.some((m) => m.includes('"cache_control"'))) {
    placeBreakpoint(params.messages);
  }
  return params;
}

/** Puts the breakpoint on the last block of the last message that can carry one. */
function placeBreakpoint(messages: Anthropic.MessageParam[]): void {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message === undefined) continue;
    if (typeof message.content === 'string') {
      if (message.content === '') continue;
      message.content = [{ type: 'text', text: message.content, cache_control: breakpoint }];
      return;
    }
    for (let j = message.content.length - 1; j >= 0; j -= 1) {
      const block = message.content[j] as { type: string; cache_control?: unknown } | undefined;
      if (block === undefined || uncacheable.has(block.type)) continue;
      block.cache_control = breakpoint;
      return;
    }
  }
}
