import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type SimRequestRecord, type Simulator } from '../src/simulator/index.js';
import { createRequestLog } from '../src/simulator/records.js';
import { simRequest } from './support/simulator-client.js';

// The simulator's request log keeps the newest `maxRecords` requests, so a long-lived simulator (the
// keyless `npm start`) does not grow without bound; in process and over `/_sim/requests` alike.
describe('simulator request log', () => {
  let sim: Simulator | undefined;
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it('keeps the newest maxRecords requests, oldest first, in the same array', async () => {
    const s = await startSimulator({ maxRecords: 5 });
    sim = s;
    const client = new Anthropic({ apiKey: 'k', baseURL: s.url, maxRetries: 0 });
    const log = s.requests;
    for (let i = 0; i < 12; i += 1) {
      await client.messages.create({ ...simRequest({ text: 'ok', tag: `r${i}` }), stream: false });
    }
    expect(s.requests).toBe(log);
    expect(s.requests.map((r) => r.tag)).toEqual(['r7', 'r8', 'r9', 'r10', 'r11']);
    const served = (await (await fetch(`${s.url}/_sim/requests`)).json()) as SimRequestRecord[];
    expect(served.map((r) => r.tag)).toEqual(['r7', 'r8', 'r9', 'r10', 'r11']);
  });

  it('keeps 10,000 by default, and bounds the fault_times counters alike', () => {
    const log = createRequestLog();
    for (let i = 0; i < 10_050; i += 1) {
      log.nextN(`key-${i}`);
      log.add({ tag: `d${i}` } as SimRequestRecord);
    }
    expect(log.records).toHaveLength(10_000);
    expect(log.records[0]?.tag).toBe('d50');
    expect(log.records.at(-1)?.tag).toBe('d10049');
    // The newest keys keep their counts; the oldest were forgotten (counting starts again at 1).
    expect(log.nextN('key-10049')).toBe(2);
    expect(log.nextN('key-0')).toBe(1);
  });
});
