// The assistant's content blocks on the chat page, one renderer per block type. Model output reaches
// the DOM only as text nodes (textContent) or through MarkdownView, which sanitises: never as markup.
import { MarkdownView } from './markdown-view.js';

/** A new element with an optional class and text (set as textContent: never parsed). */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

const pretty = (value) => JSON.stringify(value, null, 2);

/** A text block: its text so far, rendered as Markdown; citations listed under it as plain text. */
function textBlock() {
  const element = el('div', 'block text');
  const body = el('div', 'markdown');
  element.append(body);
  const view = new MarkdownView(body);
  let text = '';
  let citations;
  return {
    element,
    get text() { return text; },
    append(piece) { text += piece; },
    render() { view.update(text); },
    cite(citation) {
      citations ??= element.appendChild(el('ol', 'citations'));
      const where = citation.title ?? citation.url ?? citation.document_title ?? citation.type;
      citations.append(el('li', '', `${where ?? 'source'}${citation.cited_text ? `: “${citation.cited_text}”` : ''}`));
    },
    stop() { view.update(text); view.finish(); },
  };
}

/** Thinking: collapsed in a <details>, its text as plain text; open it to read. */
function thinkingBlock(redacted) {
  const element = el('details', 'block thinking');
  const summary = el('summary', '', redacted ? 'Thinking (redacted)' : 'Thinking…');
  const body = el('div', 'thinking-text');
  element.append(summary, body);
  let text = '';
  return {
    element,
    text: '',
    append(piece) { text += piece; },
    render() { body.textContent = text; },
    stop() {
      body.textContent = text;
      if (!redacted) summary.textContent = 'Thinking';
    },
  };
}

/** A tool call: its name, then its input JSON as it streams (raw), pretty once it parsed. */
function toolBlock(block) {
  const element = el('div', `block tool ${block.type}`);
  const head = el('div', 'tool-head', block.type === 'server_tool_use' ? 'Server tool ' : 'Tool call ');
  head.append(el('code', 'tool-name', String(block.name ?? '')));
  const input = el('pre', 'tool-input');
  element.append(head, input);
  element.dataset.state = 'streaming';
  let raw = '';
  return {
    element,
    text: '',
    id: block.id,
    append(piece) { raw += piece; },
    render() { input.textContent = raw; },
    stop(done) {
      element.dataset.state = 'done';
      if (done.input !== undefined) input.textContent = pretty(done.input);
      else input.textContent = raw;
      if (done.input_error !== undefined) element.append(el('p', 'error', `input did not parse: ${done.input_error}`));
    },
  };
}

/** A block that arrives whole (server tool results, types this page does not know): shown as JSON. */
function wholeBlock(block) {
  const element = el('details', `block whole ${block.type}`);
  element.append(el('summary', '', block.type.replaceAll('_', ' ')), el('pre', '', pretty(block)));
  return { element, text: '', append() {}, render() {}, stop() {} };
}

/**
 * The renderer for a block that opens as `block` (its `block_start` data): `{element, type, text,
 * finished, append(piece), render(), stop(finalBlock)}`.
 */
export function createBlock(block) {
  const made = block.type === 'text' ? textBlock()
    : block.type === 'thinking' || block.type === 'redacted_thinking' ? thinkingBlock(block.type === 'redacted_thinking')
      : block.type === 'tool_use' || block.type === 'server_tool_use' ? toolBlock(block)
        : wholeBlock(block);
  made.type = block.type;
  made.finished = false;
  return made;
}
