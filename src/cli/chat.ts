import { createInterface } from 'node:readline/promises';
import type { CreateJobBody } from '../client/index.js';
import { failure, type CommandContext } from './commands.js';
import { exitCodes } from './exit-codes.js';
import { createStatusLine } from './status-line.js';
import { streamJob } from './stream-job.js';

/** Options of `genrelay chat`. */
export interface ChatOptions {
  /** A job id or a conversation id to go on from. */
  readonly continue?: string;
  readonly model?: string;
  readonly maxTokens: number;
  readonly system?: string;
}

/** Where the chat reads its prompts from (a terminal, or lines piped in). */
export interface ChatInput {
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream;
}

/**
 * `genrelay chat`: a terminal chat on genrelay's conversations. `You:` prompts for a turn; the reply
 * streams to stdout with the live status line on stderr and tool calls as they stream. Ctrl+C during a
 * reply stops that reply on the server (the part shown becomes the assistant's turn) and the chat goes
 * on; Ctrl+C, Ctrl+D or `exit` at the prompt quits. Each turn is a job continuing the previous one
 * (`previous_job_id`), streamed over SSE with `jobs.follow`, which resumes by itself.
 */
export async function chatCommand(ctx: CommandContext, input: ChatInput, opts: ChatOptions): Promise<number> {
  let previous = await resolveContinue(ctx, opts.continue);
  const line = createStatusLine(ctx.term);
  const prompter = createPrompter(input);
  try {
    return await converse();
  } finally {
    prompter.close();
  }

  async function converse(): Promise<number> {
    for (;;) {
      // At the prompt a Ctrl+C that reaches the process (piped input: no readline keypress) quits.
      ctx.onInterrupt(() => process.exit(exitCodes.completed));
      const prompt = await prompter.ask();
      if (prompt === undefined || prompt.trim() === 'exit') return exitCodes.completed;
      if (prompt.trim() === '') continue;
      const body: CreateJobBody = {
        messages: [{ role: 'user', content: prompt }],
        ...(previous === undefined ? { max_tokens: opts.maxTokens } : { previous_job_id: previous }),
        ...(opts.model === undefined || previous !== undefined ? {} : { model: opts.model }),
        ...(opts.system === undefined || previous !== undefined ? {} : { system: opts.system }),
      } as CreateJobBody;
      let job: { id: string };
      try {
        job = await ctx.client.jobs.create(body);
      } catch (err) {
        // A refused turn (a 409, a lost conversation) is said, and the chat goes on from where it was.
        ctx.term.stderr.write(`genrelay: ${failure(err, ctx.baseUrl).message}\n`);
        continue;
      }
      let cancelling = false;
      ctx.onInterrupt(() => {
        if (cancelling) return;
        cancelling = true;
        line.notice('stopping the reply… (Ctrl+C again to quit now)');
        ctx.client.jobs.cancel(job.id).catch((err: unknown) => line.notice(`cancel failed: ${failure(err, ctx.baseUrl).message}`));
      });
      let ended = '';
      await streamJob(ctx, line, job.id, { after: 0, submittedAt: Date.now(), onEnd: (status) => (ended = status) });
      // A completed or cancelled reply is the conversation's next turn; a failed one is not continued.
      if (ended === 'completed' || ended === 'cancelled') previous = job.id;
      else ctx.term.stderr.write(`the reply ${ended.replace('_', ' ')}: the next message goes on from the turn before it\n`);
    }
  }
}

/** The job to go on from: a job id as it is, a conversation's last turn for a conversation id. */
async function resolveContinue(ctx: CommandContext, id: string | undefined): Promise<string | undefined> {
  if (id === undefined) return undefined;
  if (!id.startsWith('conv_')) return id;
  const conversation = await ctx.client.conversations.get(id);
  ctx.term.stderr.write(`continuing ${id} after turn ${conversation.turns.at(-1)?.turn ?? 0}\n`);
  return conversation.last_job_id;
}

/** Asks for prompt lines. */
interface Prompter {
  /** The next line, or undefined to quit (Ctrl+C or Ctrl+D at the prompt, or the end of piped input). */
  ask(): Promise<string | undefined>;
  close(): void;
}

/**
 * On a terminal, a readline interface lives only while it asks: during a reply the terminal is back in
 * its normal mode, so Ctrl+C there is a signal (which stops the reply), not a keypress. Piped input is
 * read by one interface for the whole chat, so lines that arrive together are not lost between turns.
 */
function createPrompter(input: ChatInput): Prompter {
  if (input.stdin.isTTY !== true) {
    const rl = createInterface({ input: input.stdin, terminal: false });
    const lines = rl[Symbol.asyncIterator]();
    return {
      async ask() {
        input.stdout.write('You: ');
        const next = await lines.next();
        return next.done === true ? undefined : next.value;
      },
      close: () => rl.close(),
    };
  }
  return {
    async ask() {
      const rl = createInterface({ input: input.stdin, output: input.stdout, terminal: true });
      const quit = new Promise<undefined>((resolve) => {
        rl.once('SIGINT', () => resolve(undefined));
        rl.once('close', () => resolve(undefined));
      });
      try {
        return await Promise.race([rl.question('You: '), quit]);
      } catch {
        return undefined;
      } finally {
        rl.close();
      }
    },
    close() {},
  };
}
