/**
 * Probe: how long the SDK takes from `messages.create` to its fetch being called, and until a local
 * server sees the request, in one idle process (calls `gapMs` apart, as the worker starts attempts at
 * low load), by transport: undici's `fetch` (the SDK's default) and `createHttpFetch` (the worker's).
 * The server answers each request with a one-event stream at once. Medians over `calls` per round
 * (ms), median of the rounds (range).
 * Run: `npx tsx bench/probes/sdk-request-start.ts [calls] [rounds] [gapMs]` (default 100 3 100).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import Anthropic from '@anthropic-ai/sdk';
import { createHttpFetch } from '../../src/worker/http-fetch.js';
import { messagesBody } from '../genrelay-http.js';
import { round, summarize } from '../stats.js';

const [calls = 100, rounds = 3, gapMs = 100] = process.argv.slice(2).map(Number);
let seenAt = 0;
const server = createServer((req, res) => {
  seenAt = performance.now();
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end('event: message_stop\ndata: {"type":"message_stop"}\n\n');
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const http = createHttpFetch();
// The bench's model name: one the SDK does not warn about (a warning per call would be timed too).
const params = { ...messagesBody({ tokens: 1, tps: 1000 }, 1024), stream: true as const };

const results: Record<string, { toFetch: number[]; toServer: number[] }> = {};
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0 ? ['undici', 'http'] : ['http', 'undici']) {
    let calledAt = 0;
    const inner: typeof fetch = name === 'http' ? http.fetch : fetch;
    const client = new Anthropic({
      apiKey: 'probe', baseURL, maxRetries: 0,
      fetch: ((input: string | URL | Request, init?: RequestInit) => {
        calledAt = performance.now();
        return inner(input, init);
      }) as typeof fetch,
    });
    const toFetch: number[] = [];
    const toServer: number[] = [];
    for (let i = 0; i < calls + 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, gapMs));
      const t0 = performance.now();
      const stream = await client.messages.create(params);
      for await (const _ of stream) {
        // drain
      }
      if (i >= 5) {
        toFetch.push(calledAt - t0);
        toServer.push(seenAt - t0);
      }
    }
    const mine = (results[name] ??= { toFetch: [], toServer: [] });
    mine.toFetch.push(summarize(toFetch).p50);
    mine.toServer.push(summarize(toServer).p50);
  }
}
console.log(`${rounds} rounds of ${calls} calls, ${gapMs} ms apart; ms, median of the round medians (range):`);
for (const [name, r] of Object.entries(results)) {
  const f = (xs: number[]) => `${round(summarize(xs).p50, 3)} (${round(Math.min(...xs), 3)}–${round(Math.max(...xs), 3)})`;
  console.log(`  ${name.padEnd(7)} create → fetch called ${f(r.toFetch)}, create → server sees the request ${f(r.toServer)}`);
}
http.close();
server.close();
