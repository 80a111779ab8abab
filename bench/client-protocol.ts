/** Commands the driver sends to a client process (`client-process.ts`), and what comes back. */

/** Opens SSE viewers, a bounded number connecting at once; answers once every one got headers or failed. */
export interface OpenCommand {
  readonly type: 'open';
  readonly host: string;
  readonly port: number;
  /** With `subscribe`, a WebSocket viewer (the frame is sent once open); else an SSE viewer of `path`. */
  readonly viewers: readonly { readonly path: string; readonly sampled: boolean; readonly subscribe?: string }[];
  readonly concurrency: number;
}

/** Starts `count` direct SDK streams of `body` against the upstream; answers at once. */
export interface SdkCommand {
  readonly type: 'sdk';
  readonly baseURL: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly count: number;
}

/** Counters, plus the latency samples whose stamp lies in `[from, to]` (wall-clock ms). */
export interface ReportCommand {
  readonly type: 'report';
  readonly from: number;
  readonly to: number;
}

/** Hangs up every viewer, aborts every SDK stream, forgets all samples. */
export interface CloseCommand {
  readonly type: 'close';
}

/**
 * Answers the p99 event-loop delay (ms) since the previous mark and starts measuring afresh: marks at
 * a window's start and end give the clients' lag inside the window.
 */
export interface MarkCommand {
  readonly type: 'mark';
}

/** Any command. */
export type ClientCommand = OpenCommand | SdkCommand | ReportCommand | CloseCommand | MarkCommand;

/** Answer to `open`. */
export interface OpenResult {
  readonly opened: number;
  /** Of those, sampled ones (their stamps are parsed). */
  readonly sampledOpened: number;
  readonly failed: number;
  /** Count per HTTP status (or per error for connections that never got headers). */
  readonly outcomes: Readonly<Record<string, number>>;
  readonly ms: number;
}

/** Answer to `report`. */
export interface ClientReport {
  readonly viewers: {
    readonly total: number;
    /** Got 200 and are still connected. */
    readonly open: number;
    /** Got 200 and were closed since, with the reason. */
    readonly closed: Readonly<Record<string, number>>;
    readonly bytes: number;
    readonly frames: number;
    readonly framesMin: number;
    readonly framesMax: number;
  };
  /** Delivery latency (receive − stamp, ms) of sampled viewers, stamps in the window. */
  readonly viewerLatencies: number[];
  readonly sdk: { readonly started: number; readonly running: number; readonly failed: number; readonly errors: string[] };
  /** Latency (receive − stamp, ms) of direct SDK streams, stamps in the window. */
  readonly sdkLatencies: number[];
  /** p99 event-loop delay of this client process since the last close (ms): high means the client, not the server, lagged. */
  readonly loopDelayP99Ms: number;
}
