import { componentRef } from './components.js';
import { problems, security, type OpenApiObject } from './operation-parts.js';

const statusBody = (values: string[]) => ({
  type: 'object',
  properties: { status: { type: 'string', enum: values } },
  required: ['status'],
  additionalProperties: false,
});
const page = (operationId: string, summary: string): OpenApiObject => ({
  operationId,
  summary,
  tags: ['pages'],
  security: security.none,
  responses: { '200': { description: 'The page (no inline script; a strict Content-Security-Policy).', content: { 'text/html': { schema: { type: 'string' } } } } },
});

/** Health, readiness, metrics, this document, the socket and the pages. */
export const servicePaths: Record<string, Record<string, OpenApiObject>> = {
  '/healthz': {
    get: {
      operationId: 'health',
      summary: 'The process is alive',
      tags: ['operations'],
      security: security.none,
      responses: { '200': { description: 'Alive.', content: { 'application/json': { schema: statusBody(['ok']) } } } },
    },
  },
  '/readyz': {
    get: {
      operationId: 'readiness',
      summary: 'Redis is reachable',
      tags: ['operations'],
      security: security.none,
      responses: {
        '200': { description: 'Ready.', content: { 'application/json': { schema: statusBody(['ready']) } } },
        '503': { description: 'Redis is unreachable.', content: { 'application/json': { schema: statusBody(['redis unreachable']) } } },
      },
    },
  },
  '/metrics': {
    get: {
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      tags: ['operations'],
      security: security.none,
      responses: { '200': { description: 'The Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  },
  '/v1/openapi.json': {
    get: {
      operationId: 'openApiDocument',
      summary: 'This document',
      description: "Built once per process from the schemas that validate requests, with this server's limits. Revalidate with `If-None-Match`.",
      tags: ['operations'],
      security: security.key,
      responses: {
        '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } },
        '304': { description: 'Unchanged since the `ETag` given in `If-None-Match`.' },
        ...problems(401),
      },
    },
  },
  '/v1/ws': {
    get: {
      operationId: 'openSocket',
      summary: 'The WebSocket: many jobs and conversations on one socket',
      description:
        'An HTTP/1.1 upgrade (RFC 6455) to JSON text frames: the client sends `ClientFrame`s, the server `ServerFrame`s ' +
        '(see API.md "The WebSocket" for the session). Credentials go on the upgrade (`Authorization: Bearer`) or in an `auth` ' +
        'frame within 10 s. A request without the upgrade headers is not a socket (404).',
      tags: ['socket'],
      security: [...security.key, { viewerToken: [] }],
      'x-upgrade': 'websocket',
      'x-client-frames': componentRef('ClientFrame'),
      'x-server-frames': componentRef('ServerFrame'),
      responses: {
        '101': { description: 'Switching Protocols: the socket is open.' },
        '401': { description: 'A wrong key on the upgrade (no body; `WWW-Authenticate: Bearer`).' },
        '503': { description: 'The node is shutting down (no body; `Retry-After`).' },
      },
    },
  },
  '/': { get: page('consolePage', 'The console: submit a prompt and watch it') },
  '/jobs/{id}': {
    get: {
      ...page('viewerPage', 'The viewer page of one job (`?token=` a viewer token)'),
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    },
  },
  '/chat': { get: page('chatPage', 'The chat page: a new conversation on the socket') },
  '/chat/{id}': {
    get: {
      ...page('chatConversationPage', 'The chat page of one conversation (`?token=` a viewer token: read-only)'),
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
    },
  },
  '/assets/lib/{dir}/{file}': {
    get: {
      operationId: 'pageModule',
      summary: "The built client's ES modules the pages import (`dist/client/`, some of `dist/shared/`)",
      tags: ['pages'],
      security: security.none,
      parameters: [
        { name: 'dir', in: 'path', required: true, schema: { type: 'string', enum: ['client', 'shared'] } },
        { name: 'file', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z-]+\\.js$' } },
      ],
      responses: {
        '200': { description: 'The module.', content: { 'text/javascript': { schema: { type: 'string' } } } },
        ...problems(404),
      },
    },
  },
  '/assets/vendor/{file}': {
    get: {
      operationId: 'vendorModule',
      summary: 'The kept libraries the pages import, served as ES modules from the installed packages (marked, DOMPurify)',
      tags: ['pages'],
      security: security.none,
      parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string', enum: ['marked.js', 'dompurify.js'] } }],
      responses: {
        '200': { description: 'The module.', content: { 'text/javascript': { schema: { type: 'string' } } } },
        ...problems(404),
      },
    },
  },
  '/favicon.ico': {
    get: {
      operationId: 'favicon',
      summary: 'No icon',
      tags: ['pages'],
      security: security.none,
      responses: { '204': { description: 'No content.' } },
    },
  },
};
