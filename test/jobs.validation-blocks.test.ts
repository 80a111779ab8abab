import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobRequestSchema, parseJobRequest, type JobRequest } from '../src/api/job-request.js';
import { AppError } from '../src/shared/errors.js';
import type { CreateJobBody, ToolDefinition } from '../src/shared/wire.js';
import { startSystem, type TestSystem } from './support/system.js';

// The whole Messages request surface (tools, tool_choice, every content block a conversation carries
// back), accepted with its shapes checked, and refused at the edge with the path of the problem.

const schema = jobRequestSchema({ maxTokensLimit: 8192, webhookSecrets: [], webhookAllowPrivate: false });

/** The problems of a refused body, or `accepted`. */
function problemsOf(body: unknown): { path: string; message: string }[] | 'accepted' {
  try {
    parseJobRequest(schema, body);
    return 'accepted';
  } catch (error) {
    if (error instanceof AppError && error.code === 'validation_failed') return [...error.details];
    throw error;
  }
}

const user = (content: unknown) => ({ role: 'user', content });
const assistant = (content: unknown) => ({ role: 'assistant', content });
const system = (content: unknown) => ({ role: 'system', content });
const text = (t: string, extra: Record<string, unknown> = {}) => ({ type: 'text', text: t, ...extra });
const body = (extra: Record<string, unknown> = {}) => ({ max_tokens: 2048, messages: [user('hi')], ...extra });
const breakpoint = { type: 'ephemeral' } as const;
const weatherTool = {
  name: 'get_weather',
  description: 'The weather now in a city.',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
} as const;
const toolUse = (id: string, extra: Record<string, unknown> = {}) => ({ type: 'tool_use', id, name: 'get_weather', input: { city: 'Paris' }, ...extra });
const toolResult = (id: string, extra: Record<string, unknown> = {}) => ({ type: 'tool_result', tool_use_id: id, content: '18°C', ...extra });
/** A conversation in which the assistant's turn holds `blocks`, and a user message follows. */
const assistantTurn = (...blocks: unknown[]) => body({ messages: [user('go'), assistant(blocks), user('thanks')] });
const pdf = { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0xLjQK' };
const document = { type: 'document', source: pdf, title: 'Spec', context: 'from the archive', citations: { enabled: true } };
const searchResult = { type: 'search_result', source: 'https://example.com/a', title: 'A', content: [text('alpha')], citations: { enabled: true } };

/** The example of API.md: a request with tools. */
const toolsExample = {
  model: 'claude-sonnet-5-5',
  max_tokens: 1024,
  system: [{ type: 'text', text: 'You answer questions about the weather.', cache_control: { type: 'ephemeral' } }],
  tools: [
    weatherTool,
    { type: 'web_search_20260318', name: 'web_search', max_uses: 3, allowed_domains: ['weather.example.com'], user_location: { type: 'approximate', city: 'Paris', country: 'FR' } },
  ],
  tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  messages: [{ role: 'user', content: 'Do I need an umbrella in Paris today?' }],
};

/** The example of API.md: the turn that answers a tool_use. */
const toolResultTurnExample = {
  max_tokens: 1024,
  tools: [weatherTool],
  messages: [
    { role: 'user', content: 'Do I need an umbrella in Paris today?' },
    {
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', input: { city: 'Paris' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: [{ type: 'text', text: 'Rain from 14:00, 12°C' }] },
        { type: 'text', text: 'Keep it short.' },
      ],
    },
  ],
};

/** One definition of every tool type, with most of its fields. */
const everyTool = [
  { ...weatherTool, type: 'custom', strict: true, eager_input_streaming: true, defer_loading: false, input_examples: [{ city: 'Oslo' }], allowed_callers: ['direct', 'code_execution_20250825'] },
  { type: 'bash_20250124', name: 'bash', input_examples: [{ command: 'ls' }], strict: true },
  { type: 'memory_20250818', name: 'memory', defer_loading: true },
  { type: 'text_editor_20250124', name: 'str_replace_editor' },
  { type: 'text_editor_20250429', name: 'str_replace_based_edit_tool', allowed_callers: ['direct'] },
  { type: 'text_editor_20250728', name: 'str_replace_based_edit_tool', max_characters: 10_000 },
  { type: 'code_execution_20250522', name: 'code_execution' },
  { type: 'code_execution_20250825', name: 'code_execution', cache_control: null },
  { type: 'code_execution_20260120', name: 'code_execution' },
  { type: 'code_execution_20260521', name: 'code_execution', allowed_callers: ['direct', 'code_execution_20260521'] },
  { type: 'tool_search_tool_bm25_20251119', name: 'tool_search_tool_bm25' },
  { type: 'tool_search_tool_bm25', name: 'tool_search_tool_bm25', defer_loading: false },
  { type: 'tool_search_tool_regex_20251119', name: 'tool_search_tool_regex' },
  { type: 'tool_search_tool_regex', name: 'tool_search_tool_regex', strict: false },
  { type: 'web_search_20250305', name: 'web_search', blocked_domains: ['spam.example'], max_uses: null, user_location: null },
  { type: 'web_search_20260209', name: 'web_search', allowed_domains: ['e.com'], user_location: { type: 'approximate', city: null, region: 'IDF', timezone: 'Europe/Paris' } },
  { type: 'web_search_20260318', name: 'web_search', response_inclusion: 'full', max_uses: 5 },
  { type: 'web_fetch_20250910', name: 'web_fetch', allowed_domains: ['e.com'], max_uses: 2 },
  { type: 'web_fetch_20260209', name: 'web_fetch', citations: null, url_sources: null },
  { type: 'web_fetch_20260309', name: 'web_fetch', use_cache: true, max_content_tokens: null },
  {
    type: 'web_fetch_20260318',
    name: 'web_fetch',
    max_content_tokens: 5000,
    use_cache: false,
    response_inclusion: 'excluded',
    citations: { enabled: true },
    url_sources: { user_input: { type: 'all' }, client_tool_results: { type: 'only', tools: [{ type: 'tool_reference', name: 'get_weather' }] }, server_tool_results: { type: 'none' } },
  },
  { type: 'browser_toolset_20260801', configs: { navigate: { enabled: true }, javascript_exec: { enabled: false, defer_loading: null }, zoom: null } },
  { type: 'computer_toolset_20260801', configs: null, cache_control: breakpoint },
] as const satisfies readonly ToolDefinition[];
// Every type of the SDK's ToolUnion has its example above.
const everyToolType: [Exclude<NonNullable<ToolDefinition['type']>, (typeof everyTool)[number]['type']>] extends [never] ? true : false = true;
void everyToolType;

