import { SseSink } from '../relay/sse-sink.js';
import { Router, type Request } from 'express';
import { AppError } from '../../shared/errors.js';
import { isTerminal } from '../../shared/events.js';
import type { JobStore } from '../../shared/job-store.js';
import type { Auth } from '../auth.js';
import type { EventHub } from '../event-hub.js';
import type { ApiMetrics } from '../metrics.js';
import { jobIdParam } from './jobs.js';

/** Dependencies of the events route. */
export interface EventsRouteDeps {
  readonly store: JobStore;
  readonly hub: EventHub;
  readonly metrics: ApiMetrics;
  readonly auth: Auth;
}

/** The raw resume cursor and where it came from: `Last-Event-ID` (EventSource's reconnect), else `?last_event_id=`. */
export function rawCursorOf(req: Request): { readonly raw: string | undefined; readonly path: string } {
  const header = req.get('last-event-id');
  const query = req.query['last_event_id'];
  return {
    raw: header ?? (typeof query === 'string' ? query : undefined),
    path: header === undefined ? 'query:last_event_id' : 'header:Last-Event-ID',
  };
}

/** The resume cursor of a job's stream: a non-negative integer. */
function cursorOf(req: Request): { readonly cursor: number; readonly path: string } {
  const { raw, path } = rawCursorOf(req);
  if (raw === undefined || raw === '') return { cursor: 0, path };
  const n = Number(raw);
  if (/^\d+$/.test(raw) && !Number.isSafeInteger(n)) {
    throw new AppError('validation_failed', 'The event cursor is too large.', {
      details: [{ path, message: `is too large: event ids go up to ${Number.MAX_SAFE_INTEGER}` }],
    });
  }
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new AppError('validation_failed', 'The event cursor must be a non-negative integer.', {
      details: [{ path, message: 'must be a non-negative integer' }],
    });
  }
  return { cursor: n, path };
}

/** The head of every event-stream response. */
export const streamHead = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'close',
  // Tells nginx-style proxies not to buffer the stream.
  'x-accel-buffering': 'no',
} as const;

/** `GET /v1/jobs/{id}/events`: replay from the log, then live, then close after `done`. */
export function eventsRoute(deps: EventsRouteDeps): Router {
  const router = Router();
  router.get('/v1/jobs/:id/events', deps.auth.requireReader, async (req, res) => {
    const id = jobIdParam(req);
    const { cursor, path } = cursorOf(req);
    const state = await deps.store.progress(id);
    if (state === undefined) throw new AppError('not_found', 'No such job, or its result has expired.');
    if (isTerminal(state.status) && cursor >= state.seq) {
      // The client already has `done` (EventSource reconnects after every close): 204 tells it to stop.
      res.status(204).end();
      return;
    }
    if (cursor > state.seq) {
      // Every event, `done` included, would be at or below the cursor: the stream could never end.
      throw new AppError('validation_failed', `The event cursor ${cursor} is past the job's last event (${state.seq}).`, {
        details: [{ path, message: `is past the job's last event, ${state.seq}` }],
      });
    }
    if (req.method === 'HEAD') {
      // Headers only: Express routes HEAD here too, and a HEAD response has no body to stream into.
      res.writeHead(200, streamHead).end();
      return;
    }
    openStream(res);
    deps.metrics.viewerConnections.inc({ transport: 'sse' });
    await deps.hub.attach(id, new SseSink(res), cursor);
    // The stream is this response's last word: no handler after it. Express keeps its router chain
    // (each router's `next` closure and their scopes) reachable from `req.next` for as long as the
    // request lives, which for a viewer is the whole stream: let it go.
    (req as { next?: unknown }).next = undefined;
  });
  return router;
}

/** Writes an event stream's head and its `retry:` line. */
export function openStream(res: import('node:http').ServerResponse): void {
  // No chunked framing: the body is the event stream until the connection closes, so each write is
  // the frame's bytes only (SSE connections are not reused anyway).
  res.useChunkedEncodingByDefault = false;
  res.writeHead(200, streamHead);
  res.write('retry: 2000\n\n');
  res.socket?.setNoDelay(true);
}
