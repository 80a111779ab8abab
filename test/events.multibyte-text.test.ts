import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, viewerText } from './support/sse.js';
import { getRecord, simPrompt, startSystem, submitJob, type TestSystem } from './support/system.js';

// Emoji (astral and ZWJ sequences) and CJK cut into one-code-point deltas, with each upstream frame
// written in two TCP writes split inside a UTF-8 sequence, arrive intact at viewers and in the record.
describe('multi-byte text', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'multibyte' });
  });
  afterAll(async () => {
    await sys.close();
  });

  const text = 'héllo 🌍 世界 👩‍👩‍👧 naïve café — 日本語のテキスト 🇯🇵 done';
  for (const chunk of [1, 3] as const) {
    it(`arrives intact with ${chunk}-code-point chunks split across writes`, async () => {
      const { json } = await submitJob(sys.url, {
        max_tokens: 500,
        messages: [{ role: 'user', content: simPrompt({ text, chunk, split_utf8: true, tps: 400 }) }],
      });
      const id = String(json['id']);
      const live = readSse(`${sys.url}/v1/jobs/${id}/events`);
      const seen = await live;
      expect(viewerText(seen.events)).toBe(text);
      expect((await getRecord(sys.url, id))['text']).toBe(text);
      // A late viewer replays the same bytes from the log.
      expect(viewerText((await readSse(`${sys.url}/v1/jobs/${id}/events`)).events)).toBe(text);
    });
  }
});
