import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import { createResumableStreamContext } from 'resumable-stream/ioredis';
import { serveIpc } from '../ipc.js';

/**
 * The peer's worker: on `start`, reads the simulator with the SDK and feeds each text delta, framed as
 * genrelay frames it, into `createNewResumableStream` (which publishes every chunk to every resumed
 * listener); `stop` aborts the upstream request, which ends the stream. Reads REDIS_URL, PEER_PREFIX
 * and SIM_URL; commands arrive over IPC.
 */
export type ProducerCommand =
  | { readonly type: 'start'; readonly streamId: string; readonly body: Readonly<Record<string, unknown>> }
  | { readonly type: 'stop'; readonly streamId: string };

const env = process.env;
const redisUrl = env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const ctx = createResumableStreamContext({
  waitUntil: null,
  keyPrefix: env['PEER_PREFIX'] ?? 'bench-peer',
  publisher: new Redis(redisUrl),
  subscriber: new Redis(redisUrl),
});
const client = new Anthropic({ apiKey: 'bench', baseURL: env['SIM_URL'], maxRetries: 0 });
const running = new Map<string, AbortController>();

/** Streams the upstream into `out` as SSE frames, then a `done` frame, then closes it. */
async function pump(out: ReadableStreamDefaultController<string>, body: Readonly<Record<string, unknown>>, signal: AbortSignal): Promise<void> {
  let seq = 0;
  try {
    const stream = await client.messages.create({ ...(body as unknown as Anthropic.MessageCreateParamsNonStreaming), stream: true }, { signal });
    for await (const event of stream) {
      if (event.type !== 'content_block_delta' || event.delta.type !== 'text_delta') continue;
      seq++;
      out.enqueue(`id: ${seq}\nevent: delta\ndata: ${JSON.stringify({ text: event.delta.text })}\n\n`);
    }
  } catch {
    // Aborted by `stop`, or the upstream failed: either way the stream ends here.
  }
  out.enqueue(`id: ${seq + 1}\nevent: done\ndata: {}\n\n`);
  out.close();
}

serveIpc(async (raw) => {
  const cmd = raw as ProducerCommand;
  if (cmd.type === 'stop') {
    running.get(cmd.streamId)?.abort();
    running.delete(cmd.streamId);
    return { ok: true };
  }
  const controller = new AbortController();
  running.set(cmd.streamId, controller);
  const makeStream = () => new ReadableStream<string>({ start: (out) => void pump(out, cmd.body, controller.signal) });
  const stream = await ctx.createNewResumableStream(cmd.streamId, makeStream);
  if (stream === null) throw new Error(`stream ${cmd.streamId} already done`);
  // The producer's own copy (the POSTing client in the package's examples): read and dropped.
  void (async () => {
    const reader = stream.getReader();
    while (!(await reader.read()).done);
  })();
  return { ok: true };
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
