/**
 * The assistant message's content as a job's record holds it (`content`): the upstream's content
 * blocks, built from the job's events by {@link foldContent}. Types only, plus the fold: imports
 * nothing with a runtime, so the client library and the pages use the very same code.
 */

/** A text block; `citations` when the upstream cited sources for it. */
export interface TextContent {
  readonly type: 'text';
  readonly text: string;
  readonly citations?: readonly Readonly<Record<string, unknown>>[] | null;
  readonly incomplete?: true;
}

/** Extended thinking; `signature` is what lets it go back to the upstream in the next turn. */
export interface ThinkingContent {
  readonly type: 'thinking';
  readonly thinking: string;
  readonly signature: string;
  readonly incomplete?: true;
}

/**
 * A tool call (client `tool_use`, or a `server_tool_use` the upstream runs itself). Finished, it has
 * the parsed `input`. Unfinished (the job ended inside it), or finished with JSON that does not parse,
 * it is `incomplete` and has only `partial_json`, the raw text received: never a guessed input.
 */
export interface ToolContent {
  readonly type: 'tool_use' | 'server_tool_use';
  readonly id: string;
  readonly name: string;
  readonly input?: unknown;
  readonly partial_json?: string;
  /** Why a finished tool block's input is unusable (it did not parse). */
  readonly input_error?: string;
  readonly incomplete?: true;
  readonly [field: string]: unknown;
}

/** Any other block (redacted thinking, server tool results, types newer than this version), as sent. */
export interface OtherContent {
  readonly type: string;
  readonly incomplete?: true;
  readonly [field: string]: unknown;
}

/** One block of the assistant message. */
export type ContentBlockView = TextContent | ThinkingContent | ToolContent | OtherContent;

/** Whether `block` is a tool call (client or server). */
export function isToolContent(block: ContentBlockView): block is ToolContent {
  return block.type === 'tool_use' || block.type === 'server_tool_use' || block.type === 'mcp_tool_use';
}