describe('the request schema accepts', () => {
  const accepted: [string, unknown][] = [
    ['the tools example of API.md', toolsExample],
    ['the tool_result example of API.md', toolResultTurnExample],
    // User content blocks.
    ['text with cache_control', body({ messages: [user([text('a', { cache_control: { type: 'ephemeral', ttl: '5m' } })])] })],
    ['empty citations on user text', body({ messages: [user([text('a', { citations: [] }), text('b', { citations: null })])] })],
    [
      'images from base64, a URL and a file',
      body({
        messages: [
          user([
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' }, cache_control: breakpoint },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' }, transformations: { oversized_image: 'downsize' } },
            { type: 'image', source: { type: 'file', file_id: 'file_011' }, transformations: null },
          ]),
        ],
      }),
    ],
    [
      'documents of every source',
      body({
        messages: [
          user([
            document,
            { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'plain' } },
            { type: 'document', source: { type: 'content', content: 'a string' } },
            { type: 'document', source: { type: 'content', content: [text('a'), { type: 'image', source: { type: 'url', url: 'https://e.com/i.png' } }] } },
            { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' }, citations: null, title: null, context: null },
            { type: 'document', source: { type: 'file', file_id: 'file_012' }, cache_control: breakpoint },
          ]),
        ],
      }),
    ],
    ['a search result', body({ messages: [user([searchResult])] })],
    ['a container upload', body({ messages: [user([{ type: 'container_upload', file_id: 'file_013', cache_control: null }])] })],
    [
      'tool results of every content kind',
      body({
        tools: [weatherTool],
        messages: [
          user('go'),
          assistant([toolUse('toolu_1'), toolUse('toolu_2'), toolUse('toolu_3')]),
          user([
            toolResult('toolu_1', { is_error: true, cache_control: breakpoint }),
            toolResult('toolu_2', {
              content: [
                text('a'),
                { type: 'image', source: { type: 'url', url: 'https://e.com/i.png' } },
                searchResult,
                document,
                { type: 'tool_reference', tool_name: 'get_weather' },
                {
                  type: 'browser_state',
                  tabs: [{ tab_id: 't1', title: 'Home', url: 'https://e.com', active: true }],
                  state_changes: [
                    { type: 'tab_opened', tab_id: 't1' },
                    { type: 'download_started', download_id: 'd1', url: 'https://e.com/f' },
                    { type: 'download_completed', download_id: 'd1', url: 'https://e.com/f', path: '/tmp/f', size_bytes: 10 },
                    { type: 'download_failed', download_id: 'd2', url: 'https://e.com/g', error: null },
                  ],
                },
              ],
            }),
            { type: 'tool_result', tool_use_id: 'toolu_3', toolset_name: null },
            text('and now?'),
          ]),
        ],
      }),
    ],
    // Assistant content blocks, as the upstream returns them.
    [
      'assistant text with every kind of citation (file_id as responses carry it)',
      assistantTurn(
        text('cited', {
          citations: [
            { type: 'char_location', cited_text: 'x', document_index: 0, document_title: null, start_char_index: 0, end_char_index: 1, file_id: null },
            { type: 'page_location', cited_text: 'x', document_index: 0, document_title: 'T', start_page_number: 1, end_page_number: 2 },
            { type: 'content_block_location', cited_text: 'x', document_index: 1, document_title: null, start_block_index: 0, end_block_index: 1 },
            { type: 'web_search_result_location', cited_text: 'x', encrypted_index: 'Eo8B', title: 'A', url: 'https://e.com' },
            { type: 'search_result_location', cited_text: 'x', search_result_index: 0, source: 's', title: null, start_block_index: 0, end_block_index: 0 },
          ],
        }),
      ),
    ],
    [
      'thinking, redacted thinking and an image in an assistant message',
      assistantTurn(
        { type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
        { type: 'image', source: { type: 'url', url: 'https://e.com/i.png' } },
        text('done'),
      ),
    ],
    [
      'tool_use with a caller, a toolset name and cache_control',
      body({
        messages: [
          user('go'),
          assistant([
            toolUse('toolu_a', { caller: { type: 'direct' }, cache_control: breakpoint }),
            toolUse('toolu_b', { caller: { type: 'code_execution_20250825', tool_id: 'srvtoolu_1' }, toolset_name: 'browser', name: 'navigate' }),
            toolUse('toolu_c', { caller: { type: 'code_execution_20260120', tool_id: 'srvtoolu_2' }, toolset_name: null }),
          ]),
          user([toolResult('toolu_a'), toolResult('toolu_b'), toolResult('toolu_c')]),
        ],
      }),
    ],
    [
      'server tool use and every server tool result',
      assistantTurn(
        { type: 'server_tool_use', id: 'srvtoolu_01', name: 'web_search', input: { query: 'rain paris' }, caller: { type: 'direct' } },
        {
          type: 'web_search_tool_result',
          tool_use_id: 'srvtoolu_01',
          content: [{ type: 'web_search_result', url: 'https://e.com', title: 'E', encrypted_content: 'Eq', page_age: null }],
          caller: { type: 'direct' },
        },
        { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_01', content: { type: 'web_search_tool_result_error', error_code: 'max_uses_exceeded' } },
        { type: 'server_tool_use', id: 'srvtoolu_02', name: 'web_fetch', input: { url: 'https://e.com' } },
        {
          type: 'web_fetch_tool_result',
          tool_use_id: 'srvtoolu_02',
          content: { type: 'web_fetch_result', url: 'https://e.com', retrieved_at: '2026-11-20T10:00:00Z', content: { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'page' }, citations: { enabled: true }, title: null } },
        },
        { type: 'web_fetch_tool_result', tool_use_id: 'srvtoolu_02', content: { type: 'web_fetch_tool_result_error', error_code: 'url_not_allowed' } },
        { type: 'server_tool_use', id: 'srvtoolu_03', name: 'code_execution', input: { code: 'print(1)' } },
        { type: 'code_execution_tool_result', tool_use_id: 'srvtoolu_03', content: { type: 'code_execution_result', stdout: '1\n', stderr: '', return_code: 0, content: [{ type: 'code_execution_output', file_id: 'file_1' }] } },
        { type: 'code_execution_tool_result', tool_use_id: 'srvtoolu_03', content: { type: 'encrypted_code_execution_result', encrypted_stdout: 'Eq', stderr: '', return_code: 0, content: [] } },
        { type: 'code_execution_tool_result', tool_use_id: 'srvtoolu_03', content: { type: 'code_execution_tool_result_error', error_code: 'unavailable' } },
        { type: 'server_tool_use', id: 'srvtoolu_04', name: 'bash_code_execution', input: { command: 'ls' } },
        { type: 'bash_code_execution_tool_result', tool_use_id: 'srvtoolu_04', content: { type: 'bash_code_execution_result', stdout: 'a', stderr: '', return_code: 0, content: [{ type: 'bash_code_execution_output', file_id: 'file_2' }] } },
        { type: 'bash_code_execution_tool_result', tool_use_id: 'srvtoolu_04', content: { type: 'bash_code_execution_tool_result_error', error_code: 'output_file_too_large' } },
        { type: 'server_tool_use', id: 'srvtoolu_05', name: 'text_editor_code_execution', input: { command: 'view', path: '/a' } },
        { type: 'text_editor_code_execution_tool_result', tool_use_id: 'srvtoolu_05', content: { type: 'text_editor_code_execution_view_result', content: 'x', file_type: 'text', num_lines: 1, start_line: null } },
        { type: 'text_editor_code_execution_tool_result', tool_use_id: 'srvtoolu_05', content: { type: 'text_editor_code_execution_create_result', is_file_update: false } },
        { type: 'text_editor_code_execution_tool_result', tool_use_id: 'srvtoolu_05', content: { type: 'text_editor_code_execution_str_replace_result', lines: ['a'], new_lines: 1, new_start: 1, old_lines: null } },
        { type: 'text_editor_code_execution_tool_result', tool_use_id: 'srvtoolu_05', content: { type: 'text_editor_code_execution_tool_result_error', error_code: 'file_not_found', error_message: 'no /a' } },
        { type: 'server_tool_use', id: 'srvtoolu_06', name: 'tool_search_tool_regex', input: { pattern: 'weather' } },
        { type: 'tool_search_tool_result', tool_use_id: 'srvtoolu_06', content: { type: 'tool_search_tool_search_result', tool_references: [{ type: 'tool_reference', tool_name: 'get_weather' }] } },
        { type: 'tool_search_tool_result', tool_use_id: 'srvtoolu_06', content: { type: 'tool_search_tool_result_error', error_code: 'too_many_requests', error_message: null } },
        { type: 'container_upload', file_id: 'file_3' },
        text('Here is what I found.'),
      ),
    ],
    ['a search result in an assistant message', assistantTurn(searchResult)],
    ['a mid-conversation system message after a user message', body({ messages: [user('hi'), system('Answer in French.'), assistant('Bonjour'), user('ok'), system([text('Be brief.', { cache_control: breakpoint })])] })],
    ['consecutive user messages, answered across them', body({ messages: [user('a'), assistant([toolUse('toolu_1')]), user([toolResult('toolu_1')]), user('and')] })],
    ['an assistant turn with tool_use at the end of the request', body({ messages: [user('go'), assistant([toolUse('toolu_1')])] })],
    // Tools.
    ...everyTool.map((tool): [string, unknown] => [`the tool ${tool.type ?? '(client)'}`, body({ tools: [tool] })]),
    ['web fetch 20250910 with allowed domains', body({ tools: [{ type: 'web_fetch_20250910', name: 'web_fetch', allowed_domains: ['e.com'], max_uses: 2 }] })],
    ['an input schema with null properties and required, and $defs', body({ tools: [{ name: 'x', input_schema: { type: 'object', properties: null, required: null, $defs: {} } }] })],
    ...(['auto', 'any', 'none'] as const).map((type): [string, unknown] => [`tool_choice ${type}`, body({ tools: [weatherTool], tool_choice: { type } })]),
    ['tool_choice naming a tool', body({ tools: [weatherTool], tool_choice: { type: 'tool', name: 'get_weather', disable_parallel_tool_use: false } })],
    ['tool_choice naming a server tool', body({ tools: [{ type: 'web_search_20250305', name: 'web_search' }], tool_choice: { type: 'tool', name: 'web_search' } })],
    ['tool_choice naming an action of a toolset present', body({ tools: [{ type: 'browser_toolset_20260801' }], tool_choice: { type: 'tool', name: 'navigate' } })],
    // The other parameters.
    ['thinking enabled with display', body({ thinking: { type: 'enabled', budget_tokens: 1024, display: 'omitted' } })],
    ['thinking adaptive', body({ thinking: { type: 'adaptive', display: null } })],
    ['thinking between_tools', body({ thinking: { type: 'between_tools' } })],
    ['thinking disabled', body({ thinking: { type: 'disabled' } })],
    [
      'a pause_turn continuation with thinking enabled',
      body({
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [user('search'), assistant([{ type: 'thinking', thinking: 'hm', signature: 'sig' }, { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} }])],
      }),
    ],
    ['output_config', body({ output_config: { effort: 'xhigh', format: { type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'string' } } } } } })],
    ['output_config with nulls', body({ output_config: { effort: null, format: null } })],
    ['top-level cache_control and 3 more breakpoints', body({ cache_control: { type: 'ephemeral', ttl: '1h' }, tools: [{ ...weatherTool, cache_control: { type: 'ephemeral', ttl: '1h' } }], system: [text('s', { cache_control: { type: 'ephemeral', ttl: '1h' } })], messages: [user([text('a', { cache_control: { type: 'ephemeral', ttl: '1h' } })])] })],
    ['1h breakpoints before 5m ones', body({ system: [text('s', { cache_control: { type: 'ephemeral', ttl: '1h' } })], messages: [user([text('a', { cache_control: breakpoint })])] })],
    ['service_tier, speed, container, inference_geo, stop_sequences', body({ service_tier: 'standard_only', speed: 'fast', container: 'container_011', inference_geo: 'us', stop_sequences: ['END'] })],
    ['container parameters with skills', body({ container: { id: null, skills: [{ skill_id: 'pdf', type: 'anthropic', version: 'latest' }] }, speed: null, inference_geo: null })],
    ['system as a string', body({ system: 'Be brief.' })],
    // Continuations (API.md §4.2): the submitter fills in what is left out.
    ['previous_job_id alone (pause_turn)', { previous_job_id: 'job_AAAAAAAAAAAAAAAAAAAAAA' }],
    ['previous_job_id with no messages', { previous_job_id: 'job_AAAAAAAAAAAAAAAAAAAAAA', messages: [] }],
    ['previous_job_id answering its tool_use', { previous_job_id: 'job_AAAAAAAAAAAAAAAAAAAAAA', messages: [user([toolResult('toolu_prev')])] }],
    ['previous_job_id with a tool_choice naming an inherited tool', { previous_job_id: 'job_AAAAAAAAAAAAAAAAAAAAAA', messages: [user('more')], tool_choice: { type: 'tool', name: 'get_weather' } }],
  ];
  for (const [name, value] of accepted) {
    it(name, () => {
      expect(problemsOf(value)).toBe('accepted');
    });
  }

  it('the examples of API.md, which are these', async () => {
    const apiMd = await readFile(new URL('../API.md', import.meta.url), 'utf8');
    const example = (heading: string) => JSON.parse(apiMd.split(`#### Example: ${heading}`)[1]?.split('```json')[1]?.split('```')[0] ?? 'null') as unknown;
    expect(example('a request with tools')).toEqual(toolsExample);
    expect(example('the turn that answers a tool_use')).toEqual(toolResultTurnExample);
  });

  it('and passes the body on unchanged: nulls kept, free-form JSON not copied (a __proto__ member survives)', () => {
    const schemaWithProto = JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}}}') as Record<string, unknown>;
    const input = JSON.parse('{"__proto__":"x","city":"Paris"}') as Record<string, unknown>;
    const value = body({
      tools: [{ name: 'x', input_schema: schemaWithProto }],
      messages: [user('go'), assistant([toolUse('toolu_1', { input, caller: { type: 'direct' } })]), user([toolResult('toolu_1')])],
      cache_control: null,
      container: null,
    });
    const parsed = parseJobRequest(schema, structuredClone(value));
    expect(JSON.stringify(parsed)).toBe(JSON.stringify(value));
    expect(Object.keys((parsed.tools?.[0] as { input_schema: { properties: object } }).input_schema.properties)).toEqual(['__proto__']);
  });

  it('types a request without previous_job_id as one with max_tokens and messages', () => {
    const request: JobRequest = parseJobRequest(schema, body());
    if (request.previous_job_id === undefined) {
      const maxTokens: number = request.max_tokens;
      expect(maxTokens).toBe(2048);
      expect(request.messages).toHaveLength(1);
    } else {
      const maxTokens: number | undefined = request.max_tokens;
      expect(maxTokens).toBeUndefined();
    }
    // The wire type says the same to clients.
    const wire: CreateJobBody[] = [{ max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }, { previous_job_id: 'job_x' }];
    // @ts-expect-error: without previous_job_id, max_tokens and messages are required.
    const missing: CreateJobBody = { messages: [] };
    // @ts-expect-error: temperature is refused.
    const sampled: CreateJobBody = { max_tokens: 1, messages: [], temperature: 1 };
    expect([...wire, missing, sampled]).toHaveLength(4);
  });
});

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** A tool input nested 100,000 deep. */
const deepBody = assistantTurn(toolUse('toolu_1', { input: { a: JSON.parse(nested(100_000)) as unknown } }));
/** Bodies sent as written here: JSON.stringify would run out of stack on them. */
const rawBodies = new Map<unknown, string>([[deepBody, JSON.stringify(assistantTurn(toolUse('toolu_1', { input: { a: 'DEEP' } }))).replace('"DEEP"', nested(100_000))]]);

