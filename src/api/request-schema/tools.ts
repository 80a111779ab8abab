import { z } from 'zod';
import type { BrowserAction, ComputerAction } from '../../shared/message-params.js';
import { cacheable, isJsonObject, jsonObject, optionalInt, optionalString, toolInputSchema } from './primitives.js';

/** Tool names as the API checks them. */
export const toolNamePattern = /^[a-zA-Z0-9_-]{1,128}$/;

const common = {
  allowed_callers: z.array(z.enum(['direct', 'code_execution_20250825', 'code_execution_20260120', 'code_execution_20260521'])).exactOptional(),
  defer_loading: z.boolean().exactOptional(),
  strict: z.boolean().exactOptional(),
  ...cacheable,
};
const inputExamples = { input_examples: z.array(jsonObject).exactOptional() };

/** A tool the client runs: no `type` (or `custom`), a name, a JSON Schema of its input. */
const clientTool = z.strictObject({
  type: z.literal('custom').nullable().exactOptional(),
  name: z.string().regex(toolNamePattern, 'must match ^[a-zA-Z0-9_-]{1,128}$'),
  description: z.string().exactOptional(),
  input_schema: toolInputSchema,
  eager_input_streaming: z.boolean().nullable().exactOptional(),
  ...inputExamples,
  ...common,
});

/** The versioned tools the client runs or the API runs, their `name` fixed by their `type`. */
const builtIn = [
  z.strictObject({ type: z.literal('bash_20250124'), name: z.literal('bash'), ...inputExamples, ...common }),
  z.strictObject({ type: z.literal('memory_20250818'), name: z.literal('memory'), ...inputExamples, ...common }),
  z.strictObject({ type: z.literal('text_editor_20250124'), name: z.literal('str_replace_editor'), ...inputExamples, ...common }),
  z.strictObject({ type: z.literal('text_editor_20250429'), name: z.literal('str_replace_based_edit_tool'), ...inputExamples, ...common }),
  z.strictObject({
    type: z.literal('text_editor_20250728'),
    name: z.literal('str_replace_based_edit_tool'),
    max_characters: optionalInt,
    ...inputExamples,
    ...common,
  }),
  z.strictObject({
    type: z.enum(['code_execution_20250522', 'code_execution_20250825', 'code_execution_20260120', 'code_execution_20260521']),
    name: z.literal('code_execution'),
    ...common,
  }),
  z.strictObject({ type: z.enum(['tool_search_tool_bm25_20251119', 'tool_search_tool_bm25']), name: z.literal('tool_search_tool_bm25'), ...common }),
  z.strictObject({ type: z.enum(['tool_search_tool_regex_20251119', 'tool_search_tool_regex']), name: z.literal('tool_search_tool_regex'), ...common }),
] as const;

const domains = z.array(z.string().min(1)).nullable().exactOptional();
const maxUses = z.int().min(1).nullable().exactOptional();
const responseInclusion = { response_inclusion: z.enum(['full', 'excluded']).exactOptional() };

/** The API takes one list of domains or the other, never both. */
function oneDomainList(tool: { allowed_domains?: readonly string[] | null; blocked_domains?: readonly string[] | null }, ctx: z.RefinementCtx) {
  if (tool.allowed_domains != null && tool.blocked_domains != null) {
    ctx.addIssue({ code: 'custom', path: ['blocked_domains'], message: 'cannot be used together with allowed_domains: give one list or the other' });
  }
}

const webSearch = {
  name: z.literal('web_search'),
  allowed_domains: domains,
  blocked_domains: domains,
  max_uses: maxUses,
  user_location: z
    .strictObject({ type: z.literal('approximate'), city: optionalString, country: optionalString, region: optionalString, timezone: optionalString })
    .nullable()
    .exactOptional(),
  ...common,
};

const urlSource = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('all') }),
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('only'), tools: z.array(z.strictObject({ type: z.literal('tool_reference'), name: z.string() })) }),
  z.strictObject({ type: z.literal('except'), tools: z.array(z.strictObject({ type: z.literal('tool_reference'), name: z.string() })) }),
]);

const webFetch = {
  name: z.literal('web_fetch'),
  allowed_domains: domains,
  blocked_domains: domains,
  citations: z.strictObject({ enabled: z.boolean().exactOptional() }).nullable().exactOptional(),
  max_content_tokens: z.int().min(1).nullable().exactOptional(),
  max_uses: maxUses,
  url_sources: z
    .strictObject({
      client_tool_results: urlSource.exactOptional(),
      server_tool_results: urlSource.exactOptional(),
      user_input: z.discriminatedUnion('type', [z.strictObject({ type: z.literal('all') }), z.strictObject({ type: z.literal('none') })]).exactOptional(),
    })
    .nullable()
    .exactOptional(),
  ...common,
};

