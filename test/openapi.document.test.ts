import { Validator } from '@seriousme/openapi-schema-validator';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentValidator, type OpenApiDoc } from './support/openapi.js';
import { startSystem, type TestSystem } from './support/system.js';

/** A route layer of Express's router, or a layer holding a sub-router (as `method-not-allowed.ts` reads them). */
interface RouterLayer {
  readonly slash?: boolean;
  readonly route?: { readonly path: string | readonly string[]; readonly methods: Record<string, boolean | undefined> };
  readonly handle?: { readonly stack?: readonly RouterLayer[] };
}

/** Every `METHOD /path/{param}` the app's routes answer, sub-routers included (HEAD is GET's). */
function appOperations(app: Express): Set<string> {
  const found = new Set<string>();
  const walk = (stack: readonly RouterLayer[]) => {
    for (const layer of stack) {
      if (layer.route !== undefined) {
        const paths = typeof layer.route.path === 'string' ? [layer.route.path] : layer.route.path;
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on !== true || method === '_all') continue;
          for (const path of paths) found.add(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle?.stack !== undefined) {
        // A sub-router mounted below the root would prefix its routes: none is, and this says so if one ever is.
        if (layer.slash !== true) throw new Error('a sub-router mounted on a path: teach this walk its prefix');
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: RouterLayer[] } }).router.stack);
  return found;
}

/** Every `METHOD /path` of the document, and those served by the HTTP upgrade rather than a route. */
function documentOperations(doc: OpenApiDoc): { routes: Set<string>; upgrades: Set<string> } {
  const routes = new Set<string>();
  const upgrades = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (method === 'parameters' || method === 'summary' || method === 'description') continue;
      (operation['x-upgrade'] === undefined ? routes : upgrades).add(`${method.toUpperCase()} ${path}`);
    }
  }
  return { routes, upgrades };
}

describe('the OpenAPI document', () => {
  let sys: TestSystem;
  let doc: OpenApiDoc;
  beforeAll(async () => {
    sys = await startSystem({ name: 'openapi-doc', env: { MAX_TOKENS_LIMIT: '12345' } });
    doc = (await (await fetch(`${sys.url}/v1/openapi.json`)).json()) as OpenApiDoc;
  });
  afterAll(async () => {
    await sys.close();
  });

  it('lists every route of the app, and nothing the app does not answer but the socket upgrade', () => {
    const app = sys.api.server.listeners('request')[0] as Express;
    const served = appOperations(app);
    expect(served.size).toBeGreaterThan(15);
    const { routes, upgrades } = documentOperations(doc);
    expect([...served].filter((op) => !routes.has(op)), 'routes the document lacks').toEqual([]);
    expect([...routes].filter((op) => !served.has(op)), 'operations no route answers').toEqual([]);
    // The socket is taken on the server's `upgrade` event, not by a route: the one exception.
    expect([...upgrades]).toEqual(['GET /v1/ws']);
    expect(served.has('GET /v1/ws')).toBe(false);
  });

  it('is valid against the OpenAPI 3.1 specification\'s own schema', async () => {
    // The OAI's published JSON Schema of an OpenAPI 3.1 document (with its JSON Schema dialect), as
    // the kept validator ships it: what a code generator or a gateway checks a document against.
    const result = await new Validator().validate(structuredClone(doc) as unknown as Record<string, unknown>);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
    // It does look: a parameter `in: body` (OpenAPI 2, gone in 3) is refused.
    const broken = structuredClone(doc) as { paths: Record<string, Record<string, { parameters?: unknown[] }>> };
    const op = Object.values(Object.values(broken.paths)[0] ?? {})[0];
    if (op !== undefined) op.parameters = [{ name: 'x', in: 'body', schema: { type: 'string' } }];
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('is OpenAPI 3.1 whose schemas compile (JSON Schema 2020-12, formats) and whose refs resolve', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'genrelay', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    // Throws if any component does not compile, or names a $ref that is not there.
    const validator = createDocumentValidator(doc);
    const text = JSON.stringify(doc);
    for (const [, ref] of text.matchAll(/"\$ref":"([^"]+)"/g)) {
      const name = decodeURIComponent(String(ref)).replace('#/components/schemas/', '');
      expect(doc.components.schemas, String(ref)).toHaveProperty([name]);
    }
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op['operationId']));
    expect(new Set(ids).size, 'operationIds are unique').toBe(ids.length);
    // Path parameters: each `{name}` of a template is a parameter of every operation on it.
    for (const [path, item] of Object.entries(doc.paths)) {
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        if (method === 'options') continue;
        const declared = ((op['parameters'] ?? []) as { name: string; in: string }[]).filter((p) => p.in === 'path').map((p) => p.name);
        expect(declared, `${method} ${path}`).toEqual(names);
      }
    }
    // What OpenAPI 3.1 requires of operations: responses with descriptions, parameters with a place, known schemes and tags.
    const schemes = Object.keys((doc.components as { securitySchemes?: object }).securitySchemes ?? {});
    const tags = ((doc as unknown as { tags: { name: string }[] }).tags ?? []).map((t) => t.name);
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(Object.keys(op.responses).length, where).toBeGreaterThan(0);
        for (const [status, response] of Object.entries(op.responses)) {
          expect(status, where).toMatch(/^[1-5]\d\d$/);
          expect(typeof (response as { description?: unknown }).description, `${where} ${status}`).toBe('string');
        }
        for (const p of (op['parameters'] ?? []) as { name: string; in: string; required?: boolean; schema?: unknown }[]) {
          expect(['path', 'query', 'header', 'cookie'], `${where} ${p.name}`).toContain(p.in);
          if (p.in === 'path') expect(p.required, `${where} ${p.name}`).toBe(true);
          expect(p.schema, `${where} ${p.name}`).toBeDefined();
        }
        for (const requirement of (op['security'] ?? []) as Record<string, unknown>[]) for (const name of Object.keys(requirement)) expect(schemes, where).toContain(name);
        for (const tag of (op['tags'] ?? []) as string[]) expect(tags, where).toContain(tag);
      }
    }
    // A request the server accepts validates, one it refuses for its shape does not.
    expect(validator.check('#/components/schemas/CreateJobBody', { max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).toEqual([]);
    expect(validator.check('#/components/schemas/CreateJobBody', { max_tokens: 10, temperature: 1, messages: [] })).not.toEqual([]);
  });

  it("is built for this server's limits and revalidates with its ETag", async () => {
    const body = doc.components.schemas['CreateJobBody'] as { properties: { max_tokens: { maximum: number } } };
    expect(body.properties.max_tokens.maximum).toBe(12345);
    const res = await fetch(`${sys.url}/v1/openapi.json`);
    const etag = res.headers.get('etag');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(`${sys.url}/v1/openapi.json`, { headers: { 'if-none-match': String(etag) } });
    expect(again.status).toBe(304);
    const other = await fetch(`${sys.url}/v1/openapi.json`, { headers: { 'if-none-match': '"something-else"' } });
    expect(other.status).toBe(200);
  });
});
