import type { BlockInfo } from '../../shared/events.js';
import type { JobStore } from '../../shared/job-store.js';

/** A block the cursor is inside of: its index and what its `block_start` said. */
export interface OpenBlock {
  readonly index: number;
  readonly block: BlockInfo;
}

/**
 * The blocks of job `jobId`'s current attempt that are open just after event `after`: started at or
 * before it, not stopped by then. A client that resumes in the middle of a block (a new page, another
 * device) gets them with its subscription, so the `delta` or `tool_input` that comes next has a block
 * to go into. Empty when the cursor is before the current attempt (the client gets its whole stream).
 */
export async function openBlocksAt(store: JobStore, jobId: string, after: number): Promise<OpenBlock[]> {
  const stored = await store.read(jobId);
  const events = stored?.events ?? [];
  if (events.length === 0 || (events[0]?.seq ?? 0) > after) return [];
  const open = new Map<number, BlockInfo>();
  for (const event of events) {
    if (event.seq > after) break;
    if (event.type !== 'block_start' && event.type !== 'block_stop') continue;
    const data = JSON.parse(event.data) as { index: number; block: BlockInfo };
    if (event.type === 'block_start') open.set(data.index, data.block);
    else open.delete(data.index);
  }
  return [...open.entries()].map(([index, block]) => ({ index, block }));
}
