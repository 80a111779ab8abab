import type { IncomingHttpHeaders } from 'node:http';
import type { SimFault } from './directive.js';

/**
 * How a request ended: `completed` (whole answer sent), `fault` (an injected fault ended it),
 * `client_closed` (the client went away first, including during a stall), `in_progress` (still open,
 * or stalled), `rejected` (refused by validation before any directive applied).
 */
export type SimOutcome = 'completed' | 'fault' | 'client_closed' | 'in_progress' | 'rejected';

/** One request to `/v1/messages`, as the simulator saw and answered it. */
export interface SimRequestRecord {
  /** The `request-id` sent back (`req_…`). */
  readonly id: string;
  /** `fault_times` group: the directive's `key`, else a hash of the raw body. */
  readonly key: string;
  /** The directive's `tag`, or null (also on a `rejected` request whose directive could be read). */
  readonly tag: string | null;
  /** 1 for the first request with this key, 2 for the next…; 0 for a `rejected` request. */
  readonly n: number;
  /** The parsed JSON body (null when it was not JSON). */
  readonly body: unknown;
  /** The body exactly as received (UTF-8 decoded; empty past the 32 MB limit): the bytes the upstream got. */
  readonly raw: string;
  /** Request headers, with `x-api-key` and `authorization` values redacted. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** `Date.now()` when the request arrived. */
  readonly startedAt: number;
  /** HTTP status sent (200 for streams, also those that later fail). */
  status: number;
  /** The fault actually applied to this request (null when none, or `fault_times` was used up). */
  fault: SimFault | null;
  /** Text deltas written so far; with `blocks`, content deltas of every kind (text, thinking, input_json, citations). */
  deltasSent: number;
  /** The text of the text deltas written, exactly as written (stamps included): what a client was sent. */
  textSent: string;
  /** How the request ended so far (see `SimOutcome`). */
  outcome: SimOutcome;
  /** `Date.now()` when the client closed the connection before the answer ended. */
  closedByClientAt?: number;
  /** `Date.now()` when the response ended, however it did. */
  endedAt?: number;
}

/** The in-process request log plus the per-key counters behind `fault_times`. */
export interface RequestLog {
  /**
   * The last `maxRecords` records, oldest first. The same array for the log's whole life (reset
   * empties it; older records are dropped from its front).
   */
  readonly records: readonly SimRequestRecord[];
  /** Counts one more request for `key` and returns its 1-based number. */
  nextN(key: string): number;
  /** Appends a record and returns it (the caller updates `deltasSent` and `outcome`). */
  add(record: SimRequestRecord): SimRequestRecord;
  /** Records matching every given filter. */
  query(filter: { tag?: string | undefined; key?: string | undefined }): SimRequestRecord[];
  /** Forgets every record and every `fault_times` counter. */
  reset(): void;
}

/** How many records a request log keeps by default: the newest 10,000. */
export const defaultMaxRecords = 10_000;

/**
 * Creates an empty request log that keeps the newest `maxRecords` records (default 10,000), so a
 * long-lived simulator (the keyless `npm start`) does not grow without bound. The `fault_times`
 * counters are bounded alike: past `maxRecords` keys, the oldest key's count is forgotten.
 */
export function createRequestLog(maxRecords = defaultMaxRecords): RequestLog {
  const records: SimRequestRecord[] = [];
  const counters = new Map<string, number>();
  return {
    records,
    nextN(key) {
      const n = (counters.get(key) ?? 0) + 1;
      counters.set(key, n);
      if (counters.size > maxRecords) counters.delete(counters.keys().next().value ?? key);
      return n;
    },
    add(record) {
      records.push(record);
      if (records.length > maxRecords) records.splice(0, records.length - maxRecords);
      return record;
    },
    query({ tag, key }) {
      return records.filter((r) => (tag === undefined || r.tag === tag) && (key === undefined || r.key === key));
    },
    reset() {
      records.length = 0;
      counters.clear();
    },
  };
}

/** A copy of `headers` safe to keep and serve: credentials are replaced by `[redacted]`. */
export function redactHeaders(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const copy: Record<string, string | string[] | undefined> = { ...headers };
  for (const name of ['x-api-key', 'authorization']) {
    if (copy[name] !== undefined) copy[name] = '[redacted]';
  }
  return copy;
}
