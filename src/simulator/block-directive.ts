import { z } from 'zod';

/** A citation as the API sends it in `citations_delta` (`char_location`, `web_search_result_location`…); passed through. */
export type SimCitation = { readonly type: string; readonly [field: string]: unknown };

/** A text block: `text_delta`s cut per `chunk`, each citation as a `citations_delta` where its text ends. */
export interface SimTextBlock {
  readonly type: 'text';
  readonly text: string;
  readonly citations?: readonly SimCitation[];
}

/** A thinking block: `thinking_delta`s, then one `signature_delta` (default: derived, so the simulator can verify it). */
export interface SimThinkingBlock {
  readonly type: 'thinking';
  readonly thinking: string;
  readonly signature?: string;
}

/** A redacted thinking block, whole in `content_block_start` (default `data`: derived, verifiable). */
export interface SimRedactedThinkingBlock {
  readonly type: 'redacted_thinking';
  readonly data?: string;
}

/**
 * A client or server tool call: opens with `input: {}`, then `input_json_delta`s of its input's JSON.
 * `split` gives the piece lengths (UTF-16 units, the rest in a last piece); default: seeded awkward cuts.
 */
export interface SimToolUseBlock {
  readonly type: 'tool_use' | 'server_tool_use';
  readonly name: string;
  readonly input: Readonly<Record<string, unknown>>;
  readonly id?: string;
  readonly caller?: { readonly type: string; readonly [field: string]: unknown };
  readonly split?: readonly number[];
}

/** Any other block (`web_search_tool_result`, other `*_tool_result`s, unknown future types): sent whole. */
export interface SimWholeBlock {
  readonly type: string;
  readonly [field: string]: unknown;
}

/** One output block of the `blocks` directive. */
export type SimBlock = SimTextBlock | SimThinkingBlock | SimRedactedThinkingBlock | SimToolUseBlock | SimWholeBlock;

/** Block types the simulator streams with deltas or builds itself; every other type is sent whole as given. */
export const STREAMED_BLOCK_TYPES = ['text', 'thinking', 'redacted_thinking', 'tool_use', 'server_tool_use'] as const;

const loose = z.looseObject({ type: z.string().min(1) });
const toolUse = (type: 'tool_use' | 'server_tool_use') =>
  z.strictObject({
    type: z.literal(type),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
    id: z.string().min(1).optional(),
    caller: loose.optional(),
    split: z.array(z.number().int().min(0)).optional(),
  });
const known: Record<(typeof STREAMED_BLOCK_TYPES)[number], z.ZodType> = {
  text: z.strictObject({ type: z.literal('text'), text: z.string(), citations: z.array(loose).optional() }),
  thinking: z.strictObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().min(1).optional() }),
  redacted_thinking: z.strictObject({ type: z.literal('redacted_thinking'), data: z.string().min(1).optional() }),
  tool_use: toolUse('tool_use'),
  server_tool_use: toolUse('server_tool_use'),
};

/**
 * One directive block: strict for the types the simulator streams (so a typo fails loudly), anything
 * else with a `type` passes through whole.
 */
export const blockSchema = loose.transform((block, ctx): SimBlock => {
  const schema = (known as Record<string, z.ZodType | undefined>)[block.type];
  if (schema === undefined) return block;
  const parsed = schema.safeParse(block);
  if (parsed.success) return parsed.data as SimBlock;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  return z.NEVER;
});

/** Refusal categories of `stop_details` (`RefusalStopDetails.category`). */
const categories = ['cyber', 'bio', 'frontier_llm', 'reasoning_extraction', 'general_harms'] as const;

/** `stop_details` of the directive: sent in `message_delta` as `{type: "refusal", category, explanation}`. */
export const stopDetailsSchema = z
  .strictObject({
    type: z.literal('refusal').optional(),
    category: z.enum(categories).nullable().optional(),
    explanation: z.string().nullable().optional(),
  })
  .transform((d) => ({ type: 'refusal' as const, category: d.category ?? null, explanation: d.explanation ?? null }));

/** The `stop_details` object the simulator sends. */
export type SimStopDetails = z.output<typeof stopDetailsSchema>;
