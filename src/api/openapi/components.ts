import { z } from 'zod';
import { jobRequestSchema, type JobRequestLimits } from '../job-request.js';
import { contentBlock, messageParam } from '../request-schema/messages.js';
import { toolChoice, toolDefinition } from '../request-schema/tools.js';
import { clientFrame } from '../ws/protocol.js';
import { conversationStreamEvent, eventData, jobStreamEvent, turnEventData } from './event-schemas.js';
import { conversationEventFrame, jobEventFrame, serverFrame, serverReply } from './frame-schemas.js';
import * as R from './record-schemas.js';

/** A JSON Schema (2020-12) as plain data. */
export type JsonSchema = Record<string, unknown>;

/** Where components live in the document; `$ref`s point here. */
export const componentRef = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

/** The `type` a member of a discriminated union fixes (the first string its `type` accepts). */
function typeOf(member: z.ZodObject): string {
  const values = (member.shape['type'] as { _zod: { values?: Set<unknown> } } | undefined)?._zod.values;
  const first = [...(values ?? [])].find((v): v is string => typeof v === 'string');
  if (first === undefined) throw new Error('a union member without a string type');
  return first;
}

/**
 * One pass of zod's JSON Schema conversion over named schemas: a named schema used inside another
 * becomes a `$ref` to its component, everything else is inlined. `io` is the side of the parse the
 * document describes: what a client may send (`input`) or what the server sends (`output`).
 */
function convert(named: ReadonlyMap<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of named) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io,
    // Refinements (cross-field rules) and custom checks (free-form JSON) have no JSON Schema: they
    // are described in words, and the server checks them.
    unrepresentable: 'any',
    reused: 'inline',
    uri: (id) => `#/components/schemas/${id}`,
  });
  const out: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
    out[id] = rest;
  }
  return out;
}

/** The schemas clients send: the job request (built for this server's limits), its parts, the socket's client frames. */
function requestSchemas(limits: JobRequestLimits): Map<string, z.ZodType> {
  const named = new Map<string, z.ZodType>([
    ['CreateJobBody', jobRequestSchema(limits)],
    ['MessageParam', messageParam],
    ['ContentBlockParam', contentBlock],
    ['Tool', toolDefinition],
    ['ToolChoice', toolChoice],
    ['ClientFrame', clientFrame],
  ]);
  for (const block of contentBlock.options) named.set(`ContentBlockParam.${typeOf(block)}`, block);
  for (const tool of toolDefinition.options) named.set(`Tool.${typeOf(tool)}`, tool);
  return named;
}

/** The schemas the server sends: records, answers, problems, events, the socket's server frames. */
function responseSchemas(): Map<string, z.ZodType> {
  const named = new Map<string, z.ZodType>([
    ['JobSubmission', R.jobSubmission],
    ['JobRecord', R.jobRecordView],
    ['JobStats', R.jobStats],
    ['JobStatus', R.jobStatus],
    ['JobError', R.jobError],
    ['Usage', R.usage],
    ['ContentBlock', R.contentBlockView],
    ['WebhookState', R.webhookState],
    ['ViewerTokenGrant', R.viewerTokenGrant],
    ['Conversation', R.conversationView],
    ['Problem', R.problem],
    ['JobStreamEvent', jobStreamEvent],
    ['ConversationStreamEvent', conversationStreamEvent],
    ['TurnEventData', turnEventData],
    ['ServerFrame', serverFrame],
    ['ServerReply', serverReply],
    ['JobEventFrame', jobEventFrame],
    ['ConversationEventFrame', conversationEventFrame],
  ]);
  for (const [type, data] of Object.entries(eventData)) named.set(`EventData.${type}`, data);
  return named;
}

/** Every component schema of the document, for a server with these limits. */
export function componentSchemas(limits: JobRequestLimits): Record<string, JsonSchema> {
  const requests = convert(requestSchemas(limits), 'input');
  const responses = convert(responseSchemas(), 'output');
  for (const name of Object.keys(responses)) {
    if (name in requests) throw new Error(`component ${name} is both a request and a response schema`);
  }
  return { ...requests, ...responses };
}
