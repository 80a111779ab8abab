import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { fstatSync, ftruncateSync, writeSync } from 'node:fs';
import { createClient } from '../client/index.js';
import { chatCommand, type ChatOptions } from './chat.js';
import { cancelCommand, failure, followCommand, getCommand, runCommand, waitCommand, type CommandContext, type RunOptions } from './commands.js';
import { exitCodes, exitCodesHelp } from './exit-codes.js';
import { createInterrupts } from './interrupts.js';

/** `genrelay`: run, follow, wait for, read and cancel jobs of a genrelay API from a shell. */
const defaultUrl = 'http://127.0.0.1:8080';

const integer = (name: string, min: number) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer of at least ${min}.`);
  return n;
};
const seconds = (raw: string) => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of seconds above 0.');
  return n;
};
const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * Standard output: a regular file (`> answer.md`) is written by position, so that a retry that starts
 * the text over can truncate what the discarded attempt wrote; anything else is process.stdout.
 */
function stdoutSink(): CommandContext['term']['stdout'] {
  let isFile = false;
  try {
    isFile = fstatSync(1).isFile();
  } catch {
    // no stdout to look at
  }
  if (!isFile) return process.stdout;
  let position = fstatSync(1).size;
  return {
    isTTY: false,
    write(s: string) {
      const buf = Buffer.from(s, 'utf8');
      writeSync(1, buf, 0, buf.length, position);
      position += buf.length;
    },
    rewind: {
      position: () => position,
      truncate(to: number) {
        ftruncateSync(1, to);
        position = to;
      },
    },
  };
}

// Under `npx genrelay` (npm exec) each Ctrl+C arrives twice, from the terminal and forwarded by npm.
const interrupts = createInterrupts({
  sameWithinMs: process.env['npm_command'] === 'exec' ? 500 : 0,
  now: () => performance.now(),
  exit: (code) => process.exit(code),
});
process.on('SIGINT', () => interrupts.signal());

const program = new Command('genrelay')
  .description('Run LLM generations on a genrelay server and stream them to your terminal.')
  .addOption(new Option('--url <url>', 'the genrelay API').env('GENRELAY_URL').default(defaultUrl))
  .option('--json', 'machine-readable output: records as JSON, events as NDJSON')
  .addHelpText('after', `\nThe API key comes from GENRELAY_API_KEY.\n\n${exitCodesHelp}`)
  .showHelpAfterError()
  .exitOverride();

const context = (): CommandContext => {
  const opts = program.opts<{ url: string; json?: boolean }>();
  const apiKey = process.env['GENRELAY_API_KEY'];
  return {
    client: createClient({ baseUrl: opts.url, ...(apiKey === undefined || apiKey === '' ? {} : { apiKey }) }),
    baseUrl: opts.url,
    term: { stdout: stdoutSink(), stderr: process.stderr },
    json: opts.json === true,
    readStdin: async () => {
      if (process.stdin.isTTY === true) return '';
      let text = '';
      for await (const chunk of process.stdin) text += String(chunk);
      return text;
    },
    onInterrupt: (handler) => interrupts.onInterrupt(handler),
  };
};
let code: number = exitCodes.completed;

program
  .command('run')
  .description('submit a job and stream its text to stdout; Ctrl+C cancels it on the server')
  .argument('[prompt...]', 'the prompt (else -f FILE, else standard input)')
  .option('-f, --file <path>', 'read the prompt from a file')
  .option('--model <model>', 'the model (default: the server\'s DEFAULT_MODEL)')
  .option('--max-tokens <n>', 'max_tokens', integer('--max-tokens', 1), 1024)
  .option('--system <text>', 'a system prompt')
  .option('--max-duration <seconds>', 'max_duration_ms, in seconds', seconds)
  .option('--metadata <key=value>', 'metadata to store with the job (repeatable)', collect, [])
  .option('--idempotency-key <key>', 'the same key and prompt give the same job')
  .option('--priority <n>', 'queue priority: 1 runs first (unmarked jobs: 1048576)', integer('--priority', 1))
  .option('--webhook <url>', 'POST the signed record to this URL when the job ends')
  .option('--detach', 'submit, print the id, the events URL and the viewer link, and exit')
  .action(async (prompt: string[], opts: RunOptions) => {
    code = await runCommand(context(), prompt, opts);
  });
program
  .command('chat')
  .description('a chat in the terminal: each message is a turn of one conversation; Ctrl+C stops a reply, exit quits')
  .option('--continue <id>', 'go on from a job (its conversation) or a conversation id')
  .option('--model <model>', 'the model (default: the server\'s DEFAULT_MODEL)')
  .option('--max-tokens <n>', 'max_tokens of each reply', integer('--max-tokens', 1), 1024)
  .option('--system <text>', 'a system prompt')
  .action(async (opts: ChatOptions) => {
    code = await chatCommand(context(), { stdin: process.stdin, stdout: process.stderr }, opts);
  });
program
  .command('follow')
  .description('stream the text of an existing job (from the start, or after event N)')
  .argument('<id>', 'the job id')
  .option('--after <n>', 'start after this event id', integer('--after', 0), 0)
  .action(async (id: string, opts: { after: number }) => {
    code = await followCommand(context(), id, opts.after);
  });
program
  .command('wait')
  .description('wait for a job to end and print its record')
  .argument('<id>', 'the job id')
  .option('--timeout <seconds>', 'give up after this long (exit 7)', seconds)
  .action(async (id: string, opts: { timeout?: number }) => {
    code = await waitCommand(context(), id, opts.timeout);
  });
program
  .command('get')
  .description("print a job's record")
  .argument('<id>', 'the job id')
  .action(async (id: string) => {
    code = await getCommand(context(), id);
  });
program
  .command('cancel')
  .description('cancel a job')
  .argument('<id>', 'the job id')
  .action(async (id: string) => {
    code = await cancelCommand(context(), id);
  });

try {
  await program.parseAsync(process.argv);
  process.exitCode = code;
} catch (err) {
  if (err instanceof CommanderError) {
    // --help and --version are not errors; everything else commander refuses is a usage error.
    process.exitCode = err.exitCode === 0 ? 0 : exitCodes.usage;
  } else {
    const key = process.env['GENRELAY_API_KEY'];
    const { message, code: exit } = failure(err, program.opts<{ url: string }>().url, key !== undefined && key !== '');
    process.stderr.write(`genrelay: ${message}\n`);
    process.exitCode = exit;
  }
}
