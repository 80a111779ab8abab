import { Router, type RequestHandler } from 'express';
import { readFileSync } from 'node:fs';
import type { JobRequestLimits } from '../job-request.js';
import { createOpenApiDocument, type OpenApiDocument } from '../openapi/document.js';

/** Dependencies of the document's route. */
export interface OpenApiRouteDeps extends JobRequestLimits {
  readonly auth: { readonly requireKey: RequestHandler };
}

/** genrelay's version, from its package.json (the same path from `src/` and from `dist/`). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

/**
 * `GET /v1/openapi.json`: the OpenAPI 3.1 document for this server's limits, built once and served
 * as the same bytes with a strong ETag; `If-None-Match` gets a 304. `no-cache`: a client revalidates,
 * so a restart with other limits is seen at once.
 */
export function openapiRoute(deps: OpenApiRouteDeps): Router {
  // Built at the first request, not with the app: converting the schemas takes 0.1 to 0.5 s of CPU,
  // which every API node start (and every test system) would pay for a document few of them serve.
  let built: OpenApiDocument | undefined;
  const router = Router();
  router.get('/v1/openapi.json', deps.auth.requireKey, (req, res) => {
    built ??= createOpenApiDocument(deps, packageVersion());
    const { body, etag } = built;
    res.set({ etag, 'cache-control': 'no-cache' });
    const match = req.get('if-none-match');
    if (match !== undefined && match.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
      res.status(304).end();
      return;
    }
    res.type('application/json').send(body);
  });
  return router;
}
