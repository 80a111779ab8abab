import type { StreamEvent } from '../client/index.js';
import { summary, type CommandContext } from './commands.js';
import { exitCodeFor } from './exit-codes.js';
import { formatStatus, type createStatusLine } from './status-line.js';

/** Options of {@link streamJob}. */
export interface StreamJobOptions {
  /** Start after this event id. */
  readonly after: number;
  /** When the job was submitted (the status line's clock starts there), if this process did. */
  readonly submittedAt?: number | undefined;
  /** Called once the job has ended, with its status. */
  readonly onEnd?: (status: string) => void;
}

/** A tool call as it streams: its name and the input JSON received so far. */
interface OpenTool {
  readonly name: string;
  readonly server: boolean;
  json: string;
}

/**
 * Streams a job's events to the terminal until `done`: text on stdout, the live status on stderr,
 * tool calls on stderr as they stream (the status line shows the input growing; the finished call
 * is printed with its input). The exit code follows the job's ending (a `tool_use` stop is a
 * completed job: 0).
 */
export async function streamJob(ctx: CommandContext, line: ReturnType<typeof createStatusLine>, id: string, options: StreamJobOptions): Promise<number> {
  const started = Date.now();
  let status = 'queued';
  let firstTokenAt: number | undefined;
  let tokens = 0;
  let reconnecting = false;
  const tools = new Map<number, OpenTool>();
  const draw = () => {
    if (ctx.json) return;
    const now = Date.now();
    const from = options.submittedAt ?? started;
    const open = [...tools.values()].at(-1);
    line.status(
      formatStatus({
        status: open === undefined ? status : `${status} · ${open.server ? 'server tool' : 'tool'} ${open.name} (${open.json.length} chars of input)`,
        ttftMs: firstTokenAt === undefined ? undefined : firstTokenAt - from,
        tokens,
        tokensPerS: firstTokenAt === undefined || now - firstTokenAt < 200 ? undefined : (tokens * 1000) / (now - firstTokenAt),
        elapsedMs: now - from,
        reconnecting,
      }),
    );
  };
  const ticker = setInterval(draw, 250);
  let done: StreamEvent | undefined;
  try {
    for await (const event of ctx.client.jobs.follow(id, {
      after: options.after,
      onState: (s) => {
        reconnecting = s.kind === 'reconnecting';
        draw();
      },
    })) {
      if (ctx.json) ctx.term.stdout.write(`${JSON.stringify(event)}\n`);
      else render(event);
      if (event.type === 'done') done = event;
      draw();
    }
  } finally {
    clearInterval(ticker);
  }

  function render(event: StreamEvent): void {
    switch (event.type) {
      case 'delta':
        firstTokenAt ??= Date.now();
        tokens += 1;
        line.text(event.data.text);
        return;
      case 'thinking':
      case 'tool_input':
        firstTokenAt ??= Date.now();
        tokens += 1;
        if (event.type === 'tool_input') {
          const tool = tools.get(event.data.index);
          if (tool !== undefined) tool.json += event.data.partial_json;
        }
        return;
      case 'block_start': {
        const { block, index } = event.data;
        if (block.type === 'tool_use' || block.type === 'server_tool_use') {
          tools.set(index, { name: String(block['name']), server: block.type === 'server_tool_use', json: '' });
        }
        return;
      }
      case 'block_stop': {
        const tool = tools.get(event.data.index);
        if (tool === undefined) return;
        tools.delete(event.data.index);
        const { block } = event.data;
        const input = 'input' in block ? JSON.stringify(block['input']) : `${tool.json} (not valid JSON: ${String(block['input_error'])})`;
        line.notice(`${tool.server ? 'server tool' : 'tool call'}: ${tool.name} ${input}`);
        return;
      }
      case 'status':
        status = event.data.status;
        return;
      case 'reset': {
        tokens = 0;
        tools.clear();
        const undone = line.startOver();
        line.notice(
          undone
            ? `— attempt ${event.data.attempt} starts over (${event.data.reason}): the text so far was taken back out —`
            : `— attempt ${event.data.attempt} starts over (${event.data.reason}); the text above is discarded, its text follows —`,
        );
        line.markAttempt();
        return;
      }
      default:
        return;
    }
  }

  if (done?.type !== 'done') {
    // The cursor was at or past `done` already (the server answered 204): the job has ended.
    const record = await ctx.client.jobs.get(id);
    if (!ctx.json) line.final(summary(record));
    options.onEnd?.(record.status);
    return exitCodeFor(record.status);
  }
  options.onEnd?.(done.data.status);
  if (ctx.json) return exitCodeFor(done.data.status);
  const record = await ctx.client.jobs.get(id).catch(() => undefined);
  line.final(record === undefined ? done.data.status : summary(record));
  return exitCodeFor(done.data.status);
}
