/**
 * The request side of the Messages API as genrelay accepts it in `POST /v1/jobs` (API.md §2): message
 * params, content blocks, tools, tool_choice, thinking and output config. They follow the GA types of
 * `@anthropic-ai/sdk` 1.11.0 field for field (and `src/api/request-schema/sdk-parity.ts` checks that
 * at compile time), so a value built from the SDK's types, or taken from a response, fits. Types only:
 * safe in a browser bundle. Rules a type cannot say (which block goes in which role, paired tool ids,
 * at most 4 cache breakpoints, …) are checked by the server and listed in API.md.
 */

/** A prompt-cache breakpoint. `ttl` defaults to `5m`; a `1h` breakpoint must come before every `5m` one. */
export interface CacheControlEphemeral {
  readonly type: 'ephemeral';
  readonly ttl?: '5m' | '1h';
}

/** `cache_control` where the API accepts it; `null` is the same as leaving it out. */
type Cacheable = { readonly cache_control?: CacheControlEphemeral | null };

/** A citation on an assistant text block. `file_id` is accepted as responses carry it. */
export type TextCitationParam =
  | {
      readonly type: 'char_location';
      readonly cited_text: string;
      readonly document_index: number;
      readonly document_title: string | null;
      readonly start_char_index: number;
      readonly end_char_index: number;
      readonly file_id?: string | null;
    }
  | {
      readonly type: 'page_location';
      readonly cited_text: string;
      readonly document_index: number;
      readonly document_title: string | null;
      readonly start_page_number: number;
      readonly end_page_number: number;
      readonly file_id?: string | null;
    }
  | {
      readonly type: 'content_block_location';
      readonly cited_text: string;
      readonly document_index: number;
      readonly document_title: string | null;
      readonly start_block_index: number;
      readonly end_block_index: number;
      readonly file_id?: string | null;
    }
  | {
      readonly type: 'web_search_result_location';
      readonly cited_text: string;
      readonly encrypted_index: string;
      readonly title: string | null;
      readonly url: string;
    }
  | {
      readonly type: 'search_result_location';
      readonly cited_text: string;
      readonly search_result_index: number;
      readonly source: string;
      readonly title: string | null;
      readonly start_block_index: number;
      readonly end_block_index: number;
    };

/** Text. Non-empty. `citations` (non-empty) only in assistant messages: API version 2026-10-21 refuses them from users. */
export interface TextBlockParam extends Cacheable {
  readonly type: 'text';
  readonly text: string;
  readonly citations?: readonly TextCitationParam[] | null;
}

