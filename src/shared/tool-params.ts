/**
 * The request parameters besides messages: tool definitions, tool_choice, thinking, output config and
 * the rest of a generation's parameters, as `POST /v1/jobs` accepts them. Types only; see message-params.ts.
 */
import type { Cacheable, CacheControlEphemeral, CitationsConfigParam, JsonObject, TextBlockParam } from './message-params.js';

/** A tool's input schema: a JSON Schema of an object (not validated beyond its top level). */
export interface ToolInputSchema {
  readonly type: 'object';
  readonly properties?: unknown;
  readonly required?: readonly string[] | null;
  readonly [keyword: string]: unknown;
}

/** Which callers may use a tool: the model directly, or code in a code execution tool. */
export type AllowedCaller = 'direct' | 'code_execution_20250825' | 'code_execution_20260120' | 'code_execution_20260521';

/** Fields every tool but the toolsets has. */
interface ToolCommon extends Cacheable {
  readonly allowed_callers?: readonly AllowedCaller[];
  readonly defer_loading?: boolean;
  readonly strict?: boolean;
}

/** A tool the client runs. `name` matches `^[a-zA-Z0-9_-]{1,128}$` and is unique in `tools`. */
export interface ClientTool extends ToolCommon {
  readonly type?: 'custom' | null;
  readonly name: string;
  readonly description?: string;
  readonly input_schema: ToolInputSchema;
  readonly eager_input_streaming?: boolean | null;
  readonly input_examples?: readonly JsonObject[];
}

/** Where a web search may look: `allowed_domains` or `blocked_domains`, not both. */
export type WebSearchTool = ToolCommon & {
  readonly name: 'web_search';
  readonly allowed_domains?: readonly string[] | null;
  readonly blocked_domains?: readonly string[] | null;
  /** At least 1. */
  readonly max_uses?: number | null;
  readonly user_location?: {
    readonly type: 'approximate';
    readonly city?: string | null;
    readonly country?: string | null;
    readonly region?: string | null;
    readonly timezone?: string | null;
  } | null;
} & (
    | { readonly type: 'web_search_20250305' | 'web_search_20260209' }
    | { readonly type: 'web_search_20260318'; readonly response_inclusion?: 'full' | 'excluded' }
  );

/** Which URLs a web fetch may follow, by where they came from. */
type UrlSource =
  | { readonly type: 'all' }
  | { readonly type: 'none' }
  | { readonly type: 'only' | 'except'; readonly tools: readonly { readonly type: 'tool_reference'; readonly name: string }[] };

/** The web fetch tool: `allowed_domains` or `blocked_domains`, not both. */
export type WebFetchTool = ToolCommon & {
  readonly name: 'web_fetch';
  readonly allowed_domains?: readonly string[] | null;
  readonly blocked_domains?: readonly string[] | null;
  readonly citations?: CitationsConfigParam | null;
  readonly max_content_tokens?: number | null;
  readonly max_uses?: number | null;
  readonly url_sources?: {
    readonly client_tool_results?: UrlSource;
    readonly server_tool_results?: UrlSource;
    readonly user_input?: { readonly type: 'all' } | { readonly type: 'none' };
  } | null;
} & (
    | { readonly type: 'web_fetch_20250910' | 'web_fetch_20260209' }
    | { readonly type: 'web_fetch_20260309'; readonly use_cache?: boolean }
    | { readonly type: 'web_fetch_20260318'; readonly use_cache?: boolean; readonly response_inclusion?: 'full' | 'excluded' }
  );

/** Code execution and tool search: the name is fixed by the type. */
export type CodeExecutionOrToolSearchTool = ToolCommon &
  (
    | {
        readonly type: 'code_execution_20250522' | 'code_execution_20250825' | 'code_execution_20260120' | 'code_execution_20260521';
        readonly name: 'code_execution';
      }
    | { readonly type: 'tool_search_tool_bm25_20251119' | 'tool_search_tool_bm25'; readonly name: 'tool_search_tool_bm25' }
    | { readonly type: 'tool_search_tool_regex_20251119' | 'tool_search_tool_regex'; readonly name: 'tool_search_tool_regex' }
  );

/** Bash, memory and the text editors (client-executed tools the model knows): the name is fixed by the type. */
export type BuiltInClientTool = ToolCommon & { readonly input_examples?: readonly JsonObject[] } & (
    | { readonly type: 'bash_20250124'; readonly name: 'bash' }
    | { readonly type: 'memory_20250818'; readonly name: 'memory' }
    | { readonly type: 'text_editor_20250124'; readonly name: 'str_replace_editor' }
    | { readonly type: 'text_editor_20250429'; readonly name: 'str_replace_based_edit_tool' }
    | { readonly type: 'text_editor_20250728'; readonly name: 'str_replace_based_edit_tool'; readonly max_characters?: number | null }
  );

