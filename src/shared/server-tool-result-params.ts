/**
 * The result blocks of server tools (web search and fetch, code execution, tool search), as the
 * upstream returns them and as they go back in assistant messages. Types only; see message-params.ts.
 */
import type { Cacheable, DocumentBlockParam, ToolCaller, ToolReferenceBlockParam } from './message-params.js';

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
