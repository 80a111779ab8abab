import { z } from 'zod';
import { documentBlock, toolCaller, toolReferenceBlock } from './content-blocks.js';
import { cacheable, optionalInt, optionalString, toolUseId } from './primitives.js';

/** `{type: '<tool>_error', error_code}` with the codes the SDK lists for that tool. */
function toolError<const T extends string, const C extends readonly [string, ...string[]]>(type: T, codes: C) {
  return z.strictObject({ type: z.literal(type), error_code: z.enum(codes) });
}

const executionErrors = ['invalid_tool_input', 'unavailable', 'too_many_requests', 'execution_time_exceeded'] as const;

/** The common members of a server tool result: the server_tool_use it answers, and cache_control. */
const resultOf = { tool_use_id: toolUseId, ...cacheable };

const webSearchToolResult = z.strictObject({
  type: z.literal('web_search_tool_result'),
  content: z.union([
    z.array(
      z.strictObject({
        type: z.literal('web_search_result'),
        encrypted_content: z.string(),
        title: z.string(),
        url: z.string(),
        page_age: optionalString,
      }),
    ),
    toolError('web_search_tool_result_error', [
      'invalid_tool_input',
      'unavailable',
      'max_uses_exceeded',
      'too_many_requests',
      'query_too_long',
      'request_too_large',
    ]),
  ]),
  caller: toolCaller.exactOptional(),
  ...resultOf,
});

const webFetchToolResult = z.strictObject({
  type: z.literal('web_fetch_tool_result'),
  content: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('web_fetch_result'), url: z.string(), content: documentBlock, retrieved_at: optionalString }),
    toolError('web_fetch_tool_result_error', [
      'invalid_tool_input',
      'url_too_long',
      'url_not_allowed',
      'url_not_in_prior_context',
      'url_not_accessible',
      'unsupported_content_type',
      'too_many_requests',
      'max_uses_exceeded',
      'unavailable',
      'content_too_large',
    ]),
  ]),
  caller: toolCaller.exactOptional(),
  ...resultOf,
});

const outputFiles = <const T extends string>(type: T) => z.array(z.strictObject({ type: z.literal(type), file_id: z.string() }));
const returnCode = z.int();

const codeExecutionToolResult = z.strictObject({
  type: z.literal('code_execution_tool_result'),
  content: z.discriminatedUnion('type', [
    toolError('code_execution_tool_result_error', executionErrors),
    z.strictObject({
      type: z.literal('code_execution_result'),
      content: outputFiles('code_execution_output'),
      return_code: returnCode,
      stderr: z.string(),
      stdout: z.string(),
    }),
    z.strictObject({
      type: z.literal('encrypted_code_execution_result'),
      content: outputFiles('code_execution_output'),
      encrypted_stdout: z.string(),
      return_code: returnCode,
      stderr: z.string(),
    }),
  ]),
  ...resultOf,
});

const bashCodeExecutionToolResult = z.strictObject({
  type: z.literal('bash_code_execution_tool_result'),
  content: z.discriminatedUnion('type', [
    toolError('bash_code_execution_tool_result_error', [...executionErrors, 'output_file_too_large']),
    z.strictObject({
      type: z.literal('bash_code_execution_result'),
      content: outputFiles('bash_code_execution_output'),
      return_code: returnCode,
      stderr: z.string(),
      stdout: z.string(),
    }),
  ]),
  ...resultOf,
});

const textEditorCodeExecutionToolResult = z.strictObject({
  type: z.literal('text_editor_code_execution_tool_result'),
  content: z.discriminatedUnion('type', [
    toolError('text_editor_code_execution_tool_result_error', [...executionErrors, 'file_not_found']).extend({ error_message: optionalString }),
    z.strictObject({
      type: z.literal('text_editor_code_execution_view_result'),
      content: z.string(),
      file_type: z.enum(['text', 'image', 'pdf']),
      num_lines: optionalInt,
      start_line: optionalInt,
      total_lines: optionalInt,
    }),
    z.strictObject({ type: z.literal('text_editor_code_execution_create_result'), is_file_update: z.boolean() }),
    z.strictObject({
      type: z.literal('text_editor_code_execution_str_replace_result'),
      lines: z.array(z.string()).nullable().exactOptional(),
      new_lines: optionalInt,
      new_start: optionalInt,
      old_lines: optionalInt,
      old_start: optionalInt,
    }),
  ]),
  ...resultOf,
});

const toolSearchToolResult = z.strictObject({
  type: z.literal('tool_search_tool_result'),
  content: z.discriminatedUnion('type', [
    toolError('tool_search_tool_result_error', executionErrors).extend({ error_message: optionalString }),
    z.strictObject({ type: z.literal('tool_search_tool_search_result'), tool_references: z.array(toolReferenceBlock) }),
  ]),
  ...resultOf,
});

/** The results of server tools, as the upstream returned them: they go back only in assistant messages. */
export const serverToolResultBlocks = [
  webSearchToolResult,
  webFetchToolResult,
  codeExecutionToolResult,
  bashCodeExecutionToolResult,
  textEditorCodeExecutionToolResult,
  toolSearchToolResult,
] as const;

/** The `type` of every server tool result block. */
export const serverToolResultTypes: ReadonlySet<string> = new Set(serverToolResultBlocks.map((block) => block.shape.type.value));