/** One action of a toolset: on or off, loaded at once or on demand. */
export interface ToolsetActionConfig {
  readonly defer_loading?: boolean | null;
  readonly enabled?: boolean | null;
}

/** The actions of the browser toolset. */
export type BrowserAction =
  | 'close_tab' | 'double_click' | 'file_upload' | 'find' | 'form_input' | 'get_page_text' | 'hold_key' | 'hover'
  | 'javascript_exec' | 'key' | 'left_click' | 'left_click_drag' | 'left_mouse_down' | 'left_mouse_up' | 'list_tabs'
  | 'middle_click' | 'mouse_move' | 'navigate' | 'new_tab' | 'read_console' | 'read_network' | 'read_page'
  | 'right_click' | 'screenshot' | 'scroll' | 'scroll_to' | 'switch_tab' | 'triple_click' | 'type' | 'wait' | 'zoom';

/** The actions of the computer toolset. */
export type ComputerAction =
  | 'cursor_position' | 'double_click' | 'hold_key' | 'key' | 'left_click' | 'left_click_drag' | 'left_mouse_down'
  | 'left_mouse_up' | 'middle_click' | 'mouse_move' | 'right_click' | 'screenshot' | 'scroll' | 'triple_click'
  | 'type' | 'wait' | 'zoom';

/** A toolset: a family of tools without a `name` of its own. */
export type ToolsetTool = Cacheable &
  (
    | { readonly type: 'browser_toolset_20260801'; readonly configs?: { readonly [A in BrowserAction]?: ToolsetActionConfig | null } | null }
    | { readonly type: 'computer_toolset_20260801'; readonly configs?: { readonly [A in ComputerAction]?: ToolsetActionConfig | null } | null }
  );

/** Every tool definition `tools` may hold. */
export type ToolDefinition = ClientTool | WebSearchTool | WebFetchTool | CodeExecutionOrToolSearchTool | BuiltInClientTool | ToolsetTool;

/** How the model should use tools. `tool.name` must name one of `tools`; `any` and `tool` cannot go with `thinking.enabled`. */
export type ToolChoice =
  | { readonly type: 'auto'; readonly disable_parallel_tool_use?: boolean }
  | { readonly type: 'any'; readonly disable_parallel_tool_use?: boolean }
  | { readonly type: 'tool'; readonly name: string; readonly disable_parallel_tool_use?: boolean }
  | { readonly type: 'none' };

/** Extended thinking. `budget_tokens` is at least 1024 and less than `max_tokens`. */
export type ThinkingConfigParam =
  | { readonly type: 'enabled'; readonly budget_tokens: number; readonly display?: 'summarized' | 'omitted' | null }
  | { readonly type: 'adaptive'; readonly display?: 'summarized' | 'omitted' | null }
  | { readonly type: 'between_tools' }
  | { readonly type: 'disabled' };

/** Effort and structured output. */
export interface OutputConfig {
  readonly effort?: 'low' | 'medium' | 'high' | 'xhigh' | 'max' | null;
  readonly format?: { readonly type: 'json_schema'; readonly schema: JsonObject } | null;
}

/** A code execution container to reuse (by id), optionally with skills. */
export interface ContainerParams {
  readonly id?: string | null;
  readonly skills?: readonly { readonly skill_id: string; readonly type: 'anthropic' | 'custom'; readonly version?: string }[] | null;
}

/**
 * The Messages parameters of a job besides `max_tokens` and `messages`, forwarded to the upstream as
 * given. With `previous_job_id`, each one left out comes from the previous job.
 */
export interface GenerationParams {
  /** Default: the server's `DEFAULT_MODEL`. */
  readonly model?: string;
  readonly system?: string | readonly TextBlockParam[];
  /** Names unique. */
  readonly tools?: readonly ToolDefinition[];
  readonly tool_choice?: ToolChoice;
  readonly thinking?: ThinkingConfigParam;
  readonly output_config?: OutputConfig;
  /** Caches up to the last cacheable block; counts as one of the 4 breakpoints. */
  readonly cache_control?: CacheControlEphemeral | null;
  /** At most 16. */
  readonly stop_sequences?: readonly string[];
  readonly service_tier?: 'auto' | 'standard_only';
  readonly speed?: 'standard' | 'fast' | null;
  /** A container id to reuse, or container parameters. */
  readonly container?: string | ContainerParams | null;
  readonly inference_geo?: string | null;
  /** Refused: API version 2026-10-21, which the server's SDK sends, answers 400 for it even at its default. */
  readonly temperature?: never;
  /** Refused, as `temperature`. */
  readonly top_p?: never;
  /** Refused, as `temperature`. */
  readonly top_k?: never;
}
