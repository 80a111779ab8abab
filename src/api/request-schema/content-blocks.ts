import { z } from 'zod';
import { cacheable, jsonObject, optionalInt, optionalString, toolUseId } from './primitives.js';

const index = z.int().min(0);

/** A citation on a text block; `file_id` is accepted because responses carry it. */
const textCitation = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('char_location'),
    cited_text: z.string(),
    document_index: index,
    document_title: z.string().nullable(),
    start_char_index: index,
    end_char_index: index,
    file_id: optionalString,
  }),
  z.strictObject({
    type: z.literal('page_location'),
    cited_text: z.string(),
    document_index: index,
    document_title: z.string().nullable(),
    start_page_number: index,
    end_page_number: index,
    file_id: optionalString,
  }),
  z.strictObject({
    type: z.literal('content_block_location'),
    cited_text: z.string(),
    document_index: index,
    document_title: z.string().nullable(),
    start_block_index: index,
    end_block_index: index,
    file_id: optionalString,
  }),
  z.strictObject({
    type: z.literal('web_search_result_location'),
    cited_text: z.string(),
    encrypted_index: z.string(),
    title: z.string().nullable(),
    url: z.string(),
  }),
  z.strictObject({
    type: z.literal('search_result_location'),
    cited_text: z.string(),
    search_result_index: index,
    source: z.string(),
    title: z.string().nullable(),
    start_block_index: index,
    end_block_index: index,
  }),
]);

/** A text block: the API refuses empty ones. */
export const textBlock = z.strictObject({
  type: z.literal('text'),
  text: z.string().min(1),
  citations: z.array(textCitation).nullable().exactOptional(),
  ...cacheable,
});

const url = z.string().min(1);
const fileId = z.string().min(1);

/** An image from base64 data, a URL, or the Files API. */
export const imageBlock = z.strictObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('base64'), media_type: z.enum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']), data: z.string().min(1) }),
    z.strictObject({ type: z.literal('url'), url }),
    z.strictObject({ type: z.literal('file'), file_id: fileId }),
  ]),
  transformations: z.strictObject({ oversized_image: z.enum(['downsize', 'error']).exactOptional() }).nullable().exactOptional(),
  ...cacheable,
});

const citationsConfig = z.strictObject({ enabled: z.boolean().exactOptional() });

/** A document: a PDF, plain text, or content blocks. */
export const documentBlock = z.strictObject({
  type: z.literal('document'),
  source: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('base64'), media_type: z.literal('application/pdf'), data: z.string().min(1) }),
    z.strictObject({ type: z.literal('text'), media_type: z.literal('text/plain'), data: z.string() }),
    z.strictObject({
      type: z.literal('content'),
      content: z.union([z.string(), z.array(z.discriminatedUnion('type', [textBlock, imageBlock]))]),
    }),
    z.strictObject({ type: z.literal('url'), url }),
    z.strictObject({ type: z.literal('file'), file_id: fileId }),
  ]),
  citations: citationsConfig.nullable().exactOptional(),
  context: optionalString,
  title: optionalString,
  ...cacheable,
});

/** A search result the model may cite. */
export const searchResultBlock = z.strictObject({
  type: z.literal('search_result'),
  content: z.array(textBlock),
  source: z.string(),
  title: z.string(),
  citations: citationsConfig.exactOptional(),
  ...cacheable,
});

/** A tool named in a tool search result. */
export const toolReferenceBlock = z.strictObject({ type: z.literal('tool_reference'), tool_name: z.string().min(1), ...cacheable });

const downloadChange = { download_id: z.string(), url: z.string() };

/** The state of a browser, as a browser toolset's tool result. */
const browserStateBlock = z.strictObject({
  type: z.literal('browser_state'),
  tabs: z.array(z.strictObject({ tab_id: z.string(), title: z.string(), url: z.string(), active: z.boolean().exactOptional() })),
  state_changes: z
    .array(
      z.discriminatedUnion('type', [
        z.strictObject({ type: z.literal('tab_opened'), tab_id: z.string() }),
        z.strictObject({ type: z.literal('download_started'), ...downloadChange }),
        z.strictObject({ type: z.literal('download_completed'), ...downloadChange, path: optionalString, size_bytes: optionalInt }),
        z.strictObject({ type: z.literal('download_failed'), ...downloadChange, error: optionalString }),
      ]),
    )
    .nullable()
    .exactOptional(),
  ...cacheable,
});

/** Thinking goes back unmodified, signature included; the API takes no cache_control on it. */
export const thinkingBlock = z.strictObject({
  type: z.literal('thinking'),
  thinking: z.string(),
  signature: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required: thinking goes back with the signature it came with' : undefined) })
    .min(1, 'must not be empty: an unfinished thinking block (no signature yet) cannot be sent back'),
});

/** Redacted thinking goes back unmodified. */
export const redactedThinkingBlock = z.strictObject({ type: z.literal('redacted_thinking'), data: z.string().min(1) });

/** Who called a tool. */
export const toolCaller = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('direct') }),
  z.strictObject({ type: z.literal('code_execution_20250825'), tool_id: z.string() }),
  z.strictObject({ type: z.literal('code_execution_20260120'), tool_id: z.string() }),
]);

/** A call of a client tool. */
export const toolUseBlock = z.strictObject({
  type: z.literal('tool_use'),
  id: toolUseId,
  name: z.string().min(1),
  input: jsonObject,
  caller: toolCaller.exactOptional(),
  toolset_name: optionalString,
  ...cacheable,
});

/** What a client tool returned. */
export const toolResultBlock = z.strictObject({
  type: z.literal('tool_result'),
  tool_use_id: toolUseId,
  content: z
    .union([
      z.string(),
      z.array(z.discriminatedUnion('type', [textBlock, imageBlock, searchResultBlock, documentBlock, toolReferenceBlock, browserStateBlock])),
    ])
    .exactOptional(),
  is_error: z.boolean().exactOptional(),
  toolset_name: optionalString,
  ...cacheable,
});

/** A call of a server tool, as the upstream returned it. */
export const serverToolUseBlock = z.strictObject({
  type: z.literal('server_tool_use'),
  id: toolUseId,
  name: z.enum([
    'web_search',
    'web_fetch',
    'code_execution',
    'bash_code_execution',
    'text_editor_code_execution',
    'tool_search_tool_regex',
    'tool_search_tool_bm25',
  ]),
  input: jsonObject,
  caller: toolCaller.exactOptional(),
  ...cacheable,
});

/** A file for the code execution container. */
export const containerUploadBlock = z.strictObject({ type: z.literal('container_upload'), file_id: fileId, ...cacheable });
