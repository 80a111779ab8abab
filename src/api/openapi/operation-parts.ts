import { componentRef, type JsonSchema } from './components.js';

/** An OpenAPI Operation, Parameter or Response Object, as plain data. */
export type OpenApiObject = Record<string, unknown>;

/** The problem statuses and what each means, for the operations that can answer them. */
const problemMeaning: Record<number, string> = {
  400: 'The request is invalid: `errors` lists each problem with a JSON Pointer (a body path, or `query:…`/`header:…`).',
  401: 'No valid API key (`Authorization: Bearer …`) or viewer token. Sent with `WWW-Authenticate: Bearer`.',
  404: 'No such job or conversation, or it has expired (`RESULT_TTL_S`).',
  409: 'A conflict: the Idempotency-Key names another body, or the previous job is not ready to be continued.',
  413: 'The body is larger than `MAX_BODY_BYTES`.',
  415: 'The body is not `application/json`.',
  503: 'Redis is not answering now (restarting, failing over, out of memory) or the node is shutting down; retry after `Retry-After`.',
};

/** Problem+json answers for `statuses`, keyed by status. */
export function problems(...statuses: number[]): Record<string, OpenApiObject> {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      { description: problemMeaning[status] ?? 'A problem.', content: { 'application/problem+json': { schema: componentRef('Problem') } } },
    ]),
  );
}

/** A JSON answer with the component `name`. */
export function json(description: string, name: string, headers?: Record<string, OpenApiObject>): OpenApiObject {
  return { description, content: { 'application/json': { schema: componentRef(name) } }, ...(headers === undefined ? {} : { headers }) };
}

/** A Server-Sent Events answer whose parsed events (`id`, `event`, `data` as JSON) are each a `eventSchema`. */
export function eventStream(description: string, eventSchema: string): OpenApiObject {
  return {
    description:
      `${description} Each event's \`data\` is one line of JSON; as a client parses it (\`id\`, \`event\`, \`data\` parsed) it is a ` +
      `\`${eventSchema}\`. The stream starts with \`retry: 2000\` and carries \`: keepalive\` comments. Event types newer than ` +
      'this document (a newer worker during a rolling upgrade) may appear: skip them.',
    content: { 'text/event-stream': { schema: { type: 'string' }, 'x-event-schema': componentRef(eventSchema) } },
  };
}

const idOf = (what: string, shape: string): OpenApiObject => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `The ${what} id (\`${shape}\`); another shape is a 404.`,
  schema: { type: 'string' },
});

/** Parameters shared by several operations. */
export const params = {
  jobId: idOf('job', 'job_…, or job_….… for a later turn'),
  conversationId: idOf('conversation', 'conv_…'),
  token: {
    name: 'token',
    in: 'query',
    required: false,
    description: 'A viewer token (from `viewer-token`): reads this job, or this conversation and its jobs, without the API key.',
    schema: { type: 'string' },
  },
  lastEventIdHeader: (shape: JsonSchema): OpenApiObject => ({
    name: 'Last-Event-ID',
    in: 'header',
    required: false,
    description: 'Resume after this event (EventSource sends it on reconnect).',
    schema: shape,
  }),
  lastEventIdQuery: (shape: JsonSchema): OpenApiObject => ({
    name: 'last_event_id',
    in: 'query',
    required: false,
    description: 'As `Last-Event-ID`, for clients that cannot set headers.',
    schema: shape,
  }),
} as const;

/** Security of operations that take the API key only, and of those a viewer token may read. */
export const security = {
  key: [{ apiKey: [] }],
  reader: [{ apiKey: [] }, { viewerToken: [] }],
  none: [],
} as const;

/** The security schemes the operations name. */
export const securitySchemes = {
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    description: 'One of `API_KEYS`. With `API_KEYS` unset the server runs with auth off and accepts every call.',
  },
  viewerToken: {
    type: 'apiKey',
    in: 'query',
    name: 'token',
    description: 'A signed, expiring viewer token: reads one job, or one conversation and its jobs.',
  },
} as const;

/** A CORS preflight for a read path (`CORS_ORIGINS`). */
export function preflight(operationId: string): OpenApiObject {
  return {
    operationId,
    summary: 'CORS preflight',
    description: 'Answers an allowed `Origin` (`CORS_ORIGINS`) with the methods and headers a browser may use; always 204.',
    tags: ['cors'],
    security: security.none,
    responses: { '204': { description: 'No content; CORS headers when the origin is allowed.' } },
  };
}
