// One turn of the chat page: the user's message, then the assistant's reply built from the turn's
// events as they come (replayed from the start on a load, live after): each event is applied once.
import { createBlock, el } from './chat-blocks.js';

/** What a user message shows: its text, or its text blocks (tool results as a short note). */
export function userText(content) {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b) => (b.type === 'text' ? b.text : b.type === 'tool_result' ? `[tool result for ${b.tool_use_id}]` : `[${b.type}]`))
    .join('\n');
}

/** A user message bubble (also the pending one shown while its turn is being created). */
export function userBubble(text) {
  const element = el('div', 'msg user');
  element.append(el('div', 'who', 'You'), el('div', 'body', text));
  return element;
}

const endings = { completed: '', cancelled: 'stopped', failed: 'failed', timed_out: 'timed out' };

/** One turn: `element` is its <article>; `apply(type, data)` takes each of its job's events in order. */
export class TurnView {
  constructor({ turn, jobId, user }) {
    this.turn = turn;
    this.jobId = jobId;
    this.status = 'queued';
    this.ended = false;
    this.blocks = new Map();
    this.dirty = new Set();
    this.frame = 0;
    this.element = el('article', 'turn');
    this.element.dataset.turn = String(turn);
    this.element.dataset.job = jobId;
    this.element.dataset.status = 'queued';
    const reply = el('div', 'msg assistant');
    this.label = el('span', 'turn-status');
    const who = el('div', 'who', 'Assistant ');
    who.append(this.label);
    this.body = el('div', 'blocks');
    this.note = el('p', 'turn-note');
    reply.append(who, this.body, this.note);
    this.element.append(userBubble(user), reply);
  }

  /** The reply's text: its text blocks joined. */
  get text() {
    return [...this.blocks.values()].map((b) => b.text).join('');
  }

  /** Ids of the tool calls that finished: the next turn must answer each with a tool_result. */
  get toolUseIds() {
    return [...this.blocks.values()].filter((b) => b.finished && b.type === 'tool_use' && b.id !== undefined).map((b) => b.id);
  }

  apply(type, data) {
    switch (type) {
      case 'status':
        return this.setStatus(data.status);
      case 'block_start':
        return this.open(data.index, data.block);
      case 'delta':
      case 'thinking':
      case 'tool_input': {
        const block = this.blockAt(data.index, type === 'thinking' ? 'thinking' : 'text');
        block.append(type === 'tool_input' ? data.partial_json : data.text);
        return this.schedule(block);
      }
      case 'citation':
        return this.blockAt(data.index, 'text').cite?.(data.citation);
      case 'block_stop':
        return this.stop(this.blocks.get(data.index), data.block);
      case 'reset':
        this.blocks.clear();
        this.dirty.clear();
        this.body.replaceChildren();
        this.note.textContent = `Retrying (attempt ${data.attempt}): ${data.reason}. The reply starts over.`;
        return;
      case 'done':
        return this.end(data);
      default:
    }
  }

  /** Renders what is pending now (the page batches renders per animation frame). */
  flush() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    for (const block of this.dirty) block.render();
    this.dirty.clear();
  }

  setStatus(status) {
    this.status = status;
    this.element.dataset.status = status;
    this.label.textContent = status === 'completed' ? '' : status.replace('_', ' ');
  }

  open(index, block) {
    const view = createBlock(block);
    this.blocks.set(index, view);
    this.body.append(view.element);
    return view;
  }

  /** The block at `index`; a delta with no index (logs from before blocks) is block 0. */
  blockAt(index, type) {
    const at = index ?? 0;
    return this.blocks.get(at) ?? this.open(at, { type });
  }

  stop(block, final) {
    if (block === undefined || block.finished) return;
    this.dirty.delete(block);
    block.finished = true;
    block.stop(final);
  }

  schedule(block) {
    this.dirty.add(block);
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.flush());
  }

  end(data) {
    this.flush();
    // A reply that ended early: its unfinished text is final as shown (tool calls stay unfinished).
    for (const block of this.blocks.values()) if (block.type === 'text') this.stop(block, {});
    this.ended = true;
    this.setStatus(data.status);
    this.label.textContent = endings[data.status] ?? data.status;
    if (data.error && data.status !== 'cancelled') this.note.textContent = `${data.error.type}: ${data.error.message}`;
    else if (data.status === 'cancelled') this.note.textContent = 'Stopped: the reply is kept as far as it went.';
    else if (data.truncated) this.note.textContent = 'Stopped at max_tokens (truncated).';
    else this.note.textContent = '';
  }
}
