import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { SimBehaviour } from './directive.js';
import { createFrameWriter } from './frame-writer.js';
import { outputTokens, type OutputPlan } from './plan.js';
import type { SimRequestRecord } from './records.js';
import { formatStamp } from './stamp.js';
import { deltaFrame, frame, makeId, messageObject } from './wire.js';

/** Everything one streamed answer needs. */
export interface StreamArgs {
  /** The response to stream into (headers not sent yet). */
  readonly res: ServerResponse;
  /** The request's model, echoed in message_start. */
  readonly model: string;
  /** Sent as the `request-id` header. */
  readonly requestId: string;
  /** `usage.input_tokens` of message_start. */
  readonly inputTokens: number;
  /** Pacing (ttft_ms, tps, ping_ms), fault_after, error_type, split_utf8, stamp. */
  readonly behaviour: SimBehaviour;
  /** What to send. */
  readonly plan: OutputPlan;
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
  const { res, behaviour, plan, record } = args;
  const t0 = performance.now();
  const interval = 1000 / behaviour.tps;
  const thinkingCount = plan.thinking.length;
  const textCount = plan.ends.length;
  const textIndex = plan.signature !== '' ? 1 : 0;
  const streamFault = args.fault === 'error_event' || args.fault === 'drop' || args.fault === 'stall';
  const faultAt = streamFault ? Math.min(behaviour.fault_after ?? Math.floor(textCount / 2), textCount) : -1;
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
    out.write(frame({ type: 'content_block_stop', index: textIndex }));
    out.write(frame({
      type: 'message_delta',
      delta: { stop_reason: plan.stopReason, stop_sequence: plan.stopSequence },
      usage: { output_tokens: outputTokens(plan, record.deltasSent) },
    }));
    out.write(frame({ type: 'message_stop' }));
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
  const closeThinking = (): void => {
    out.write(frame({
      type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: plan.signature },
    }));
    out.write(frame({ type: 'content_block_stop', index: 0 }));
    out.write(blockStart(1, 'text'));
  };

  /** Runs paced step number `step`; false once the stream is over (finished, faulted or stalled). */
  const runStep = (): boolean => {
    if (step < thinkingCount) {
      out.write(deltaFrame(0, 'thinking_delta', plan.thinking[step] ?? ''));
      step++;
      if (step === thinkingCount) closeThinking();
    } else {
      const sent = step - thinkingCount;
      if (sent === faultAt) {
        fault();
        return false;
      }
      if (sent >= textCount) {
        finish();
        return false;
      }
      const piece = plan.text.slice(plan.ends[sent - 1] ?? 0, plan.ends[sent]);
      // Stamped when written, not when due: a late timer shows up as latency, as it should.
      const written = behaviour.stamp ? piece + formatStamp() : piece;
      out.write(deltaFrame(textIndex, 'text_delta', written));
      record.deltasSent = sent + 1;
      record.textSent += written;
      step++;
    }
    // The last delta ends the stream at once, not one interval later, unless a fault is due there.
    if (step === thinkingCount + textCount && faultAt !== textCount) {
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
  const message = messageObject({
    id: makeId('msg_01'), model: args.model, content: [], stopReason: null, stopSequence: null,
    inputTokens: args.inputTokens, outputTokens: 1,
  });
  out.write(frame({ type: 'message_start', message }));
  out.write(blockStart(0, textIndex === 1 ? 'thinking' : 'text'));
  out.write(PING);
  // A thinking block left without deltas (max_tokens 1) still closes before the text block.
  if (textIndex === 1 && thinkingCount === 0) closeThinking();
  schedule();
  return stopTimer;
}

function blockStart(index: number, kind: 'text' | 'thinking'): string {
  const block = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
  return frame({ type: 'content_block_start', index, content_block: block });
}
