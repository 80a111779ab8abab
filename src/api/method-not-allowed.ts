import type { Express, RequestHandler } from 'express';
import { AppError } from '../shared/errors.js';

/** The parts of Express's router this reads: its layers, their routes and sub-routers. */
interface RouterLayer {
  match(path: string): boolean;
  route?: { methods: Record<string, boolean | undefined> };
  handle?: { stack?: RouterLayer[] };
}

/** Methods the routes of `stack` (sub-routers included) answer for `path`. */
function methodsFor(stack: readonly RouterLayer[], path: string, found: Set<string>): void {
  for (const layer of stack) {
    if (layer.route !== undefined) {
      if (!layer.match(path)) continue;
      for (const [method, on] of Object.entries(layer.route.methods)) if (on === true && method !== '_all') found.add(method.toUpperCase());
    } else if (layer.handle?.stack !== undefined && layer.match(path)) {
      methodsFor(layer.handle.stack, path, found);
    }
  }
}

/**
 * The last route before the 404: a path that a route knows, asked with another method, is a 405 with
 * `Allow` listing the methods it does answer (HEAD wherever GET is). Read from the app's own routes,
 * so it cannot drift from them.
 */
export function methodNotAllowed(app: Express): RequestHandler {
  return (req, res, next) => {
    const found = new Set<string>();
    const stack = (app as unknown as { router?: { stack?: RouterLayer[] } }).router?.stack ?? [];
    methodsFor(stack, req.path, found);
    // A route of this very method that passed the request on (a page module it does not serve) is a
    // 404, not "GET is not allowed; allowed: GET".
    const answers = found.has(req.method) || (req.method === 'HEAD' && found.has('GET'));
    if (found.size === 0 || answers) {
      next();
      return;
    }
    if (found.has('GET')) found.add('HEAD');
    const allow = [...found].sort().join(', ');
    res.set('allow', allow);
    throw new AppError('method_not_allowed', `${req.method} is not allowed on ${req.path}; allowed: ${allow}.`);
  };
}
