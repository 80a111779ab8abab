import express, { Router, type RequestHandler } from 'express';
import { readFileSync } from 'node:fs';
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

/** What the pages show of the server's configuration. */
export interface PageOptions {
  /** `DEFAULT_MODEL`: the console's model field shows it as its placeholder (a blank field uses it). */
  readonly defaultModel: string;
}

const attribute = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * `GET /` (the console), `GET /jobs/{id}` (the viewer page) and their assets; no build step. The
 * console's `{{default_model}}` becomes the server's model in the HTML itself: no inline script, no
 * extra request, the same CSP.
 */
export function pageRoutes(options: PageOptions): Router {
  const router = Router();
  const consoleHtml = readFileSync(`${publicDir}console.html`, 'utf8').replaceAll('{{default_model}}', attribute(options.defaultModel));
  router.use('/assets', securityHeaders, express.static(publicDir, { index: false, maxAge: 0 }));
  router.get('/favicon.ico', (_req, res) => res.status(204).end());
  router.get('/', securityHeaders, (_req, res) => res.type('html').send(consoleHtml));
  router.get('/jobs/:id', securityHeaders, (_req, res) => res.sendFile('viewer.html', { root: publicDir }));
  return router;
}
