import express, { Router, type RequestHandler } from 'express';
import { fileURLToPath } from 'node:url';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

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

/** `GET /` (the console), `GET /jobs/{id}` (the viewer page) and their assets; no build step. */
export function pageRoutes(): Router {
  const router = Router();
  router.use('/assets', securityHeaders, express.static(publicDir, { index: false, maxAge: 0 }));
  router.get('/favicon.ico', (_req, res) => res.status(204).end());
  router.get('/', securityHeaders, (_req, res) => res.sendFile('console.html', { root: publicDir }));
  router.get('/jobs/:id', securityHeaders, (_req, res) => res.sendFile('viewer.html', { root: publicDir }));
  return router;
}
