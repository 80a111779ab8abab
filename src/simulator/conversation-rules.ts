import type { SignatureBook } from './signatures.js';

/** What the conversation checks need besides the messages. */
export interface ConversationContext {
  /** Apply the rules new in API version 2026-10-21 (no document in assistant, no citations in user text). */
  readonly strict: boolean;
  /** Signatures and redacted data this simulator issued. */
  readonly book: SignatureBook;
}

type Block = Record<string, unknown>;
interface Message {
  readonly index: number;
  readonly role: unknown;
  readonly blocks: readonly Block[];
}

/**
 * The first reason the API would refuse this conversation, with its message, or null. In order:
 * block rules (cache_control on thinking, the 2026-10-21 document and citations rules), then every
 * `tool_use` answered by a `tool_result` in the next user turn and every `tool_result` answering one,
 * then thinking signatures and redacted data issued by this simulator for exactly that content.
 * Consecutive messages with the same role are one turn, as the API combines them.
 */
export function conversationProblem(messages: readonly unknown[], ctx: ConversationContext): string | null {
  const list: Message[] = messages.map((m, index) => {
    const record = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
    const content = record['content'];
    const blocks = Array.isArray(content) ? content.filter((b): b is Block => typeof b === 'object' && b !== null) : [];
    return { index, role: record['role'], blocks };
  });
  return blockProblem(list, ctx) ?? toolPairingProblem(list) ?? signatureProblem(list, ctx);
}

function blockProblem(list: readonly Message[], ctx: ConversationContext): string | null {
  for (const { index, role, blocks } of list) {
    for (const [j, block] of blocks.entries()) {
      const at = `messages.${index}.content.${j}`;
      const type = block['type'];
      if ((type === 'thinking' || type === 'redacted_thinking') && block['cache_control'] != null) {
        return `${at}.${type}.cache_control: Extra inputs are not permitted`;
      }
      if (!ctx.strict) continue;
      if (role === 'assistant' && type === 'document') {
        return `${at}: \`document\` blocks are not permitted in \`assistant\` messages`;
      }
      const citations = block['citations'];
      if (role === 'user' && type === 'text' && Array.isArray(citations) && citations.length > 0) {
        return `${at}: \`citations\` are not permitted on \`text\` blocks in \`user\` messages`;
      }
    }
  }
  return null;
}

function toolPairingProblem(list: readonly Message[]): string | null {
  const turns: Message[][] = [];
  for (const m of list) {
    const turn = turns.at(-1);
    if (turn !== undefined && turn[0]?.role === m.role) turn.push(m);
    else turns.push([m]);
  }
  for (const [t, turn] of turns.entries()) {
    const previous = turns[t - 1];
    const asked = new Set(previous?.[0]?.role === 'assistant' ? previous.flatMap(toolUseIds) : []);
    if (turn[0]?.role === 'user') {
      for (const m of turn) {
        for (const [j, block] of m.blocks.entries()) {
          const id = block['tool_use_id'];
          if (block['type'] !== 'tool_result' || asked.has(id as string)) continue;
          return (
            `messages.${m.index}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(id)}. ` +
            'Each `tool_result` block must have a corresponding `tool_use` block in the previous message.'
          );
        }
      }
    }
    if (turn[0]?.role !== 'assistant') continue;
    const next = turns[t + 1];
    const answered = new Set(
      next?.[0]?.role === 'user'
        ? next.flatMap((m) => m.blocks.filter((b) => b['type'] === 'tool_result').map((b) => b['tool_use_id']))
        : [],
    );
    for (const m of turn) {
      const missing = toolUseIds(m).filter((id) => !answered.has(id));
      if (missing.length === 0) continue;
      return (
        `messages.${m.index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. ` +
        'Each `tool_use` block must have a corresponding `tool_result` block in the next message.'
      );
    }
  }
  return null;
}

function signatureProblem(list: readonly Message[], ctx: ConversationContext): string | null {
  for (const { index, role, blocks } of list) {
    if (role !== 'assistant') continue;
    for (const [j, block] of blocks.entries()) {
      const at = `messages.${index}.content.${j}`;
      if (block['type'] === 'thinking') {
        const { thinking, signature } = block;
        if (typeof thinking !== 'string' || typeof signature !== 'string' || !ctx.book.verifyThinking(thinking, signature)) {
          return `${at}: Invalid \`signature\` in \`thinking\` block`;
        }
      } else if (block['type'] === 'redacted_thinking') {
        const data = block['data'];
        if (typeof data !== 'string' || !ctx.book.verifyRedacted(data)) return `${at}: Invalid \`data\` in \`redacted_thinking\` block`;
      }
    }
  }
  return null;
}

function toolUseIds(m: Message): string[] {
  return m.blocks.filter((b) => b['type'] === 'tool_use').map((b) => String(b['id']));
}
