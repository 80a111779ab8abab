import { z } from 'zod';
import {
  containerUploadBlock,
  documentBlock,
  imageBlock,
  redactedThinkingBlock,
  searchResultBlock,
  serverToolUseBlock,
  textBlock,
  thinkingBlock,
  toolResultBlock,
  toolUseBlock,
} from './content-blocks.js';
import { isJsonObject } from './primitives.js';
import { serverToolResultBlocks, serverToolResultTypes } from './server-tool-results.js';

/** Every content block of the SDK's `ContentBlockParam`. */
export const contentBlock = z.discriminatedUnion('type', [
  textBlock,
  imageBlock,
  documentBlock,
  searchResultBlock,
  thinkingBlock,
  redactedThinkingBlock,
  toolUseBlock,
  toolResultBlock,
  serverToolUseBlock,
  ...serverToolResultBlocks,
  containerUploadBlock,
]);

type Block = z.output<typeof contentBlock>;

/** Blocks the model produced: they go back in assistant messages only. */
const fromTheModel: ReadonlySet<string> = new Set(['thinking', 'redacted_thinking', 'tool_use', 'server_tool_use', ...serverToolResultTypes]);

/** The API version the pinned SDK (@anthropic-ai/sdk 1.11.0) sends, and that the upstream then applies. */
export const apiVersion = '2026-10-21';

/**
 * Why a block of `type` may not appear in a message of `role` (path inside the block, message), or
 * nothing. It reads only `type` and `citations`, so it can judge blocks that are malformed otherwise.
 */
function misplaced(type: unknown, citations: unknown, role: 'user' | 'assistant'): { path: string[]; message: string } | undefined {
  if (role === 'user') {
    if (typeof type === 'string' && fromTheModel.has(type)) {
      return { path: [], message: `a ${type} block comes from the model: it goes back in an assistant message, not a user message` };
    }
    if (type === 'text' && Array.isArray(citations) && citations.length > 0) {
      return {
        path: ['citations'],
        message: `must be empty or left out in a user message: API version ${apiVersion} (the one the pinned SDK sends) refuses citations on user text`,
      };
    }
  } else {
    if (type === 'tool_result') return { path: [], message: 'a tool_result answers the model: it goes in a user message, not an assistant message' };
    if (type === 'document') {
      return { path: [], message: `a document cannot be in an assistant message: API version ${apiVersion} (the one the pinned SDK sends) refuses it` };
    }
  }
  return undefined;
}

/** Checks which blocks a message holds, even when some of them are malformed (so every problem is listed). */
function placement(role: 'user' | 'assistant') {
  return [
    (message: { content: unknown }, ctx: z.RefinementCtx) => {
      if (!Array.isArray(message.content)) return;
      message.content.forEach((block: unknown, i) => {
        if (!isJsonObject(block)) return;
        const problem = misplaced(block['type'], block['citations'], role);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['content', i, ...problem.path], message: problem.message });
      });
    },
    { when: (payload: z.core.ParsePayload) => isJsonObject(payload.value) },
  ] as const;
}

/** A turn's content: a non-empty string, or at least one block. */
const content = z.union([z.string().min(1), z.array(contentBlock).min(1)]);

/** One message: `user`, `assistant`, or a mid-conversation `system` message (text only). */
export const messageParam = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('user'), content }).superRefine(...placement('user')),
  z.strictObject({ role: z.literal('assistant'), content }).superRefine(...placement('assistant')),
  z.strictObject({ role: z.literal('system'), content: z.union([z.string().min(1), z.array(textBlock).min(1)]) }),
]);

/** A validated message. */
export type Message = z.output<typeof messageParam>;

/** A problem found across messages; `path` from the request's root. */
export interface ConversationIssue {
  readonly path: (string | number)[];
  readonly message: string;
}

function blocksOf(message: Message | undefined): readonly Block[] {
  return message === undefined || typeof message.content === 'string' ? [] : message.content;
}

