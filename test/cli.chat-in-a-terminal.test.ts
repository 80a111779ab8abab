import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, type TestSystem } from './support/system.js';

const bin = fileURLToPath(new URL('../bin/genrelay.js', import.meta.url));

/**
 * `genrelay chat` in a real pseudo-terminal (util-linux `script` gives it one): what it printed so far,
 * keys typed into it, and its exit.
 */
function chatInPty(url: string, args: readonly string[] = []) {
  // `exec`: the shell `script` starts must not stay in between (it would die of the Ctrl+C the chat
  // handles, and report 130).
  const command = `exec ${[process.execPath, bin, 'chat', ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', GENRELAY_URL: url, TERM: 'xterm', COLUMNS: '200' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    output: () => out,
    type: (keys: string) => void child.stdin.write(keys),
    /** Waits until the output after `from` matches. */
    waitFor: (pattern: RegExp, from = 0) => eventually(async () => (pattern.test(out.slice(from)) ? true : undefined), 20_000, `${pattern}`),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

// The terminal chat as a person uses it: prompts, replies streaming, Ctrl+C stopping a reply on the
// server while the conversation goes on, `exit` quitting.
describe('genrelay chat in a terminal', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ name: 'chat-pty' });
  });
  afterAll(async () => {
    await sys.close();
  });

  it('a three-turn chat: a reply, a reply stopped with Ctrl+C (kept as the turn), a reply with the whole history; exit quits', async () => {
    const chat = chatInPty(sys.url, ['--max-tokens', '300']);
    try {
      await chat.waitFor(/You: /);
      let mark = chat.output().length;
      chat.type(`What is one? ${simPrompt({ text: 'One is a number.', tag: 'chat1' })}\r`);
      await chat.waitFor(/One is a number\.[\s\S]*completed[\s\S]*You: /, mark);

      mark = chat.output().length;
      chat.type(`Count slowly. ${simPrompt({ tokens: 200, tps: 10, tag: 'chat2' })}\r`);
      await eventually(async () => (sys.sim.requests.some((r) => r.tag === 'chat2' && r.deltasSent >= 3) ? true : undefined));
      chat.type('\x03');
      await chat.waitFor(/stopping the reply[\s\S]*cancelled[\s\S]*You: /, mark).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${chat.output()}`);
      });
      const stopped = sys.sim.requests.find((r) => r.tag === 'chat2');
      expect(stopped?.outcome).toBe('client_closed');

      mark = chat.output().length;
      chat.type(`And two? ${simPrompt({ text: 'Two follows one.', tag: 'chat3' })}\r`);
      await chat.waitFor(/Two follows one\.[\s\S]*You: /, mark);
      const third = sys.sim.requests.find((r) => r.tag === 'chat3')?.body as { messages: { role: string; content: unknown }[] };
      expect(third.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
      expect(third.messages[1]?.content).toEqual([{ type: 'text', text: 'One is a number.' }]);
      // The stopped reply is the second assistant turn, as far as it went.
      const partial = (third.messages[3]?.content as { text: string }[])[0]?.text ?? '';
      expect(partial.length).toBeGreaterThan(0);
      expect(stopped?.textSent.startsWith(partial)).toBe(true);

      chat.type('exit\r');
      const code = await chat.exited;
      expect(code, chat.output()).toBe(0);
    } finally {
      chat.kill();
    }
  }, 60_000);

  it('--continue takes up an old conversation; Ctrl+C at the prompt quits', async () => {
    const res = await fetch(`${sys.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ max_tokens: 100, messages: [{ role: 'user', content: simPrompt({ text: 'Earlier answer.' }) }] }),
    });
    const { id } = (await res.json()) as { id: string };
    const record = await jobEnded(sys.url, id);
    const chat = chatInPty(sys.url, ['--continue', String(record['conversation_id'])]);
    try {
      await chat.waitFor(/continuing conv_\S+ after turn 1[\s\S]*You: /);
      chat.type(`Go on. ${simPrompt({ text: 'Going on.', tag: 'chat-continue' })}\r`);
      await chat.waitFor(/Going on\.[\s\S]*You: /);
      const sent = sys.sim.requests.find((r) => r.tag === 'chat-continue')?.body as { messages: unknown[] };
      expect(sent.messages).toHaveLength(3);
      const jobs = (await (await fetch(`${sys.url}/v1/conversations/${String(record['conversation_id'])}`)).json()) as { turns: unknown[] };
      expect(jobs.turns).toHaveLength(2);
      chat.type('\x03');
      expect(await chat.exited).toBe(0);
      expect((await getRecord(sys.url, id))['status']).toBe('completed');
    } finally {
      chat.kill();
    }
  }, 60_000);
});
