// Streamed Markdown, rendered incrementally with marked (GFM) and sanitised with DOMPurify.
//
// The text is cut into top-level blocks by marked's lexer. A block followed by another block is
// finished: it is rendered once and its nodes are never touched again (same elements, so a reader's
// selection in them survives). Only the last, open block is rendered again on each update, and only
// the text after the finished blocks is lexed, so a long answer costs a frame what its last block costs.
import { Lexer, Marked } from './vendor/marked.js';
import createDOMPurify from './vendor/dompurify.js';

/** The only link targets kept; anything else (`javascript:`, `data:`, relative) is shown as text. */
const safeUrl = /^(?:https?:|mailto:)/i;

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    // Raw HTML in the Markdown is shown as the text it is, never parsed as markup.
    html: (token) => (token.block ? `<p>${escapeHtml(token.text)}</p>\n` : escapeHtml(token.text)),
    link(token) {
      if (!safeUrl.test(token.href.trim())) return escapeHtml(token.raw);
      return false; // marked's own rendering; the sanitiser adds rel and target
    },
    // No remote images (they would tell a third party who reads the answer): a link to it instead.
    image(token) {
      if (!safeUrl.test(token.href.trim())) return escapeHtml(token.raw);
      return `<a href="${escapeHtml(token.href)}">${escapeHtml(token.text || token.href)}</a>`;
    },
    code(token) {
      const lang = (token.lang ?? '').trim().split(/\s+/)[0] ?? '';
      const attrs = lang === '' ? '' : ` class="language-${escapeHtml(lang)}" data-lang="${escapeHtml(lang)}"`;
      return `<pre><code${attrs}>${escapeHtml(token.text)}</code></pre>\n`;
    },
  },
});

const purify = createDOMPurify(window);
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName !== 'A' || !node.hasAttribute('href')) return;
  if (!safeUrl.test(node.getAttribute('href').trim())) {
    node.removeAttribute('href');
    return;
  }
  node.setAttribute('rel', 'noopener noreferrer');
  node.setAttribute('target', '_blank');
});
/** Second line of defence behind the renderer: whatever marked emits, only inert markup is kept. */
const purifyConfig = {
  // DOMPurify tests every attribute value against this, not only URLs: values without a scheme
  // (`align="right"`, `language-js`) pass, and of the schemes only these; links are narrowed above.
  ALLOWED_URI_REGEXP: /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i,
  FORBID_TAGS: ['style', 'img', 'svg', 'math', 'form', 'button', 'iframe', 'object', 'embed'],
  FORBID_ATTR: ['style'],
  RETURN_DOM_FRAGMENT: true,
};

/** A fenced code block whose closing fence has not arrived yet. */
const isOpenFence = (token) => {
  if (token.type !== 'code') return false;
  const fence = /^ {0,3}(`{3,}|~{3,})/.exec(token.raw)?.[1];
  if (fence === undefined) return false;
  const lines = token.raw.trimEnd().split('\n');
  return lines.length < 2 || !lines.at(-1).trim().startsWith(fence);
};

/**
 * Renders a growing Markdown text into `container` (which it owns: it removes what else is there).
 * `update(fullTextSoFar)` with the whole text each time; a text that does not extend the last one
 * (a retry that starts over) is rendered from scratch. `finish()` when no more text will come.
 */
export class MarkdownView {
  #container;
  /** The text of the finished blocks (and the blank lines after them). */
  #done = '';
  /** Link reference definitions of the finished blocks, for `[text][ref]` in later blocks. */
  #links = Object.create(null);
  /** The open block: its source and its nodes in the container. */
  #open = { raw: '', nodes: [] };
  #text = '';

  constructor(container) {
    this.#container = container;
    container.replaceChildren();
  }

  /** Shows `fullTextSoFar`: blocks that finished since the last call are fixed, the open one redrawn. */
  update(fullTextSoFar) {
    const text = fullTextSoFar.replace(/\r\n?/g, '\n');
    if (!text.startsWith(this.#done)) this.#reset();
    this.#text = text;
    const lexer = new Lexer(marked.defaults);
    Object.assign(lexer.tokens.links, this.#links);
    const tokens = lexer.lex(text.slice(this.#done.length));
    let last = tokens.length - 1;
    while (last >= 0 && tokens[last].type === 'space') last -= 1;
    for (let i = 0; i < last; i += 1) this.#commit(tokens[i]);
    if (last < 0) {
      this.#drop();
      return;
    }
    const open = tokens[last];
    if (open.raw === this.#open.raw && this.#open.nodes.length > 0) return;
    this.#drop();
    this.#open = { raw: open.raw, nodes: this.#render(open) };
    if (isOpenFence(open)) for (const n of this.#open.nodes) if (n.nodeName === 'PRE') n.classList.add('open');
  }

  /** The text is complete: the open block becomes a finished one. */
  finish() {
    for (const n of this.#open.nodes) if (n.nodeName === 'PRE') n.classList.remove('open');
    this.#open = { raw: '', nodes: [] };
    this.#done = this.#text;
  }

  /** Fixes `token` as a finished block, reusing the open block's nodes when it is the same source. */
  #commit(token) {
    this.#done += token.raw;
    if (token.type === 'def') this.#links[token.tag] = { href: token.href, title: token.title };
    if (token.type === 'space') return;
    if (token.raw === this.#open.raw && this.#open.nodes.length > 0) {
      this.#open = { raw: '', nodes: [] };
      return;
    }
    this.#drop();
    this.#render(token);
  }

  /** Appends the sanitised rendering of one block; returns its nodes. */
  #render(token) {
    const fragment = purify.sanitize(marked.parser([token]), purifyConfig);
    const nodes = [...fragment.childNodes];
    this.#container.append(fragment);
    return nodes;
  }

  #drop() {
    for (const n of this.#open.nodes) n.remove();
    this.#open = { raw: '', nodes: [] };
  }

  #reset() {
    this.#container.replaceChildren();
    this.#done = '';
    this.#links = Object.create(null);
    this.#open = { raw: '', nodes: [] };
  }
}
