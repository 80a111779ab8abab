/**
 * Compile-time checks that the request schema, the wire types clients use
 * (src/shared/message-params.ts) and the GA types of the pinned @anthropic-ai/sdk agree: every block
 * type, tool type and field the SDK types is accepted with its type, and nothing else is (but the
 * `file_id` of citations, which responses carry). Nothing here runs; a drift, such as an SDK upgrade
 * adding a block type or a field, fails `tsc`.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { z } from 'zod';
import type * as Wire from '../../shared/message-params.js';
import type { NewJobRequest } from '../job-request.js';
import type { contentBlock, messageParam } from './messages.js';
import type { toolChoice, toolDefinition } from './tools.js';

/** `true` when A and B are assignable both ways, else `false`. */
export type Equivalent<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** `T` with every array and member readonly, as the wire types are written. */
export type ReadonlyDeep<T> = T extends readonly (infer E)[]
  ? readonly ReadonlyDeep<E>[]
  : T extends object
    ? { readonly [K in keyof T]: ReadonlyDeep<T[K]> }
    : T;

/** A discriminated member's `type`, as a path step. */
type Tag<T> = T extends { readonly type: infer D extends string } ? `<${D}>` : '';

/**
 * Every member path of `T`, tagged by `type` where there is one: `<text>.citations[]<char_location>.file_id`.
 * Assignability alone misses an extra optional member; two types with the same paths have the same members.
 */
export type Paths<T, P extends string = ''> = T extends readonly (infer E)[]
  ? Paths<E, `${P}[]`>
  : T extends object
    ? { [K in keyof T & string]-?: `${P}${Tag<T>}.${K}` | Paths<NonNullable<T[K]>, `${P}${Tag<T>}.${K}`> }[keyof T & string]
    : never;

/** `true` when A and B describe the same values with the same members. */
export type Exact<A, B> = [Equivalent<A, B>, Equivalent<Paths<A>, Paths<B>>] extends [true, true] ? true : false;

/**
 * `true` when everything `Mine` accepts the SDK can type (`Mine` assignable to `Sdk`), `Mine` has every
 * member `Sdk` has, and no other member than those matching `Extra`.
 */
type Covers<Mine, Sdk, Extra extends string = never> = [
  Mine extends Sdk ? true : false,
  [Exclude<Paths<Sdk>, Paths<Mine>>] extends [never] ? true : false,
  [Exclude<Paths<Mine>, Paths<Sdk>>] extends [Extra] ? true : false,
] extends [true, true, true]
  ? true
  : false;

type Block = z.output<typeof contentBlock>;
type Tool = z.output<typeof toolDefinition>;
type Message = z.output<typeof messageParam>;

/** Where genrelay is deliberately wider than the SDK's param types: as responses carry them. */
type ResponseExtras = `${string}.file_id` | `${string}.input.${string}`;

/** The fields of a request forwarded to the upstream (`model` once the server's default fills it in). */
type Forwarded = Omit<
  NewJobRequest,
  'previous_job_id' | 'max_duration_ms' | 'metadata' | 'webhook' | 'priority' | 'temperature' | 'top_p' | 'top_k'
> & { model: string };

/** The GA request fields genrelay does not take (API.md §2 says why). */
type NotTaken = 'stream' | 'metadata' | 'diagnostics' | 'user_profile_id' | 'workspace_id';

const checks: [
  // Schema and wire types: the same shapes.
  Exact<ReadonlyDeep<Block>, Wire.ContentBlockParam>,
  Exact<ReadonlyDeep<Message>, Wire.MessageParam>,
  Exact<ReadonlyDeep<Tool>, Wire.ToolDefinition>,
  Exact<ReadonlyDeep<z.output<typeof toolChoice>>, Wire.ToolChoice>,
  // Schema and SDK: the same lists (blocks, tools with the custom tool's optional `type`, roles, …)…
  Equivalent<Block['type'], Anthropic.ContentBlockParam['type']>,
  Equivalent<Tool['type'], Anthropic.ToolUnion['type']>,
  Equivalent<Message['role'], Anthropic.MessageParam['role']>,
  Equivalent<Wire.ServerToolName, Anthropic.ServerToolUseBlockParam['name']>,
  Equivalent<Wire.BrowserAction, keyof Anthropic.BrowserToolsetConfigs>,
  Equivalent<Wire.ComputerAction, keyof Anthropic.ComputerToolsetConfigs>,
  // …and the same members.
  Covers<Block, Anthropic.ContentBlockParam, ResponseExtras>,
  Covers<Message, Anthropic.MessageParam, ResponseExtras>,
  Covers<Tool, Anthropic.ToolUnion>,
  Covers<z.output<typeof toolChoice>, Anthropic.ToolChoice>,
  Covers<NonNullable<NewJobRequest['thinking']>, Anthropic.ThinkingConfigParam>,
  Covers<NonNullable<NewJobRequest['output_config']>, Anthropic.OutputConfig>,
  Covers<Forwarded, Omit<Anthropic.MessageCreateParamsNonStreaming, NotTaken>, ResponseExtras>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];
void checks;
