/**
 * The request side of the Messages API as genrelay accepts it in `POST /v1/jobs` (API.md §2): message
 * params, content blocks, tools, tool_choice, thinking and output config. They follow the GA types of
 * `@anthropic-ai/sdk` 1.11.0 field for field (and `src/api/request-schema/sdk-parity.ts` checks that
 * at compile time), so a value built from the SDK's types, or taken from a response, fits. Types only:
 * safe in a browser bundle. Rules a type cannot say (which block goes in which role, paired tool ids,
 * at most 4 cache breakpoints, …) are checked by the server and listed in API.md. Tools, thinking and
 * the other parameters are in `tool-params.ts`, the result blocks of server tools in
 * `server-tool-result-params.ts`; this module re-exports both.
 */
import type {
  BashCodeExecutionToolResultBlockParam,
  CodeExecutionToolResultBlockParam,
  TextEditorCodeExecutionToolResultBlockParam,
  ToolSearchToolResultBlockParam,
  WebFetchToolResultBlockParam,
  WebSearchToolResultBlockParam,
} from './server-tool-result-params.js';

export type * from './server-tool-result-params.js';
export type * from './tool-params.js';

/** A prompt-cache breakpoint. `ttl` defaults to `5m`; a `1h` breakpoint must come before every `5m` one. */
export interface CacheControlEphemeral {
  readonly type: 'ephemeral';
  readonly ttl?: '5m' | '1h';
}

/** `cache_control` where the API accepts it; `null` is the same as leaving it out. */
export type Cacheable = { readonly cache_control?: CacheControlEphemeral | null };

/** Where a citation of a document points. */
type DocumentCitation<T extends string, From extends string, To extends string> = {
  readonly type: T;
  readonly cited_text: string;
  readonly document_index: number;
  readonly document_title: string | null;
  readonly file_id?: string | null;
} & { readonly [K in From | To]: number };

/** A citation on an assistant text block. `file_id` is accepted as responses carry it. */
export type TextCitationParam =
  | DocumentCitation<'char_location', 'start_char_index', 'end_char_index'>
  | DocumentCitation<'page_location', 'start_page_number', 'end_page_number'>
  | DocumentCitation<'content_block_location', 'start_block_index', 'end_block_index'>
  | { readonly type: 'web_search_result_location'; readonly cited_text: string; readonly encrypted_index: string; readonly title: string | null; readonly url: string }
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
