import { SseSink } from '../relay/sse-sink.js';
import { Router, type Request } from 'express';
import { AppError } from '../../shared/errors.js';
import { isConversationId } from '../../shared/ids.js';
import type { JobStore } from '../../shared/job-store.js';
import { toRecordView } from '../../shared/job-record.js';
import { recordFields as F } from '../../shared/keys.js';
import type { ConversationTurnView, ConversationView } from '../../shared/wire.js';
import type { Auth } from '../auth.js';
import { conversationCursorIssue, streamConversation, type ConversationCursor } from '../conversation-stream.js';
import type { EventHub } from '../event-hub.js';
import type { ApiMetrics } from '../metrics.js';
import { openStream, rawCursorOf } from './events.js';

/** Dependencies of the conversation routes. */
export interface ConversationRoutesDeps {
  readonly store: JobStore;
  readonly hub: EventHub;
  readonly metrics: ApiMetrics;
  readonly auth: Auth;
  readonly keyPrefix: string;
  /** A fresh viewer token for a job or a conversation. */
  readonly mintViewerToken: (subject: string) => { token: string; expiresAt: number };
}

const notFound = () => new AppError('not_found', 'No such conversation, or it has expired.');

/** The conversation id of a request, or a 404 (an id that cannot exist never reaches Redis). */
function conversationIdParam(req: Request): string {
  const id = req.params['id'];
  if (typeof id !== 'string' || !isConversationId(id)) throw notFound();
  return id;
}

/** A conversation stream's cursor: `<turn>-<seq>` (the ids it sends), absent for the start. */
function conversationCursor(req: Request): ConversationCursor & { readonly path: string } {
  const { raw, path } = rawCursorOf(req);
  if (raw === undefined || raw === '') return { turn: 0, seq: 0, path };
  const match = /^(\d{1,9})-(\d{1,15})$/.exec(raw);
  if (match === null) {
    throw new AppError('validation_failed', 'A conversation stream cursor is <turn>-<seq>, as its event ids.', {
      details: [{ path, message: 'must be <turn>-<seq>, e.g. 2-17' }],
    });
  }
  return { turn: Number(match[1]), seq: Number(match[2]), path };
}

/** Reads a conversation and every turn's record, in parallel (each job is one script in the conversation's slot). */
export async function readConversationView(store: JobStore, id: string): Promise<ConversationView | undefined> {
  const stored = await store.readConversation(id);
  if (stored === undefined) return undefined;
  const firstTurn = Number(stored.meta['first_turn'] ?? 1);
  const records = await Promise.all(stored.turns.map((jobId) => store.read(jobId)));
  const parse = (m: string): unknown => JSON.parse(m);
  const turns: ConversationTurnView[] = [];
  for (const [i, record] of records.entries()) {
    if (record === undefined) continue;
    const view = toRecordView(record, 0);
    const from = Number(record.hash[F.historyFrom] ?? 0);
    const to = Number(record.hash[F.historyLen] ?? from);
    turns.push({
      turn: firstTurn + i,
      job_id: view.id,
      status: view.status,
      previous_job_id: view.previous_job_id,
      messages: stored.history.slice(from, to).map(parse),
      content: view.content,
      stop_reason: view.stop_reason,
      usage: view.usage,
      error: view.error,
      created_at: view.created_at,
      finished_at: view.finished_at,
    });
  }
  return {
    id,
    created_at: new Date(Number(stored.meta['created_at'] ?? 0)).toISOString(),
    last_job_id: stored.meta['last_job_id'] ?? '',
    forked_from: stored.meta['forked_from'] ?? null,
    forked_from_conversation: stored.meta['forked_from_conversation'] ?? null,
    turns,
    events_url: `/v1/conversations/${id}/events`,
  };
}

/** `GET /v1/conversations/{id}`, its `/events` stream, and `POST …/viewer-token` (API.md §4.2). */
export function conversationRoutes(deps: ConversationRoutesDeps): Router {
  const router = Router();
  const { requireKey, requireReader } = deps.auth;

  router.get('/v1/conversations/:id', requireReader, async (req, res) => {
    const view = await readConversationView(deps.store, conversationIdParam(req));
    if (view === undefined) throw notFound();
    res.json(view);
  });

  router.get('/v1/conversations/:id/events', requireReader, async (req, res) => {
    const id = conversationIdParam(req);
    const cursor = conversationCursor(req);
    const stored = await deps.store.readConversation(id);
    if (stored === undefined) throw notFound();
    const issue = await conversationCursorIssue(deps.store, stored, cursor, cursor.path);
    if (issue !== undefined) throw issue;
    openStream(res);
    deps.metrics.viewerConnections.inc({ transport: 'sse' });
    await streamConversation(deps, id, new SseSink(res), cursor);
    (req as { next?: unknown }).next = undefined;
  });

  router.post('/v1/conversations/:id/viewer-token', requireKey, async (req, res) => {
    const id = conversationIdParam(req);
    if ((await deps.store.readConversation(id)) === undefined) throw notFound();
    const { token, expiresAt } = deps.mintViewerToken(id);
    const q = `token=${encodeURIComponent(token)}`;
    res.status(201).json({
      token,
      expires_at: new Date(expiresAt).toISOString(),
      viewer_url: `/chat/${id}?${q}`,
      events_url: `/v1/conversations/${id}/events?${q}`,
      record_url: `/v1/conversations/${id}?${q}`,
    });
  });

  return router;
}
