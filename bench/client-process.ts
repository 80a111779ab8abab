import Anthropic from '@anthropic-ai/sdk';
import { forEachStamp, wallClockMs } from '../src/simulator/stamp.js';
import type { ClientCommand, ClientReport, OpenCommand, OpenResult, SdkCommand } from './client-protocol.js';
import { serveIpc } from './ipc.js';
import { openViewer, type Viewer } from './sse-client.js';
import { openWsViewer } from './ws-client.js';
import { loopLag } from './timing.js';

/**
 * A client process of the benchmark (forked by the driver): hosts SSE viewers and direct SDK streams,
 * so that thousands of viewers do not share one event loop with the driver. Commands in
 * `client-protocol.ts`.
 */

/** Stamp and latency pairs, in arrival order. */
interface Samples {
  stamps: number[];
  latencies: number[];
}
const newSamples = (): Samples => ({ stamps: [], latencies: [] });

let viewers: Viewer[] = [];
let viewerSamples = newSamples();
let sdkSamples = newSamples();
let sdk = { started: 0, running: 0, failed: 0, errors: [] as string[] };
let aborts = new AbortController();
const loop = loopLag();

const record = (into: Samples) => (stamp: number, receivedAt: number) => {
  into.stamps.push(stamp);
  into.latencies.push(receivedAt - stamp);
};

async function open(cmd: OpenCommand): Promise<OpenResult> {
  const t0 = wallClockMs();
  const outcomes: Record<string, number> = {};
  let next = 0;
  let opened = 0;
  let sampledOpened = 0;
  const onStamp = record(viewerSamples);
  const connectOne = async (): Promise<void> => {
    for (let i = next++; i < cmd.viewers.length; i = next++) {
      const spec = cmd.viewers[i];
      if (spec === undefined) continue;
      const viewer =
        spec.subscribe === undefined
          ? await openViewer({ host: cmd.host, port: cmd.port, path: spec.path, sampled: spec.sampled, onStamp })
          : await openWsViewer({ host: cmd.host, port: cmd.port, subscribe: spec.subscribe, sampled: spec.sampled, onStamp });
      const { status, closed } = viewer.counters;
      const key = status === 0 ? (closed ?? 'no answer') : String(status);
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      if (status === 200) {
        opened++;
        if (spec.sampled) sampledOpened++;
        viewers.push(viewer);
      } else {
        viewer.close();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, cmd.concurrency) }, connectOne));
  return { opened, sampledOpened, failed: cmd.viewers.length - opened, outcomes, ms: wallClockMs() - t0 };
}

function startSdk(cmd: SdkCommand): { started: number } {
  const client = new Anthropic({ apiKey: 'bench', baseURL: cmd.baseURL, maxRetries: 0 });
  const onStamp = record(sdkSamples);
  const signal = aborts.signal;
  for (let i = 0; i < cmd.count; i++) {
    sdk.started++;
    sdk.running++;
    const counters = sdk;
    void (async () => {
      try {
        const stream = await client.messages.create({ ...(cmd.body as unknown as Anthropic.MessageCreateParamsNonStreaming), stream: true }, { signal });
        for await (const event of stream) {
          if (event.type !== 'content_block_delta' || event.delta.type !== 'text_delta') continue;
          const receivedAt = wallClockMs();
          forEachStamp(event.delta.text, (stamp) => onStamp(stamp, receivedAt));
        }
      } catch (err) {
        if (!signal.aborted) {
          counters.failed++;
          if (counters.errors.length < 5) counters.errors.push(String(err));
        }
      } finally {
        counters.running--;
      }
    })();
  }
  return { started: cmd.count };
}

function inWindow(s: Samples, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.stamps.length; i++) {
    const stamp = s.stamps[i] ?? 0;
    if (stamp >= from && stamp <= to) out.push(s.latencies[i] ?? 0);
  }
  return out;
}

function report(from: number, to: number): ClientReport {
  const closed: Record<string, number> = {};
  let open = 0;
  let bytes = 0;
  let frames = 0;
  let framesMin = Number.POSITIVE_INFINITY;
  let framesMax = 0;
  for (const v of viewers) {
    const c = v.counters;
    if (c.closed === undefined) open++;
    else closed[c.closed] = (closed[c.closed] ?? 0) + 1;
    bytes += c.bytes;
    frames += c.frames;
    framesMin = Math.min(framesMin, c.frames);
    framesMax = Math.max(framesMax, c.frames);
  }
  return {
    viewers: { total: viewers.length, open, closed, bytes, frames, framesMin: viewers.length === 0 ? 0 : framesMin, framesMax },
    viewerLatencies: inWindow(viewerSamples, from, to),
    sdk: { ...sdk, errors: [...sdk.errors] },
    sdkLatencies: inWindow(sdkSamples, from, to),
    loopDelayP99Ms: loop.p99Ms(),
  };
}

function close(): { closed: number } {
  const n = viewers.length;
  for (const v of viewers) v.close();
  viewers = [];
  aborts.abort();
  aborts = new AbortController();
  viewerSamples = newSamples();
  sdkSamples = newSamples();
  sdk = { started: 0, running: 0, failed: 0, errors: [] };
  loop.reset();
  return { closed: n };
}

serveIpc(async (body) => {
  const cmd = body as ClientCommand;
  switch (cmd.type) {
    case 'open':
      return open(cmd);
    case 'sdk':
      return startSdk(cmd);
    case 'report':
      return report(cmd.from, cmd.to);
    case 'close':
      return close();
    case 'mark': {
      const p99Ms = loop.p99Ms();
      loop.reset();
      return { p99Ms };
    }
  }
});
