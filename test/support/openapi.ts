import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';

/** The parts of an OpenAPI document the checks read. */
export interface OpenApiDoc {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: { readonly schemas: Record<string, unknown> };
}

/** An operation: its answers by status, each with content by media type. */
export interface Operation {
  readonly responses: Record<string, { readonly content?: Record<string, { readonly schema?: unknown; readonly 'x-event-schema'?: { $ref: string } }> }>;
  readonly [key: string]: unknown;
}

/** One answer the server gave, as the checks need it. */
export interface Answer {
  readonly method: string;
  /** The path asked (no query). */
  readonly path: string;
  readonly status: number;
  readonly contentType: string | null;
  /** The body parsed as JSON for JSON media types, the text otherwise; undefined without a body. */
  readonly body: unknown;
}

// ajv-formats is CommonJS: its plugin is the module itself (TypeScript's view has it under `default`).
const addFormats = ((formatsModule as unknown as { default?: unknown }).default ?? formatsModule) as unknown as (ajv: Ajv2020) => void;

/** Compiles every component of `doc` with ajv (JSON Schema 2020-12, with formats); throws if one does not compile. */
export function createDocumentValidator(doc: OpenApiDoc) {
  const ajv = new Ajv2020({ strict: true, allErrors: true, strictTypes: false, strictTuples: false });
  // The document's root holds the components; refs into it are resolved (and compiled strictly) one by one.
  ajv.addKeyword('components');
  addFormats(ajv);
  ajv.addSchema({ $id: 'doc', components: doc.components } as object);
  const compiled = new Map<string, ValidateFunction>();
  const byRef = (ref: string): ValidateFunction => {
    let validate = compiled.get(ref);
    if (validate === undefined) {
      validate = ajv.compile({ $ref: `doc${ref}` });
      compiled.set(ref, validate);
    }
    return validate;
  };
  const bySchema = (schema: unknown): ValidateFunction => {
    const ref = (schema as { $ref?: unknown }).$ref;
    return typeof ref === 'string' ? byRef(ref) : ajv.compile(rewriteRefs(schema));
  };
  for (const name of Object.keys(doc.components.schemas)) byRef(`#/components/schemas/${name}`);

  /** The operation of `method` on the path template that matches `path`. */
  const operationOf = (method: string, path: string): { template: string; operation: Operation } => {
    for (const [template, item] of Object.entries(doc.paths)) {
      const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`);
      const operation = item[method.toLowerCase()];
      if (pattern.test(path) && operation !== undefined) return { template, operation };
    }
    throw new Error(`the document has no operation ${method} ${path}`);
  };

  return {
    operationOf,
    /** Validates `data` against the component `#/components/schemas/…` `ref`; the errors, none when valid. */
    check(ref: string, data: unknown): string[] {
      const validate = byRef(ref);
      return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    },
    /**
     * Whether the document lists `answer` (its status, its media type) for its operation, and its body
     * validates against the schema given there. Returns the problems found, none when it conforms.
     */
    checkAnswer(answer: Answer): string[] {
      const { template, operation } = operationOf(answer.method, answer.path);
      const where = `${answer.method} ${template} → ${answer.status}`;
      const response = operation.responses[String(answer.status)];
      if (response === undefined) return [`${where}: status not in the document`];
      const mediaType = answer.contentType?.split(';')[0]?.trim();
      if (response.content === undefined) return answer.body === undefined || answer.body === '' ? [] : [`${where}: a body the document does not list`];
      if (mediaType === undefined || response.content[mediaType] === undefined) return [`${where}: media type ${mediaType} not in the document`];
      const schema = response.content[mediaType].schema;
      if (schema === undefined) return [];
      const validate = bySchema(schema);
      return validate(answer.body) ? [] : (validate.errors ?? []).map((e) => `${where}: ${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    },
  };
}

/** A schema with its `#/components/…` refs pointed at the document added to ajv. */
function rewriteRefs(schema: unknown): object {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', '"$ref":"doc#/')) as object;
}

/** Reads a fetch answer into an {@link Answer} (JSON media types parsed). */
export async function answerOf(method: string, url: string, res: Response): Promise<Answer & { readonly headers: Headers }> {
  const contentType = res.headers.get('content-type');
  const text = await res.text();
  const isJson = /^application\/([a-z.+-]*\+)?json/.test(contentType ?? '');
  return {
    method,
    path: new URL(url).pathname,
    status: res.status,
    contentType,
    body: text === '' ? undefined : isJson ? (JSON.parse(text) as unknown) : text,
    headers: res.headers,
  };
}
