import { SpanKind, trace, type Span, type Tracer } from '@opentelemetry/api';
import { contextOf } from '../../shared/trace-context.js';
import type { Transport, ViewerSink } from './sink.js';

/** How a delivery ended: the relay ended it (`done`, shutdown, a lost job), cut it off, or the client left. */
type Outcome = 'ended' | 'cut_off' | 'client_gone';

/**
 * A viewer's sink that counts what goes through it for its delivery span. Everything else is the
 * wrapped sink's, so the relay cannot tell the two apart.
 */
class CountingSink implements ViewerSink {
  frames = 0;
  bytes = 0;
  outcome: Outcome = 'client_gone';

  constructor(private readonly inner: ViewerSink) {}

  get transport(): Transport {
    return this.inner.transport;
  }
  get isGone(): boolean {
    return this.inner.isGone;
  }
  get bufferedBytes(): number {
    return this.inner.bufferedBytes;
  }
  write(frames: Buffer | readonly Buffer[]): boolean {
    if (Buffer.isBuffer(frames)) {
      this.frames += 1;
      this.bytes += frames.length;
    } else {
      this.frames += frames.length;
      for (const f of frames) this.bytes += f.length;
    }
    return this.inner.write(frames);
  }
  drained(stallMs: number): Promise<boolean> {
    return this.inner.drained(stallMs);
  }
  keepalive(): void {
    this.inner.keepalive();
  }
  end(): void {
    if (!this.inner.isGone) this.outcome = 'ended';
    this.inner.end();
  }
  destroy(): void {
    if (!this.inner.isGone) this.outcome = 'cut_off';
    this.inner.destroy();
  }
  onClose(listener: () => void): () => void {
    return this.inner.onClose(listener);
  }
}

/** A traced delivery: the sink to relay through, and what ends its span. */
export interface TracedDelivery {
  readonly sink: ViewerSink;
  /** Ends the span with what was sent, up to event `lastSeq`; idempotent. */
  end(lastSeq: number): void;
}

/**
 * The delivery of one job to one viewer connection, SSE or socket alike, as a `genrelay.deliver` span
 * (kind SERVER) from attach to the viewer's end, linked to the trace of the request that submitted
 * the job. That trace's `traceparent` is read from the record after the span started (one HGET, only
 * while tracing is on), so attaching waits for nothing more than without tracing.
 */
export function traceDelivery(
  tracer: Tracer,
  jobId: string,
  sink: ViewerSink,
  cursor: number,
  readTraceparent: (jobId: string) => Promise<string | undefined>,
): TracedDelivery {
  const span: Span = tracer.startSpan('genrelay.deliver', {
    kind: SpanKind.SERVER,
    attributes: { 'genrelay.job.id': jobId, 'genrelay.transport': sink.transport, 'genrelay.deliver.cursor': cursor },
  });
  let ended = false;
  readTraceparent(jobId).then(
    (traceparent) => {
      const context = traceparent === undefined ? undefined : trace.getSpanContext(contextOf({ traceparent }));
      if (context !== undefined && !ended) span.addLink({ context, attributes: { 'genrelay.link': 'job' } });
    },
    () => {},
  );
  const counting = new CountingSink(sink);
  return {
    sink: counting,
    end(lastSeq) {
      if (ended) return;
      ended = true;
      span.setAttributes({
        'genrelay.deliver.frames': counting.frames,
        'genrelay.deliver.bytes': counting.bytes,
        'genrelay.deliver.last_seq': lastSeq,
        'genrelay.deliver.outcome': counting.outcome,
      });
      span.end();
    },
  };
}
