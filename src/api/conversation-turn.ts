import type { ContentBlockView } from '../shared/content.js';
import { AppError } from '../shared/errors.js';
import type { StoredJob } from '../shared/job-store.js';
import { toRecordView } from '../shared/job-record.js';
import { recordFields as F } from '../shared/keys.js';
import { countCacheBreakpoints, maxCacheBreakpoints, type CacheableRequest } from './request-schema/cache-breakpoints.js';

/** What a continuation takes from the job it continues (API.md §4.2). */
export interface PreviousTurn {
  readonly id: string;
  readonly conversationId: string;
  readonly turn: number;
  /** Messages of the conversation's history the previous job's upstream got; undefined for a job from before conversations. */
  readonly historyLen: number | undefined;
  /** Prompt-cache breakpoints in the previous job's history. */
  readonly historyBreakpoints: number;
  /** For such an older job: the messages its params held. */
  readonly legacyMessages: readonly unknown[];
  /** Its upstream parameters (without messages): what the new request leaves out comes from here. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Its assistant message as the conversation keeps it; undefined when nothing of it can go back. */
  readonly assistant: { readonly role: 'assistant'; readonly content: readonly Record<string, unknown>[] } | undefined;
}

/** Fields of a block that are genrelay's own, never the upstream's. */
const ours = ['incomplete', 'partial_json', 'input_error', 'deltas'] as const;

/**
 * The previous job's content made valid for the upstream, as the user saw it (API.md §4.2): an
 * unfinished text block is kept as far as it went (an empty one dropped); thinking is kept only with
 * its signature and finished; an unfinished tool call is dropped (its input is not whole), and so is
 * a server tool call whose result never came; blocks that arrive whole go back as they came.
 */
export function committedContent(content: readonly ContentBlockView[]): Record<string, unknown>[] {
  const results = new Set(
    content.map((b) => (b as Record<string, unknown>)['tool_use_id']).filter((id): id is string => typeof id === 'string'),
  );
  const kept: Record<string, unknown>[] = [];
  for (const block of content) {
    const b: Record<string, unknown> = { ...block };
    const unfinished = b['incomplete'] === true;
    for (const field of ours) delete b[field];
    switch (block.type) {
      case 'text':
        if (typeof b['text'] !== 'string' || b['text'] === '') continue;
        if (b['citations'] === null) delete b['citations'];
        break;
      case 'thinking':
        if (unfinished || typeof b['signature'] !== 'string' || b['signature'] === '') continue;
        break;
      case 'tool_use':
      case 'mcp_tool_use':
        if (unfinished) continue;
        break;
      case 'server_tool_use':
        if (unfinished || !results.has(String(b['id']))) continue;
        break;
      default:
        if (unfinished) continue;
    }
    kept.push(b);
  }
  return kept;
}

/**
 * Reads what a continuation needs from the previous job's stored record, or refuses: 409 unless it is
 * `completed` or `cancelled` (any other status is named), 404 is the caller's (no record).
 */
export function previousTurn(stored: StoredJob): PreviousTurn {
  const view = toRecordView(stored, 0);
  if (view.status !== 'completed' && view.status !== 'cancelled') {
    throw new AppError('conflict', `The previous job is ${view.status}: only a completed or cancelled job can be continued.`, {
      details: [{ path: '/previous_job_id', message: `is ${view.status}; it must be completed or cancelled` }],
    });
  }
  const { messages = [], ...params } = JSON.parse(stored.hash[F.params] ?? '{}') as Record<string, unknown> & { messages?: unknown[] };
  const historyLen = stored.hash[F.historyLen] === undefined ? undefined : Number(stored.hash[F.historyLen]);
  const content = committedContent(view.content);
  // The code-execution container the previous turn used carries on, unless the request names one.
  const container = view.container?.['id'];
  return {
    id: view.id,
    conversationId: view.conversation_id ?? '',
    turn: view.turn,
    historyLen,
    historyBreakpoints: Number(stored.hash[F.historyBreakpoints] ?? 0),
    legacyMessages: historyLen === undefined ? messages : [],
    params: typeof container === 'string' && params['container'] === undefined ? { ...params, container } : params,
    assistant: content.length === 0 ? undefined : { role: 'assistant', content },
  };
}

/**
 * Every client `tool_use` of the previous turn must be answered by a `tool_result` in the first new
 * message (API.md §4.2): else a 400 naming the ids, before anything is queued.
 */
export function checkToolResults(previous: PreviousTurn, messages: readonly unknown[]): void {
  const asked = (previous.assistant?.content ?? []).filter((b) => b['type'] === 'tool_use').map((b) => String(b['id']));
  if (asked.length === 0) return;
  const first = messages[0] as { role?: unknown; content?: unknown } | undefined;
  const answered = new Set(
    first?.role === 'user' && Array.isArray(first.content)
      ? (first.content as { type?: unknown; tool_use_id?: unknown }[]).filter((b) => b.type === 'tool_result').map((b) => String(b.tool_use_id))
      : [],
  );
  const missing = asked.filter((id) => !answered.has(id));
  if (missing.length === 0) return;
  throw new AppError('validation_failed', `The previous job's tool calls need results: ${missing.join(', ')}.`, {
    details: [{ path: '/messages/0', message: `must be a user message with a tool_result for each of: ${missing.join(', ')}` }],
  });
}

/**
 * The upstream takes at most {@link maxCacheBreakpoints} prompt-cache breakpoints in a request, and a
 * conversation's history keeps those of every turn's request: a turn that would send more is refused
 * before it is queued. Returns the history's count with this turn's messages.
 */
export function checkBreakpoints(previous: PreviousTurn, params: Readonly<Record<string, unknown>>, added: readonly unknown[]): number {
  const history = previous.historyBreakpoints + countCacheBreakpoints({ messages: added as CacheableRequest['messages'] });
  const total = history + countCacheBreakpoints(params as CacheableRequest);
  if (total <= maxCacheBreakpoints) return history;
  throw new AppError('validation_failed', `This turn would send ${total} prompt-cache breakpoints; the upstream takes at most ${maxCacheBreakpoints}.`, {
    details: [{ path: '/messages', message: `the conversation's history already holds ${previous.historyBreakpoints} cache_control breakpoints, the request's parameters ${total - history}: at most ${maxCacheBreakpoints} in all` }],
  });
}
