import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { SimBehaviour } from './directive.js';
import { createFrameWriter, type FrameWriter } from './frame-writer.js';
import type { SimRequestRecord } from './records.js';
import { frame } from './wire.js';

/**
 * What one streamed answer sends, step by step: the engine below paces the steps (one content delta
 * each), pings and injects faults; a script knows the frames (`text-script.ts`, `block-script.ts`).
 */
export interface StreamScript {
  /** Paced steps (content deltas). */
  readonly steps: number;
  /** The step at which error_event, drop or stall acts, given the directive's `fault_after`. */
  faultStep(faultAfter: number | null): number;
  /** Writes message_start, the first content_block_start, `ping`, and any frame before the first delta. */
  open(out: FrameWriter, ping: string): void;
  /** Writes step `i` (its delta and the unpaced frames after it) and updates the record. */
  step(i: number, out: FrameWriter, record: SimRequestRecord): void;
  /** Writes the closing frames: the last content_block_stop, message_delta, message_stop. */
  finish(out: FrameWriter, record: SimRequestRecord): void;
}

/** Everything one streamed answer needs. */
export interface StreamArgs {
  /** The response to stream into (headers not sent yet). */
  readonly res: ServerResponse;
  /** Sent as the `request-id` header. */
  readonly requestId: string;
  /** Pacing (ttft_ms, tps, ping_ms), fault_after, error_type, split_utf8. */
  readonly behaviour: SimBehaviour;
  /** What to send. */
  readonly script: StreamScript;
  /** The fault of this request after `fault_times` (only error_event, drop and stall act here). */
  readonly fault: SimBehaviour['fault'];
  /** Updated as deltas go out and when the stream ends. */
  readonly record: SimRequestRecord;
  /** True while the server shuts down: a close then is not the client's doing. */
  readonly serverClosing: () => boolean;
}

const PING = frame({ type: 'ping' });
const ERROR_MESSAGES: Record<string, string> = { overloaded_error: 'Overloaded', api_error: 'Internal server error' };

/**
 * Streams one answer. The head frames go out at once; every delta runs on one `setTimeout` chain
 * that also carries the pings, so a stream costs one timer however many tokens it has. Returns a
 * cancel function (idempotent) for server shutdown; a client close cancels by itself.
 */
export function streamResponse(args: StreamArgs): () => void {
  const { res, behaviour, script, record } = args;
  const t0 = performance.now();
  const interval = 1000 / behaviour.tps;
  const total = script.steps;
  const streamFault = args.fault === 'error_event' || args.fault === 'drop' || args.fault === 'stall';
  const faultAt = streamFault ? script.faultStep(behaviour.fault_after) : -1;
  const out = createFrameWriter(res, behaviour.split_utf8);
  let step = 0;
  let nextPingAt = t0 + behaviour.ping_ms;
  let timer: NodeJS.Timeout | undefined;
  let state: 'running' | 'stalled' | 'ended' = 'running';

  const stopTimer = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  res.on('close', () => {
    if (state === 'ended') return;
    stopTimer();
    state = 'ended';
    if (args.serverClosing()) return;
    record.outcome = 'client_closed';
    record.closedByClientAt = Date.now();
  });

  const end = (outcome: 'completed' | 'fault'): void => {
    stopTimer();
    state = 'ended';
    record.outcome = outcome;
  };
  const finish = (): void => {
    end('completed');
    script.finish(out, record);
    out.end();
  };
  const fault = (): void => {
    if (args.fault === 'stall') {
      // Silence, not even pings, until the client (or server shutdown) closes the socket.
      stopTimer();
      state = 'stalled';
      return;
    }
    end('fault');
    if (args.fault === 'drop') return out.drop();
    const type = behaviour.error_type;
    out.write(frame({ type: 'error', error: { type, message: ERROR_MESSAGES[type] ?? 'Simulated error' } }));
    out.end();
  };

  /** Runs paced step number `step`; false once the stream is over (finished, faulted or stalled). */
  const runStep = (): boolean => {
    if (step === faultAt) {
      fault();
      return false;
    }
    if (step >= total) {
      finish();
      return false;
    }
    script.step(step, out, record);
    step++;
    // The last delta ends the stream at once, not one interval later, unless a fault is due there.
    if (step === total && faultAt !== total) {
      finish();
      return false;
    }
    return true;
  };

  const tick = (): void => {
    timer = undefined;
    const now = performance.now();
    // Several steps may be due at once (high tps, or a late timer): catch up in one go.
    while (t0 + behaviour.ttft_ms + step * interval <= now) {
      if (!runStep()) return;
    }
    if (now >= nextPingAt) {
      out.write(PING);
      nextPingAt = now + behaviour.ping_ms;
    }
    schedule();
  };
  const schedule = (): void => {
    const due = Math.min(t0 + behaviour.ttft_ms + step * interval, nextPingAt);
    timer = setTimeout(tick, Math.max(0, due - performance.now()));
  };

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': args.requestId,
  });
  script.open(out, PING);
  schedule();
  return stopTimer;
}
