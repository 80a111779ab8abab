import { z } from 'zod';

/**
 * Deepest nesting accepted inside a free-form JSON value (tool inputs, input schemas, output schemas).
 * The body is hashed and serialised recursively after validation, so a value nested thousands deep
 * (1 MiB of `[`) would exhaust the stack there; real schemas and inputs nest a handful of levels.
 */
export const maxJsonDepth = 64;

/** A JSON object with any members (mutable here, as zod outputs are; readonly in the wire types). */
export type JsonObject = { [key: string]: unknown };

/** A tool's input schema as the SDK types it. */
export interface ToolInputSchema {
  type: 'object';
  properties?: unknown;
  required?: string[] | null;
  [keyword: string]: unknown;
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` nests objects and arrays deeper than `limit` levels. Iterative: any depth is safe to ask about. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [node, depth] = top;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

function checkDepth(value: unknown, ctx: z.RefinementCtx): void {
  if (nestsDeeperThan(value, maxJsonDepth)) ctx.addIssue({ code: 'custom', message: `nests deeper than ${maxJsonDepth} levels` });
}

// Both schemas below take any value and then check it in a refinement, rather than give z.custom a
// predicate: a failed predicate aborts the parse, and the whole-body checks would then not run.

/**
 * A JSON object with any members, passed on exactly as it came: zod's object parsing would copy it
 * (and drop a `__proto__` member on the way).
 */
export const jsonObject = z.custom<JsonObject>().superRefine((value, ctx) => {
  if (isJsonObject(value)) checkDepth(value, ctx);
  else ctx.addIssue({ code: 'custom', message: 'must be a JSON object' });
});

/**
 * A tool's `input_schema`: a JSON Schema object with `type: "object"`, `properties` an object and
 * `required` an array of strings when present. The rest of the schema is the upstream's to judge.
 */
export const toolInputSchema = z.custom<ToolInputSchema>().superRefine((schema: unknown, ctx) => {
  if (!isJsonObject(schema)) {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON Schema object' });
    return;
  }
  if (schema['type'] !== 'object') {
    ctx.addIssue({ code: 'custom', path: ['type'], message: 'must be "object": a tool takes a JSON object as its input' });
  }
  const { properties, required } = schema;
  if (properties !== undefined && properties !== null && !isJsonObject(properties)) {
    ctx.addIssue({ code: 'custom', path: ['properties'], message: 'must be an object mapping property names to schemas' });
  }
  if (required !== undefined && required !== null) {
    if (!Array.isArray(required)) ctx.addIssue({ code: 'custom', path: ['required'], message: 'must be an array of property names' });
    else {
      required.forEach((name: unknown, i) => {
        if (typeof name !== 'string') ctx.addIssue({ code: 'custom', path: ['required', i], message: 'must be a property name (a string)' });
      });
    }
  }
  checkDepth(schema, ctx);
});

/** A prompt-cache breakpoint. */
export const cacheControl = z.strictObject({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).exactOptional() });

/** The `cache_control` member of everything the API lets one cache. */
export const cacheable = { cache_control: cacheControl.nullable().exactOptional() };

/** A string that may also be null or left out, as the SDK types many optional strings. */
export const optionalString = z.string().nullable().exactOptional();

/** An optional integer that may also be null. */
export const optionalInt = z.int().nullable().exactOptional();

/** Tool use ids, as the API checks them (`^[a-zA-Z0-9_-]+$`). */
export const toolUseId = z.string().regex(/^[a-zA-Z0-9_-]+$/, 'must match ^[a-zA-Z0-9_-]+$');
