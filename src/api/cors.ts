import type { RequestHandler } from 'express';

/**
 * CORS for the read endpoints (a job's record and its events), from `CORS_ORIGINS`: an allowed
 * `Origin` is echoed (or `*` when configured), preflights get the headers an SSE or fetch client
 * sends. No credentials: browsers authenticate with the viewer token in the URL or a bearer key.
 */
export function createCors(origins: readonly string[]): { readonly headers: RequestHandler; readonly preflight: RequestHandler } {
  const any = origins.includes('*');
  const allowed = (origin: string | undefined): origin is string => origin !== undefined && (any || origins.includes(origin));
  return {
    headers(req, res, next) {
      const origin = req.get('origin');
      res.vary('Origin');
      if (allowed(origin)) res.set('access-control-allow-origin', any ? '*' : origin);
      next();
    },
    preflight(req, res) {
      const origin = req.get('origin');
      res.vary('Origin');
      if (allowed(origin)) {
        res.set({
          'access-control-allow-origin': any ? '*' : origin,
          'access-control-allow-methods': 'GET',
          'access-control-allow-headers': 'Authorization, Last-Event-ID, Cache-Control',
          'access-control-max-age': '600',
        });
      }
      res.status(204).end();
    },
  };
}