const webTools = [
  z.strictObject({ type: z.enum(['web_search_20250305', 'web_search_20260209']), ...webSearch }).superRefine(oneDomainList),
  z.strictObject({ type: z.literal('web_search_20260318'), ...webSearch, ...responseInclusion }).superRefine(oneDomainList),
  z.strictObject({ type: z.enum(['web_fetch_20250910', 'web_fetch_20260209']), ...webFetch }).superRefine(oneDomainList),
  z.strictObject({ type: z.literal('web_fetch_20260309'), ...webFetch, use_cache: z.boolean().exactOptional() }).superRefine(oneDomainList),
  z
    .strictObject({ type: z.literal('web_fetch_20260318'), ...webFetch, use_cache: z.boolean().exactOptional(), ...responseInclusion })
    .superRefine(oneDomainList),
] as const;

/** The actions of the browser toolset (its tool_use names). */
export const browserActions = [
  'close_tab', 'double_click', 'file_upload', 'find', 'form_input', 'get_page_text', 'hold_key', 'hover', 'javascript_exec', 'key',
  'left_click', 'left_click_drag', 'left_mouse_down', 'left_mouse_up', 'list_tabs', 'middle_click', 'mouse_move', 'navigate', 'new_tab',
  'read_console', 'read_network', 'read_page', 'right_click', 'screenshot', 'scroll', 'scroll_to', 'switch_tab', 'triple_click', 'type',
  'wait', 'zoom',
] as const satisfies readonly BrowserAction[];

/** The actions of the computer toolset (its tool_use names). */
export const computerActions = [
  'cursor_position', 'double_click', 'hold_key', 'key', 'left_click', 'left_click_drag', 'left_mouse_down', 'left_mouse_up', 'middle_click',
  'mouse_move', 'right_click', 'screenshot', 'scroll', 'triple_click', 'type', 'wait', 'zoom',
] as const satisfies readonly ComputerAction[];

const actionConfig = z
  .strictObject({ defer_loading: z.boolean().nullable().exactOptional(), enabled: z.boolean().nullable().exactOptional() })
  .nullable()
  .exactOptional();

function configsOf<const A extends string>(actions: readonly A[]) {
  const shape = Object.fromEntries(actions.map((action) => [action, actionConfig])) as { [K in A]: typeof actionConfig };
  return z.strictObject(shape).nullable().exactOptional();
}

const toolsets = [
  z.strictObject({ type: z.literal('browser_toolset_20260801'), configs: configsOf(browserActions), ...cacheable }),
  z.strictObject({ type: z.literal('computer_toolset_20260801'), configs: configsOf(computerActions), ...cacheable }),
] as const;

/** One entry of `tools`: a client tool, a versioned tool of the SDK, or a toolset. */
export const toolDefinition = z.discriminatedUnion('type', [clientTool, ...builtIn, ...webTools, ...toolsets]);

/** `tools`: names unique. Checked even when some tool is malformed, from the names that are strings. */
export const toolDefinitions = z.array(toolDefinition).superRefine(
  (tools: readonly unknown[], ctx) => {
    const first = new Map<string, number>();
    tools.forEach((tool, i) => {
      const name = isJsonObject(tool) ? tool['name'] : undefined;
      if (typeof name !== 'string') return;
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, i);
      else ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicates the name of /tools/${earlier}: tool names must be unique` });
    });
  },
  { when: (payload) => Array.isArray(payload.value) },
);

/** The tool names a `tool_choice` may name: every tool's, and the actions of the toolsets present. */
export function choosableToolNames(tools: readonly z.output<typeof toolDefinition>[]): Set<string> {
  const names = new Set<string>();
  for (const tool of tools) {
    if ('name' in tool) names.add(tool.name);
    else for (const action of tool.type === 'browser_toolset_20260801' ? browserActions : computerActions) names.add(action);
  }
  return names;
}

const disableParallel = { disable_parallel_tool_use: z.boolean().exactOptional() };

/** `tool_choice`. */
export const toolChoice = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto'), ...disableParallel }),
  z.strictObject({ type: z.literal('any'), ...disableParallel }),
  z.strictObject({ type: z.literal('tool'), name: z.string().min(1), ...disableParallel }),
  z.strictObject({ type: z.literal('none') }),
]);