/** [case, body, the path of the problem, a pattern of its message]. */
type Refusal = [string, unknown, string, RegExp?];

const refusals: Refusal[] = [
  // Blocks.
  ['thinking without its signature', assistantTurn({ type: 'thinking', thinking: 'x' }), '/messages/1/content/0/signature', /required/],
  ['thinking with an empty signature (unfinished)', assistantTurn({ type: 'thinking', thinking: 'x', signature: '' }), '/messages/1/content/0/signature', /unfinished/],
  ['redacted thinking without data', assistantTurn({ type: 'redacted_thinking' }), '/messages/1/content/0/data'],
  ['tool_use in a user message', body({ messages: [user([toolUse('toolu_1')])] }), '/messages/0/content/0', /assistant message/],
  ['thinking in a user message', body({ messages: [user([{ type: 'thinking', thinking: 'x', signature: 's' }])] }), '/messages/0/content/0', /assistant message/],
  ['a server tool result in a user message', body({ messages: [user([{ type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] }])] }), '/messages/0/content/0', /assistant message/],
  ['server_tool_use in a user message', body({ messages: [user([{ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} }])] }), '/messages/0/content/0'],
  ['tool_result in an assistant message', body({ messages: [user('a'), assistant([toolResult('toolu_1')])] }), '/messages/1/content/0', /user message/],
  ['a document in an assistant message', assistantTurn(document), '/messages/1/content/0', /2026-10-21/],
  ['citations on user text', body({ messages: [user([text('a', { citations: [{ type: 'web_search_result_location', cited_text: 'x', encrypted_index: 'E', title: null, url: 'https://e.com' }] })])] }), '/messages/0/content/0/citations', /2026-10-21/],
  ['an empty text block', body({ messages: [user([text('')])] }), '/messages/0/content/0/text'],
  ['an unknown block type (a beta one)', body({ messages: [user([{ type: 'mcp_tool_use', id: 'x', name: 'y', server_name: 'z', input: {} }])] }), '/messages/0/content/0/type', /one of: text, image/],
  ['an unknown field on a block', body({ messages: [user([text('a', { colour: 'red' })])] }), '/messages/0/content/0/colour', /not a known field/],
  ['an image of an unknown media type', body({ messages: [user([{ type: 'image', source: { type: 'base64', media_type: 'image/bmp', data: 'Qk0=' } }])] }), '/messages/0/content/0/source/media_type'],
  ['a tool_use input that is not an object', assistantTurn(toolUse('toolu_1', { input: ['Paris'] })), '/messages/1/content/0/input', /JSON object/],
  ['a tool_use id with other characters', assistantTurn(toolUse('call:1')), '/messages/1/content/0/id', /\^\[a-zA-Z0-9_-\]\+\$/],
  ['a server tool use of an unknown tool', assistantTurn({ type: 'server_tool_use', id: 'srvtoolu_1', name: 'calculator', input: {} }), '/messages/1/content/0/name'],
  ['a web search error with an unknown code', assistantTurn({ type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: { type: 'web_search_tool_result_error', error_code: 'broken' } }), '/messages/1/content/0/content/error_code'],
  ['a tool_result block of a kind it cannot hold', body({ messages: [user('go'), assistant([toolUse('toolu_1')]), user([toolResult('toolu_1', { content: [{ type: 'thinking', thinking: 'x', signature: 's' }] })])] }), '/messages/2/content/0/content/0/type'],
  ['a system message holding an image', body({ messages: [user('a'), system([{ type: 'image', source: { type: 'url', url: 'https://e.com/i.png' } }])] }), '/messages/1/content/0/type'],
  // cache_control.
  ['cache_control on thinking', assistantTurn({ type: 'thinking', thinking: 'x', signature: 's', cache_control: breakpoint }), '/messages/1/content/0/cache_control', /not allowed here/],
  ['cache_control on redacted thinking', assistantTurn({ type: 'redacted_thinking', data: 'd', cache_control: breakpoint }), '/messages/1/content/0/cache_control', /not allowed here/],
  ['cache_control on a citation', assistantTurn(text('a', { citations: [{ type: 'web_search_result_location', cited_text: 'x', encrypted_index: 'E', title: null, url: 'u', cache_control: breakpoint }] })), '/messages/1/content/0/citations/0/cache_control', /not allowed here/],
  ['cache_control with a ttl of 10m', body({ messages: [user([text('a', { cache_control: { type: 'ephemeral', ttl: '10m' } })])] }), '/messages/0/content/0/cache_control/ttl'],
  [
    '5 cache breakpoints',
    body({ tools: [{ ...weatherTool, cache_control: breakpoint }], system: [text('s', { cache_control: breakpoint })], messages: [user([text('a', { cache_control: breakpoint }), text('b', { cache_control: breakpoint })])], cache_control: breakpoint }),
    '/cache_control',
    /at most 4/,
  ],
  [
    '5 cache breakpoints, one inside a tool result',
    body({ messages: [user([text('a', { cache_control: breakpoint }), text('b', { cache_control: breakpoint })]), assistant([toolUse('toolu_1')]), user([toolResult('toolu_1', { content: [text('c', { cache_control: breakpoint })], cache_control: breakpoint }), text('d', { cache_control: breakpoint })])] }),
    '/messages/2/content/1/cache_control',
    /number 5 of 5/,
  ],
  ['a 1h breakpoint after a 5m one', body({ system: [text('s', { cache_control: breakpoint })], messages: [user([text('a', { cache_control: { type: 'ephemeral', ttl: '1h' } })])] }), '/messages/0/content/0/cache_control/ttl', /1h .* before every 5m/],
  // Tools.
  ['an input_schema that is not an object', body({ tools: [{ name: 'x', input_schema: 'object' }] }), '/tools/0/input_schema', /JSON Schema object/],
  ['an input_schema of type array', body({ tools: [{ name: 'x', input_schema: { type: 'array', items: {} } }] }), '/tools/0/input_schema/type', /"object"/],
  ['an input_schema without a type', body({ tools: [{ name: 'x', input_schema: { properties: {} } }] }), '/tools/0/input_schema/type', /"object"/],
  ['input_schema properties not an object', body({ tools: [{ name: 'x', input_schema: { type: 'object', properties: [] } }] }), '/tools/0/input_schema/properties'],
  ['input_schema required not all strings', body({ tools: [{ name: 'x', input_schema: { type: 'object', required: ['a', 1] } }] }), '/tools/0/input_schema/required/1'],
  ['a tool without input_schema', body({ tools: [{ name: 'x' }] }), '/tools/0/input_schema'],
  ['a tool name with a space', body({ tools: [{ name: 'get weather', input_schema: { type: 'object' } }] }), '/tools/0/name', /\{1,128\}/],
  ['a tool name of 129 characters', body({ tools: [{ name: 'x'.repeat(129), input_schema: { type: 'object' } }] }), '/tools/0/name'],
  ['duplicate tool names', body({ tools: [weatherTool, { type: 'web_search_20250305', name: 'web_search' }, weatherTool] }), '/tools/2/name', /\/tools\/0/],
  ['a server tool under another name', body({ tools: [{ type: 'web_search_20250305', name: 'search' }] }), '/tools/0/name', /web_search/],
  ['an unknown tool type', body({ tools: [{ type: 'web_search_20990101', name: 'web_search' }] }), '/tools/0/type', /web_search_20250305/],
  ['web_search max_uses 0', body({ tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 0 }] }), '/tools/0/max_uses'],
  ['web_search max_uses not an integer', body({ tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 2.5 }] }), '/tools/0/max_uses'],
  ['web_search with both domain lists', body({ tools: [{ type: 'web_search_20260209', name: 'web_search', allowed_domains: ['a.com'], blocked_domains: ['b.com'] }] }), '/tools/0/blocked_domains', /not|one list/],
  ['web_search allowed_domains not strings', body({ tools: [{ type: 'web_search_20250305', name: 'web_search', allowed_domains: ['a.com', 7] }] }), '/tools/0/allowed_domains/1'],
  ['web_search user_location of another type', body({ tools: [{ type: 'web_search_20250305', name: 'web_search', user_location: { type: 'exact', city: 'Paris' } }] }), '/tools/0/user_location/type'],
  ['web_search user_location with an unknown field', body({ tools: [{ type: 'web_search_20250305', name: 'web_search', user_location: { type: 'approximate', street: 'x' } }] }), '/tools/0/user_location/street'],
  ['response_inclusion on a web search version without it', body({ tools: [{ type: 'web_search_20250305', name: 'web_search', response_inclusion: 'full' }] }), '/tools/0/response_inclusion'],
  ['a toolset with a name', body({ tools: [{ type: 'browser_toolset_20260801', name: 'browser' }] }), '/tools/0/name'],
  ['a toolset config for an unknown action', body({ tools: [{ type: 'computer_toolset_20260801', configs: { navigate: { enabled: true } } }] }), '/tools/0/configs/navigate'],
  // tool_choice.
  ['tool_choice naming an unknown tool', body({ tools: [weatherTool], tool_choice: { type: 'tool', name: 'get_time' } }), '/tool_choice/name', /get_weather/],
  ['tool_choice naming a tool with no tools', body({ tool_choice: { type: 'tool', name: 'get_weather' } }), '/tool_choice/name'],
  ['tool_choice of an unknown type', body({ tool_choice: { type: 'required' } }), '/tool_choice/type'],
  ['disable_parallel_tool_use on tool_choice none', body({ tool_choice: { type: 'none', disable_parallel_tool_use: true } }), '/tool_choice/disable_parallel_tool_use'],
  ['forced tool use with thinking', body({ tools: [weatherTool], tool_choice: { type: 'any' }, thinking: { type: 'enabled', budget_tokens: 1024 } }), '/tool_choice/type', /thinking/],
  // Across messages.
  ['an unanswered tool_use', body({ messages: [user('go'), assistant([text('Let me look.'), toolUse('toolu_1'), toolUse('toolu_2')]), user([toolResult('toolu_1')])] }), '/messages/1', /toolu_2/],
  ['a tool_use followed by a user message without results', body({ messages: [user('go'), assistant([toolUse('toolu_1')]), user('well?')] }), '/messages/1', /toolu_1/],
  ['a tool_result answering no tool_use', body({ messages: [user('go'), assistant([toolUse('toolu_1')]), user([toolResult('toolu_1'), toolResult('toolu_9')])] }), '/messages/2/content/1/tool_use_id', /no tool_use/],
  ['a tool_result after text', body({ messages: [user('go'), assistant([toolUse('toolu_1')]), user([text('here'), toolResult('toolu_1')])] }), '/messages/2/content/1', /before any other content/],
  ['a tool_use answered twice', body({ messages: [user('go'), assistant([toolUse('toolu_1')]), user([toolResult('toolu_1'), toolResult('toolu_1')])] }), '/messages/2/content/1/tool_use_id', /already answered/],
  ['a tool_result in the first message', body({ messages: [user([toolResult('toolu_1')])] }), '/messages/0/content/0/tool_use_id', /not an assistant message/],
  ['duplicate tool_use ids', body({ messages: [user('a'), assistant([toolUse('toolu_1')]), user([toolResult('toolu_1')]), assistant([toolUse('toolu_1')]), user([toolResult('toolu_1')])] }), '/messages/3/content/0/id', /unique/],
  ['an assistant first message', body({ messages: [assistant('Hi'), user('hi')] }), '/messages/0/role', /first message/],
  ['a system message after an assistant message', body({ messages: [user('a'), assistant('b'), system('c')] }), '/messages/2', /right after a user message/],
  ['a system message first in a continuation', { previous_job_id: 'job_AAAAAAAAAAAAAAAAAAAAAA', messages: [system('c')] }, '/messages/0', /right after a user message/],
  ['a prefill with thinking enabled', body({ thinking: { type: 'enabled', budget_tokens: 1024 }, messages: [user('a'), assistant('The answer is')] }), '/messages/1', /prefill/],
  ['an unknown role', body({ messages: [user('a'), { role: 'tool', content: 'x' }] }), '/messages/1/role'],
  // The other parameters.
  ['temperature', body({ temperature: 1 }), '/temperature', /2026-10-21.*Extra inputs are not permitted/],
  ['top_p', body({ top_p: 0.9 }), '/top_p', /2026-10-21/],
  ['top_k', body({ top_k: 40 }), '/top_k', /2026-10-21/],
  ['budget_tokens under 1024', body({ thinking: { type: 'enabled', budget_tokens: 1000 } }), '/thinking/budget_tokens'],
  ['budget_tokens not under max_tokens', body({ max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 2048 } }), '/thinking/budget_tokens', /less than max_tokens/],
  ['thinking display of another kind', body({ thinking: { type: 'adaptive', display: 'full' } }), '/thinking/display'],
  ['output_config effort of another level', body({ output_config: { effort: 'extreme' } }), '/output_config/effort'],
  ['output_config format without a schema object', body({ output_config: { format: { type: 'json_schema', schema: 'object' } } }), '/output_config/format/schema'],
  ['service_tier priority', body({ service_tier: 'priority' }), '/service_tier'],
  ['speed turbo', body({ speed: 'turbo' }), '/speed'],
  ['a container skill of another type', body({ container: { skills: [{ skill_id: 's', type: 'shared' }] } }), '/container/skills/0/type'],
  ['the upstream metadata user_id', body({ metadata: { user_id: 7 } }), '/metadata/user_id'],
  ['stream', body({ stream: true }), '/stream', /not a known field/],
  ['diagnostics (not forwarded)', body({ diagnostics: { previous_message_id: 'msg_1' } }), '/diagnostics', /not a known field/],
  ['a previous_job_id that is not a job id', body({ previous_job_id: 'msg_123' }), '/previous_job_id', /job id/],
  ['a previous_job_id of 201 characters', body({ previous_job_id: `job_${'a'.repeat(197)}` }), '/previous_job_id'],
  ['messages left out without previous_job_id', { max_tokens: 10 }, '/messages', /previous_job_id/],
  ['max_tokens left out without previous_job_id', { messages: [user('a')] }, '/max_tokens', /previous_job_id/],
  ['free-form JSON nested 100,000 deep', deepBody, '/messages/1/content/0/input', /deeper than 64/],
];

