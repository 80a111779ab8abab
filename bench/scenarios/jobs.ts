import { isTerminal } from '../../src/shared/events.js';
import { cancelJob, mapLimit, readRecordField } from '../genrelay-http.js';
import type { BenchSystem } from '../system.js';
import { pollUntil } from '../timing.js';

/**
 * Cancels jobs and waits until every one has ended (so the next scenario starts from an idle worker).
 * Resolves with how many had not ended after `timeoutMs`.
 */
export async function cancelAndSettle(sys: BenchSystem, ids: readonly string[], timeoutMs = 30_000): Promise<number> {
  await mapLimit(ids, 50, (id) => cancelJob(sys.api.url, id).catch(() => undefined));
  let open = ids.length;
  await pollUntil(async () => {
    const statuses = await readRecordField(sys.redis, sys.keyPrefix, ids, 'status');
    open = statuses.filter((s) => s !== null && !isTerminal(s)).length;
    return open === 0;
  }, timeoutMs, 250);
  return open;
}
