import express, { Router, type RequestHandler } from 'express';
import { fileURLToPath } from 'node:url';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));
/** The build output (`npm run build`): the same place from `src/api/routes/` and `dist/api/routes/`. */
const distDir = fileURLToPath(new URL('../../../dist/', import.meta.url));
/** The shared modules the built socket client imports: browser-safe, and the only ones served. */
const clientShared = new Set(['events.js', 'content.js', 'fold-content.js']);

/**
 * Pages have no inline script or style, so the policy can forbid every script but our own files:
 * even if model output ever reached the DOM as markup, nothing in it could run.
 */
const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
      "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  next();
};

/** `GET /` (the console), `GET /jobs/{id}` (the viewer page), `GET /chat[/{id}]` and their assets; no build step. */
export function pageRoutes(): Router {
  const router = Router();
  router.use('/assets', securityHeaders, express.static(publicDir, { index: false, maxAge: 0 }));
  router.get('/favicon.ico', (_req, res) => res.status(204).end());
  router.get('/', securityHeaders, (_req, res) => res.sendFile('console.html', { root: publicDir }));
  router.get('/jobs/:id', securityHeaders, (_req, res) => res.sendFile('viewer.html', { root: publicDir }));
  // The chat page (issue 18 §3) imports the built socket client, `dist/client/*.js`, as ES modules.
  router.get(['/chat', '/chat/:id'], securityHeaders, (_req, res) => res.sendFile('chat.html', { root: publicDir }));
  router.get('/assets/lib/:dir/:file', securityHeaders, (req, res, next) => {
    const dir = String(req.params['dir']);
    const file = String(req.params['file']);
    const served = /^[a-z-]+\.js$/.test(file) && (dir === 'client' || (dir === 'shared' && clientShared.has(file)));
    if (!served) return next();
    res.sendFile(file, { root: `${distDir}${dir}`, maxAge: 0 }, (err) => (err ? next() : undefined));
  });
  return router;
}