describe('the request schema refuses', () => {
  for (const [name, value, path, message] of refusals) {
    it(`${name}, at ${path}`, () => {
      const problems = problemsOf(value);
      expect(problems).not.toBe('accepted');
      const found = (problems as { path: string; message: string }[]).find((p) => p.path === path);
      expect(found, JSON.stringify(problems)).toBeDefined();
      if (message !== undefined) expect(found?.message).toMatch(message);
    });
  }

  it('listing every problem at once, across fields, blocks and messages', () => {
    const problems = problemsOf({
      max_tokens: 0,
      temperature: 0.2,
      tools: [{ name: 'x', input_schema: { type: 'array' } }, { name: 'x', input_schema: { type: 'object' } }],
      messages: [user([toolUse('toolu_1')]), assistant([{ type: 'thinking', thinking: 't' }, document])],
    });
    expect(problems).not.toBe('accepted');
    expect((problems as { path: string }[]).map((p) => p.path)).toEqual(
      expect.arrayContaining(['/max_tokens', '/temperature', '/tools/0/input_schema/type', '/tools/1/name', '/messages/0/content/0', '/messages/1/content/0/signature', '/messages/1/content/1']),
    );
  });

  it('without ever throwing anything but a validation error, whatever the JSON', () => {
    // A small deterministic fuzz: every subtree of a body that uses most of the surface, replaced by
    // values of every JSON type (and a very deep one).
    const base = { ...toolResultTurnExample, system: toolsExample.system, tools: toolsExample.tools, thinking: { type: 'enabled', budget_tokens: 1024 }, cache_control: breakpoint };
    const deep = JSON.parse(`${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`) as unknown;
    const replacements: unknown[] = [null, true, 0, -1, 1.5, 1e308, '', 'x', [], [null], {}, { type: 'text' }, { __proto__: null }, deep];
    const paths: (string | number)[][] = [];
    const walk = (value: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
      else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    };
    walk(base, []);
    let refused = 0;
    for (const path of paths) {
      for (const replacement of replacements) {
        const copy = structuredClone(base) as Record<string | number, unknown>;
        let parent: Record<string | number, unknown> = copy;
        for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
        const last = path.at(-1);
        if (last !== undefined) parent[last] = replacement;
        const value = last === undefined ? replacement : copy;
        const result = problemsOf(value);
        if (result !== 'accepted') {
          refused += 1;
          expect(result.length).toBeGreaterThan(0);
          for (const p of result) expect(p.path).toMatch(/^(\/[^/]*)*$/);
        }
      }
    }
    expect(refused).toBeGreaterThan(paths.length);
  });
});