/**
 * The rules that span messages, as the API applies them: the first message is a user message (unless
 * the request continues a previous job, whose assistant turn then comes first); a system message
 * follows a user message; tool_use ids are unique; every tool_use of an assistant turn is answered by a
 * tool_result in the user turn right after it, when one follows in this request; every tool_result
 * answers a tool_use of the assistant turn right before it and comes before other content. Consecutive
 * messages of one role are one turn, as the API merges them.
 */
export function conversationIssues(messages: readonly Message[], continues: boolean): ConversationIssue[] {
  const issues: ConversationIssue[] = [];
  const at = (path: (string | number)[], message: string) => issues.push({ path: ['messages', ...path], message });

  if (!continues && messages[0] !== undefined && messages[0].role !== 'user') at([0, 'role'], 'the first message must be a user message');
  messages.forEach((message, i) => {
    if (message.role === 'system' && (i > 0 || continues) && messages[i - 1]?.role !== 'user') {
      at([i], 'a system message must come right after a user message');
    }
  });

  const firstOfId = new Map<string, string>();
  messages.forEach((message, i) => {
    blocksOf(message).forEach((block, j) => {
      if (block.type !== 'tool_use' && block.type !== 'server_tool_use') return;
      const first = firstOfId.get(block.id);
      if (first === undefined) firstOfId.set(block.id, `/messages/${i}/content/${j}`);
      else at([i, 'content', j, 'id'], `duplicates the id of ${first}: tool_use ids must be unique`);
    });
  });

  const turns: { role: Message['role']; indexes: number[] }[] = [];
  messages.forEach((message, i) => {
    const last = turns.at(-1);
    if (last !== undefined && last.role === message.role && message.role !== 'system') last.indexes.push(i);
    else turns.push({ role: message.role, indexes: [i] });
  });
  const blocksOfTurn = (turn: { indexes: number[] } | undefined) => (turn?.indexes ?? []).flatMap((i) => blocksOf(messages[i]));

  turns.forEach((turn, t) => {
    if (turn.role === 'assistant') {
      const next = turns[t + 1];
      if (next === undefined) return;
      const answered = new Set(next.role === 'user' ? blocksOfTurn(next).flatMap((b) => (b.type === 'tool_result' ? [b.tool_use_id] : [])) : []);
      for (const i of turn.indexes) {
        const missing = blocksOf(messages[i]).flatMap((b) => (b.type === 'tool_use' && !answered.has(b.id) ? [b.id] : []));
        if (missing.length > 0) {
          at([i], `tool_use ids were found without tool_result blocks immediately after: ${missing.join(', ')} (answer each in the next user message)`);
        }
      }
    } else if (turn.role === 'user') {
      const before = turns[t - 1];
      const asked =
        before?.role === 'assistant' ? new Set(blocksOfTurn(before).flatMap((b) => (b.type === 'tool_use' ? [b.id] : []))) : undefined;
      let otherContent = false;
      const answered = new Set<string>();
      for (const i of turn.indexes) {
        const message = messages[i];
        if (message !== undefined && typeof message.content === 'string') otherContent = true;
        blocksOf(message).forEach((block, j) => {
          if (block.type !== 'tool_result') {
            otherContent = true;
            return;
          }
          const path = [i, 'content', j];
          if (otherContent) at(path, 'a tool_result must come before any other content of its user message');
          const id = block.tool_use_id;
          if (answered.has(id)) at([...path, 'tool_use_id'], 'answers a tool_use already answered in this user message');
          answered.add(id);
          // The first turn of a continuation answers the previous job's tool_use blocks: the submitter checks those.
          if (asked === undefined) {
            if (!(continues && t === 0)) at([...path, 'tool_use_id'], 'answers no tool_use: the message before is not an assistant message');
          } else if (!asked.has(id)) {
            at([...path, 'tool_use_id'], 'matches no tool_use id of the assistant message right before');
          }
        });
      }
    }
  });
  return issues;
}
