import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { ProblemError } from '../src/client/index.js';
import { failure } from '../src/cli/commands.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServerHandle } from './support/redis-server.js';
import { eventually, getRecord, jobEnded, simPrompt, startSystem, words, type TestSystem } from './support/system.js';

const bin = fileURLToPath(new URL('../bin/genrelay.js', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

/** The `genrelay` command as a child process: what it printed, how it exited. */
function genrelay(
  args: string[],
  options: {
    url: string;
    stdin?: string;
    /** A file descriptor to give the command as its stdout (a redirect to a file). */
    stdoutFd?: number;
    onStdout?: (text: string, signal: (s: NodeJS.Signals) => void) => void;
    onStderr?: (text: string, signal: (s: NodeJS.Signals) => void) => void;
  },
) {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', GENRELAY_URL: options.url },
    stdio: ['pipe', options.stdoutFd ?? 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
    options.onStdout?.(stdout, (s) => child.kill(s));
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    options.onStderr?.(stderr, (s) => child.kill(s));
  });
  child.stdin?.end(options.stdin ?? '');
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

// The CLI as a user runs it: text on stdout, status on stderr, Ctrl+C cancels on the server, and an
// exit code per ending.
describe('the genrelay command', () => {
  let server: RedisServerHandle;
  let admin: Redis;
  let sys: TestSystem;
  beforeAll(async () => {
    // A private Redis: one test holds it still with CLIENT PAUSE.
    server = await startRedisServer();
    admin = new Redis(server.url);
    sys = await startSystem({ name: 'cli', env: { REDIS_URL: server.url } });
  });
  afterAll(async () => {
    await sys.close();
    await admin.quit();
    await server.stop();
  });
  const idIn = (stderrOrJson: string) => /job_[A-Za-z0-9_-]{22}/.exec(stderrOrJson)?.[0] ?? '';

  it('run: stdout is exactly the record text, stderr the summary, exit 0', async () => {
    const text = words(30, 'c');
    const r = await genrelay(['--json', 'run', '--max-tokens', '100', simPrompt({ text, tps: 60 })], { url: sys.url });
    expect(r.code).toBe(0);
    const [first, ...lines] = r.stdout.trim().split('\n');
    // The first line names the job, so a script can cancel, follow or wait for it.
    const job = JSON.parse(first ?? '') as { type: string; id: string; events_url: string; viewer_url: string };
    expect(job).toMatchObject({ type: 'job', id: idIn(first ?? ''), status: 'queued', events_url: `${sys.url}/v1/jobs/${job.id}/events` });
    expect(await getRecord(sys.url, job.id)).toMatchObject({ status: 'completed' });
    const events = lines.map((l) => JSON.parse(l) as { id: number; type: string; data: Record<string, unknown> });
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: 'done', data: { status: 'completed' } });

    const plain = await genrelay(['run', '--max-tokens', '100', simPrompt({ text, tps: 60 }, 'Once more')], { url: sys.url });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toBe(text);
    expect(plain.stderr).toMatch(/^completed · ttft \d+ ms · 30 tokens · [\d.]+ tok\/s · [\d.]+ s · stop end_turn\n$/m);
    // Neither stream is a terminal here: no cursor or colour codes.
    expect(plain.stderr).not.toContain('\x1b');
  });

  it('run prints tool calls (name and input) on stderr as they finish and exits 0 on a tool_use stop', async () => {
    const input = { location: 'Paris', days: 2 };
    const prompt = simPrompt({ blocks: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', name: 'get_weather', input }] } as never);
    const r = await genrelay(['run', prompt], { url: sys.url });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Checking.');
    expect(r.stderr).toContain(`tool call: get_weather ${JSON.stringify(input)}`);
    expect(r.stderr).toMatch(/stop tool_use/);
  });

  it('run reads the prompt from stdin, or -f FILE, and takes --system, --metadata, --max-duration and --priority', async () => {
    const r = await genrelay(['--json', 'run', '--system', 'be brief', '--metadata', 'user=u_1', '--max-duration', '30', '--priority', '7', '--detach'], {
      url: sys.url,
      stdin: simPrompt({ text: 'from stdin' }),
    });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; events_url: string; viewer_url: string };
    expect(out.events_url).toBe(`${sys.url}/v1/jobs/${out.id}/events`);
    expect(out.viewer_url).toMatch(new RegExp(`^${sys.url}/jobs/${out.id}\\?token=`));
    const record = await jobEnded(sys.url, out.id);
    expect(record).toMatchObject({ text: 'from stdin', metadata: { user: 'u_1' }, priority: 7 });
    expect(Date.parse(String(record['deadline_at'])) - Date.parse(String(record['started_at']))).toBe(30_000);
    const dir = await mkdtemp(join(tmpdir(), 'genrelay-cli-'));
    try {
      await writeFile(join(dir, 'prompt.txt'), simPrompt({ text: 'from a file' }));
      const fromFile = await genrelay(['run', '-f', join(dir, 'prompt.txt')], { url: sys.url });
      expect(fromFile).toMatchObject({ code: 0, stdout: 'from a file' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('Ctrl+C cancels the job on the server and keeps what was produced; exit 3', async () => {
    let interrupted = false;
    const r = await genrelay(['run', simPrompt({ tokens: 400, tps: 20, tag: 'cli-cancel' })], {
      url: sys.url,
      onStdout: (out, signal) => {
        if (!interrupted && out.split(' ').length > 5) {
          interrupted = true;
          signal('SIGINT');
        }
      },
    });
    expect(r.code).toBe(3);
    const id = idIn(r.stderr);
    const record = await getRecord(sys.url, id);
    expect(record).toMatchObject({ status: 'cancelled', partial: true });
    expect(r.stdout).toBe(record['text']);
    expect(r.stderr).toMatch(/cancelling the job on the server/);
    await eventually(async () => (sys.sim.requests.find((q) => q.tag === 'cli-cancel')?.outcome === 'client_closed' ? true : undefined));
  });

  // A terminal's Ctrl+C goes to the whole foreground process group: npm and genrelay both get it, and
  // npm forwards its copy. Debian's sh (dash) between them died of it (npx exited 130); .npmrc names
  // bash, and the CLI takes the forwarded copy for the same press.
  it('Ctrl+C to the process group of `npx genrelay run`, as a terminal sends it, cancels and exits 3', { timeout: 240_000 }, async () => {
    const child = spawn('npx', ['genrelay', 'run', simPrompt({ tokens: 400, tps: 20, tag: 'cli-npx' })], {
      cwd: root,
      detached: true,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', GENRELAY_URL: sys.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (!interrupted && stdout.split(' ').length > 5) {
        interrupted = true;
        process.kill(-(child.pid ?? 0), 'SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toMatch(/cancelling the job on the server/);
    expect(stderr).toMatch(/^cancelled · /m);
    expect(code).toBe(3);
    expect(await getRecord(sys.url, idIn(stderr))).toMatchObject({ status: 'cancelled' });
  });

  it('a second Ctrl+C exits at once (130), without waiting for the cancel to take effect', async () => {
    let first = false;
    let second = false;
    const r = await genrelay(['run', simPrompt({ tokens: 400, tps: 20, tag: 'cli-twice' })], {
      url: sys.url,
      onStdout: (out, signal) => {
        if (!first && out.split(' ').length > 3) {
          first = true;
          // Redis holds the cancel for two seconds: the second Ctrl+C comes while it is in flight.
          void admin.client('PAUSE', '2000', 'ALL').then(() => signal('SIGINT'));
        }
      },
      onStderr: (err, signal) => {
        if (!second && err.includes('cancelling the job on the server')) {
          second = true;
          signal('SIGINT');
        }
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).not.toMatch(/^cancelled ·/m);
  });

  it('exit codes: failed 1, usage 2, timed out 4, unreachable 5, refused 6, still running after wait --timeout 7', async () => {
    expect((await genrelay(['run', simPrompt({ fault: 'http_400' })], { url: sys.url })).code).toBe(1);
    expect((await genrelay(['run'], { url: sys.url, stdin: '' })).code).toBe(2);
    expect((await genrelay(['frobnicate'], { url: sys.url })).code).toBe(2);
    expect((await genrelay(['run', '--max-tokens', 'lots', 'hi'], { url: sys.url })).code).toBe(2);
    expect((await genrelay(['run', '--max-duration', '1', simPrompt({ tokens: 400, tps: 20 })], { url: sys.url })).code).toBe(4);
    expect((await genrelay(['--url', 'http://127.0.0.1:1', 'get', 'job_AAAAAAAAAAAAAAAAAAAAAA'], { url: sys.url })).code).toBe(5);
    const refused = await genrelay(['get', 'job_AAAAAAAAAAAAAAAAAAAAAA'], { url: sys.url });
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/404 Not found/);
    const detached = await genrelay(['run', '--detach', simPrompt({ tokens: 400, tps: 20 })], { url: sys.url });
    const id = detached.stdout.split('\n')[0] ?? '';
    const waited = await genrelay(['wait', id, '--timeout', '1'], { url: sys.url });
    expect(waited.code).toBe(7);
    expect((await genrelay(['cancel', id], { url: sys.url })).code).toBe(0);
    expect((await genrelay(['wait', id], { url: sys.url })).code).toBe(3);
    const help = await genrelay(['--help'], { url: sys.url });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*130/);
  });

  it('follow --after, get and wait print the text (or JSON with --json)', async () => {
    const text = words(20, 'f');
    const detached = await genrelay(['--json', 'run', '--detach', simPrompt({ text, tps: 100 })], { url: sys.url });
    const { id } = JSON.parse(detached.stdout) as { id: string };
    const waited = await genrelay(['wait', id], { url: sys.url });
    expect(waited.code).toBe(0);
    // Not a terminal: the text exactly, no newline added.
    expect(waited.stdout).toBe(text);
    const all = await genrelay(['--json', 'follow', id], { url: sys.url });
    const events = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; type: string; data: { text?: string } });
    const after = await genrelay(['follow', id, '--after', '5'], { url: sys.url });
    expect(after.code).toBe(0);
    expect(after.stdout).toBe(events.filter((e) => e.id > 5 && e.type === 'delta').map((e) => e.data.text).join(''));
    const got = await genrelay(['--json', 'get', id], { url: sys.url });
    expect(JSON.parse(got.stdout)).toMatchObject({ id, status: 'completed', text });
    // A cursor already past done: nothing to stream, the exit code is the job's.
    const past = await genrelay(['follow', id, '--after', String(events.length)], { url: sys.url });
    expect(past).toMatchObject({ code: 0, stdout: '' });
    expect(past.stderr).toMatch(/^completed · /m);
  });

  it('a retry that starts the text over takes the discarded text back out of a file stdout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'genrelay-cli-'));
    try {
      const text = words(30, 'x');
      const path = join(dir, 'answer.txt');
      const fd = openSync(path, 'w');
      // The first request drops after 10 deltas; the retry streams it all.
      const r = await genrelay(['run', simPrompt({ text, tps: 60, fault: 'drop', fault_after: 10, fault_times: 1 })], { url: sys.url, stdoutFd: fd });
      closeSync(fd);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/attempt 2 starts over .*taken back out/);
      expect(await readFile(path, 'utf8')).toBe(text);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('maps the server failing (5xx) to exit 5 and a refusal (4xx) to 6', () => {
    const problem = (status: number) => new ProblemError({ type: 'about:blank', title: 't', status, detail: 'd' });
    expect(failure(problem(503), 'http://x').code).toBe(5);
    expect(failure(problem(404), 'http://x').code).toBe(6);
    // A 401 says what to set, or that the key set is not one the server takes.
    expect(failure(problem(401), 'http://x')).toMatchObject({ code: 6, message: expect.stringMatching(/Set GENRELAY_API_KEY to one of the server's API_KEYS/) });
    expect(failure(problem(401), 'http://x', true).message).toMatch(/GENRELAY_API_KEY is set, but the server does not accept it/);
    expect(failure(problem(404), 'http://x').message).not.toMatch(/GENRELAY_API_KEY/);
  });

});