// Through the real HTTP API: the same answers, problem+json with the path, and nothing queued.
describe('POST /v1/jobs with content blocks and tools', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'validation-blocks', env: { MAX_TOKENS_LIMIT: '8192' } });
  });
  afterAll(async () => {
    await sys.close();
  });

  const post = async (value: unknown) => {
    const deep = rawBodies.get(value) ?? JSON.stringify(value);
    const res = await fetch(`${sys.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
    return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { type?: string; detail?: string; errors?: { path: string; message: string }[] } };
  };

  it('accepts the examples of API.md: a request with tools, and the turn that answers a tool_use', async () => {
    for (const example of [toolsExample, toolResultTurnExample]) {
      const res = await post(example);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
    }
  });

  const overHttp = [
    'thinking without its signature',
    'tool_use in a user message',
    'tool_result in an assistant message',
    'an input_schema that is not an object',
    'an input_schema of type array',
    'duplicate tool names',
    'tool_choice naming an unknown tool',
    'cache_control on thinking',
    '5 cache breakpoints',
    'temperature',
    'a document in an assistant message',
    'citations on user text',
    'an unanswered tool_use',
    'free-form JSON nested 100,000 deep',
  ];

  it('refuses each problem with 400 problem+json naming its path, and queues nothing', async () => {
    // The jobs of other tests may still run (their keys change); no job may appear.
    const jobIds = async () => {
      const keys = [...(await sys.redis.keys(`${sys.config.keyPrefix}:{job:*`)), ...(await sys.redis.keys(`{${sys.config.keyPrefix}}:generations:*`))];
      return new Set(keys.flatMap((key) => key.match(/job_[A-Za-z0-9_-]{22}/g) ?? []));
    };
    const before = await jobIds();
    for (const name of overHttp) {
      const refusal = refusals.find(([n]) => n === name);
      if (refusal === undefined) throw new Error(`no refusal named ${name}`);
      const [, value, path, message] = refusal;
      const res = await post(value);
      expect(res.status, name).toBe(400);
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(res.body.type).toBe('urn:genrelay:problem:validation_failed');
      const found = res.body.errors?.find((e) => e.path === path);
      expect(found, `${name}: ${JSON.stringify(res.body.errors)}`).toBeDefined();
      if (message !== undefined) expect(found?.message).toMatch(message);
    }
    expect([...(await jobIds())].filter((id) => !before.has(id))).toEqual([]);
  });

  it('says in the detail why temperature is refused', async () => {
    const res = await post(body({ temperature: 0.7 }));
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/\/temperature .*anthropic-version 2026-10-21/);
  });
});
