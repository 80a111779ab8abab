import express, { Router, type RequestHandler } from 'express';
import { fileURLToPath } from 'node:url';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

/**
 * Third-party ES modules the pages import, served from the installed packages (no copy, no build
 * step): `/assets/vendor/<name>` → the package's ESM build as its `exports` map names it for `import`.
 * Both files are self-contained modules (no bare imports, no eval), so a browser loads them as they are.
 */
const vendorModules: ReadonlyMap<string, string> = new Map([
  ['marked.js', fileURLToPath(import.meta.resolve('marked'))],
  ['dompurify.js', fileURLToPath(import.meta.resolve('dompurify'))],
]);

/**
 * Pages have no inline script or style, so the policy can forbid every script but our own files:
 * even if model output ever reached the DOM as markup, nothing in it could run. Exported for pages
 * served elsewhere (and tests) to carry the same policy.
 */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
      "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  next();
};

/**
 * `GET /` (the console), `GET /jobs/{id}` (the viewer page), their assets and the vendored modules
 * under `/assets/vendor/`; no build step.
 */
export function pageRoutes(): Router {
  const router = Router();
  router.get('/assets/vendor/:file', securityHeaders, (req, res, next) => {
    const file = vendorModules.get(String(req.params['file']));
    if (file === undefined) {
      next();
      return;
    }
    res.type('text/javascript').sendFile(file, { maxAge: 0 });
  });
  router.use('/assets', securityHeaders, express.static(publicDir, { index: false, maxAge: 0 }));
  router.get('/favicon.ico', (_req, res) => res.status(204).end());
  router.get('/', securityHeaders, (_req, res) => res.sendFile('console.html', { root: publicDir }));
  router.get('/jobs/:id', securityHeaders, (_req, res) => res.sendFile('viewer.html', { root: publicDir }));
  return router;
}