/** An image: base64 data, a URL, or a Files API id. */
export interface ImageBlockParam extends Cacheable {
  readonly type: 'image';
  readonly source:
    | { readonly type: 'base64'; readonly media_type: 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp'; readonly data: string }
    | { readonly type: 'url'; readonly url: string }
    | { readonly type: 'file'; readonly file_id: string };
  readonly transformations?: { readonly oversized_image?: 'downsize' | 'error' } | null;
}

/** Whether the model may cite a document or search result. */
export interface CitationsConfigParam {
  readonly enabled?: boolean;
}

/** A document (PDF, plain text, or content blocks). Only in user messages: API version 2026-10-21 refuses it from the assistant. */
export interface DocumentBlockParam extends Cacheable {
  readonly type: 'document';
  readonly source:
    | { readonly type: 'base64'; readonly media_type: 'application/pdf'; readonly data: string }
    | { readonly type: 'text'; readonly media_type: 'text/plain'; readonly data: string }
    | { readonly type: 'content'; readonly content: string | readonly (TextBlockParam | ImageBlockParam)[] }
    | { readonly type: 'url'; readonly url: string }
    | { readonly type: 'file'; readonly file_id: string };
  readonly citations?: CitationsConfigParam | null;
  readonly context?: string | null;
  readonly title?: string | null;
}

/** A search result the model may cite. */
export interface SearchResultBlockParam extends Cacheable {
  readonly type: 'search_result';
  readonly content: readonly TextBlockParam[];
  readonly source: string;
  readonly title: string;
  readonly citations?: CitationsConfigParam;
}

/** A reference to a tool by name (tool search results). */
export interface ToolReferenceBlockParam extends Cacheable {
  readonly type: 'tool_reference';
  readonly tool_name: string;
}

/** The browser's tabs and recent changes, as a browser toolset's tool result. */
export interface BrowserStateBlockParam extends Cacheable {
  readonly type: 'browser_state';
  readonly tabs: readonly { readonly tab_id: string; readonly title: string; readonly url: string; readonly active?: boolean }[];
  readonly state_changes?:
    | readonly (
        | { readonly type: 'tab_opened'; readonly tab_id: string }
        | { readonly type: 'download_started'; readonly download_id: string; readonly url: string }
        | {
            readonly type: 'download_completed';
            readonly download_id: string;
            readonly url: string;
            readonly path?: string | null;
            readonly size_bytes?: number | null;
          }
        | { readonly type: 'download_failed'; readonly download_id: string; readonly url: string; readonly error?: string | null }
      )[]
    | null;
}

/** Extended thinking, sent back unmodified with its signature (required). No `cache_control`. Assistant only. */
export interface ThinkingBlockParam {
  readonly type: 'thinking';
  readonly thinking: string;
  readonly signature: string;
}

/** Redacted thinking, sent back unmodified. No `cache_control`. Assistant only. */
export interface RedactedThinkingBlockParam {
  readonly type: 'redacted_thinking';
  readonly data: string;
}

/** Who called a tool: the model directly, or code it ran in a code execution tool. */
export type ToolCaller =
  | { readonly type: 'direct' }
  | { readonly type: 'code_execution_20250825'; readonly tool_id: string }
  | { readonly type: 'code_execution_20260120'; readonly tool_id: string };

/** A call of a client tool. Assistant only; answered by a `tool_result` in the next user message. */
export interface ToolUseBlockParam extends Cacheable {
  readonly type: 'tool_use';
  /** `^[a-zA-Z0-9_-]+$`, unique in the request. */
  readonly id: string;
  readonly name: string;
  /** A JSON object. */
  readonly input: { readonly [key: string]: unknown };
  readonly caller?: ToolCaller;
  readonly toolset_name?: string | null;
}

/** What a tool returned. User only; first in its message, answering a `tool_use` of the message before. */
export interface ToolResultBlockParam extends Cacheable {
  readonly type: 'tool_result';
  readonly tool_use_id: string;
  readonly content?:
    | string
    | readonly (TextBlockParam | ImageBlockParam | SearchResultBlockParam | DocumentBlockParam | ToolReferenceBlockParam | BrowserStateBlockParam)[];
  readonly is_error?: boolean;
  readonly toolset_name?: string | null;
}

/** Names of the server tools the model can call (`server_tool_use.name`). */
export type ServerToolName =
  | 'web_search'
  | 'web_fetch'
  | 'code_execution'
  | 'bash_code_execution'
  | 'text_editor_code_execution'
  | 'tool_search_tool_regex'
  | 'tool_search_tool_bm25';

/** A call of a server tool, as the upstream returned it. Assistant only. */
export interface ServerToolUseBlockParam extends Cacheable {
  readonly type: 'server_tool_use';
  readonly id: string;
  readonly name: ServerToolName;
  readonly input: { readonly [key: string]: unknown };
  readonly caller?: ToolCaller;
}

/** `{type: '<tool>_error', error_code}` of a server tool result. */
type ToolError<T extends string, C extends string> = { readonly type: T; readonly error_code: C };

/** Results of web search, as returned. Assistant only. */
export interface WebSearchToolResultBlockParam extends Cacheable {
  readonly type: 'web_search_tool_result';
  readonly tool_use_id: string;
  readonly content:
    | readonly {
        readonly type: 'web_search_result';
        readonly encrypted_content: string;
        readonly title: string;
        readonly url: string;
        readonly page_age?: string | null;
      }[]
    | ToolError<
        'web_search_tool_result_error',
        'invalid_tool_input' | 'unavailable' | 'max_uses_exceeded' | 'too_many_requests' | 'query_too_long' | 'request_too_large'
      >;
  readonly caller?: ToolCaller;
}

/** A fetched page, as returned. Assistant only. */
export interface WebFetchToolResultBlockParam extends Cacheable {
  readonly type: 'web_fetch_tool_result';
  readonly tool_use_id: string;
  readonly content:
    | { readonly type: 'web_fetch_result'; readonly url: string; readonly content: DocumentBlockParam; readonly retrieved_at?: string | null }
    | ToolError<
        'web_fetch_tool_result_error',
        | 'invalid_tool_input'
        | 'url_too_long'
        | 'url_not_allowed'
        | 'url_not_in_prior_context'
        | 'url_not_accessible'
        | 'unsupported_content_type'
        | 'too_many_requests'
        | 'max_uses_exceeded'
        | 'unavailable'
        | 'content_too_large'
      >;
  readonly caller?: ToolCaller;
}

/** Files a code execution wrote. */
type OutputFiles<T extends string> = readonly { readonly type: T; readonly file_id: string }[];

/** A code execution result, as returned. Assistant only. */
export interface CodeExecutionToolResultBlockParam extends Cacheable {
  readonly type: 'code_execution_tool_result';
  readonly tool_use_id: string;
  readonly content:
    | ToolError<'code_execution_tool_result_error', 'invalid_tool_input' | 'unavailable' | 'too_many_requests' | 'execution_time_exceeded'>
    | {
        readonly type: 'code_execution_result';
        readonly content: OutputFiles<'code_execution_output'>;
        readonly return_code: number;
        readonly stderr: string;
        readonly stdout: string;
      }
    | {
        readonly type: 'encrypted_code_execution_result';
        readonly content: OutputFiles<'code_execution_output'>;
        readonly encrypted_stdout: string;
        readonly return_code: number;
        readonly stderr: string;
      };
}

/** A bash (code execution) result, as returned. Assistant only. */
export interface BashCodeExecutionToolResultBlockParam extends Cacheable {
  readonly type: 'bash_code_execution_tool_result';
  readonly tool_use_id: string;
  readonly content:
    | ToolError<
        'bash_code_execution_tool_result_error',
        'invalid_tool_input' | 'unavailable' | 'too_many_requests' | 'execution_time_exceeded' | 'output_file_too_large'
      >
    | {
        readonly type: 'bash_code_execution_result';
        readonly content: OutputFiles<'bash_code_execution_output'>;
        readonly return_code: number;
        readonly stderr: string;
        readonly stdout: string;
      };
}

/** A text editor (code execution) result, as returned. Assistant only. */
export interface TextEditorCodeExecutionToolResultBlockParam extends Cacheable {
  readonly type: 'text_editor_code_execution_tool_result';
  readonly tool_use_id: string;
  readonly content:
    | (ToolError<
        'text_editor_code_execution_tool_result_error',
        'invalid_tool_input' | 'unavailable' | 'too_many_requests' | 'execution_time_exceeded' | 'file_not_found'
      > & { readonly error_message?: string | null })
    | {
        readonly type: 'text_editor_code_execution_view_result';
        readonly content: string;
        readonly file_type: 'text' | 'image' | 'pdf';
        readonly num_lines?: number | null;
        readonly start_line?: number | null;
        readonly total_lines?: number | null;
      }
    | { readonly type: 'text_editor_code_execution_create_result'; readonly is_file_update: boolean }
    | {
        readonly type: 'text_editor_code_execution_str_replace_result';
        readonly lines?: readonly string[] | null;
        readonly new_lines?: number | null;
        readonly new_start?: number | null;
        readonly old_lines?: number | null;
        readonly old_start?: number | null;
      };
}

/** A tool search result, as returned. Assistant only. */
export interface ToolSearchToolResultBlockParam extends Cacheable {
  readonly type: 'tool_search_tool_result';
  readonly tool_use_id: string;
  readonly content:
    | (ToolError<'tool_search_tool_result_error', 'invalid_tool_input' | 'unavailable' | 'too_many_requests' | 'execution_time_exceeded'> & {
        readonly error_message?: string | null;
      })
    | { readonly type: 'tool_search_tool_search_result'; readonly tool_references: readonly ToolReferenceBlockParam[] };
}

/** A file to put in the code execution container. */
export interface ContainerUploadBlockParam extends Cacheable {
  readonly type: 'container_upload';
  readonly file_id: string;
}

/** Every content block a message may hold (which role may hold which: API.md §2). */
export type ContentBlockParam =
  | TextBlockParam
  | ImageBlockParam
  | DocumentBlockParam
  | SearchResultBlockParam
  | ThinkingBlockParam
  | RedactedThinkingBlockParam
  | ToolUseBlockParam
  | ToolResultBlockParam
  | ServerToolUseBlockParam
  | WebSearchToolResultBlockParam
  | WebFetchToolResultBlockParam
  | CodeExecutionToolResultBlockParam
  | BashCodeExecutionToolResultBlockParam
  | TextEditorCodeExecutionToolResultBlockParam
  | ToolSearchToolResultBlockParam
  | ContainerUploadBlockParam;

/** A user turn: a non-empty string, or blocks (text, image, document, search_result, tool_result, container_upload). */
export interface UserMessageParam {
  readonly role: 'user';
  readonly content: string | readonly ContentBlockParam[];
}

/** An assistant turn: what the model said, sent back (no document, no tool_result). */
export interface AssistantMessageParam {
  readonly role: 'assistant';
  readonly content: string | readonly ContentBlockParam[];
}

/** A mid-conversation system message: right after a user message; only some models accept it. */
export interface SystemMessageParam {
  readonly role: 'system';
  readonly content: string | readonly TextBlockParam[];
}

/** One message of the conversation. */
export type MessageParam = UserMessageParam | AssistantMessageParam | SystemMessageParam;

/** A JSON object with any members (tool inputs, schemas). */
export type JsonObject = { readonly [key: string]: unknown };

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
