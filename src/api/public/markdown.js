// Streaming-safe Markdown for untrusted model output. It builds DOM nodes with createElement and
// textContent only: no HTML from the text is ever parsed, so no tag, attribute or script in the
// output can run. Half-written syntax renders as what it is so far (an open code fence is a code
// block until it closes; an unclosed ** or ` stays literal text).

const SAFE_URL = /^(https?:|mailto:)/i;

/** Renders `text` as Markdown into `container`, replacing its children. */
export function renderMarkdown(container, text) {
  const fragment = document.createDocumentFragment();
  for (const block of parseBlocks(text)) fragment.append(renderBlock(block));
  container.replaceChildren(fragment);
}

function parseBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  let para = null;
  let list = null;
  const endPara = () => { para = null; };
  const endList = () => { list = null; };
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const fence = /^\s*(```|~~~)\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      endPara(); endList();
      const body = [];
      let j = i + 1;
      while (j < lines.length && !new RegExp(`^\\s*${fence[1]}\\s*$`).test(lines[j])) body.push(lines[j++]);
      blocks.push({ type: 'code', lang: fence[2], text: body.join('\n'), open: j >= lines.length });
      i = j;
      continue;
    }
    if (/^\s*$/.test(line)) { endPara(); endList(); continue; }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) { endPara(); endList(); blocks.push({ type: 'heading', level: heading[1].length, text: heading[2] }); continue; }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { endPara(); endList(); blocks.push({ type: 'hr' }); continue; }
    const quote = /^\s*>\s?(.*)$/.exec(line);
    if (quote) {
      endList();
      const last = blocks.at(-1);
      if (para === null && last?.type === 'quote') last.lines.push(quote[1]);
      else { endPara(); blocks.push({ type: 'quote', lines: [quote[1]] }); }
      continue;
    }
    const item = /^\s*(?:([-*+])|(\d+)[.)])\s+(.*)$/.exec(line);
    if (item) {
      endPara();
      const ordered = item[2] !== undefined;
      if (list === null || list.ordered !== ordered) {
        list = { type: 'list', ordered, start: ordered ? Number(item[2]) : 1, items: [] };
        blocks.push(list);
      }
      list.items.push(item[3]);
      continue;
    }
    if (list !== null && /^\s{2,}\S/.test(line)) { list.items[list.items.length - 1] += ` ${line.trim()}`; continue; }
    endList();
    if (para === null) { para = { type: 'para', lines: [] }; blocks.push(para); }
    para.lines.push(line);
  }
  return blocks;
}

function renderBlock(block) {
  switch (block.type) {
    case 'code': {
      const pre = document.createElement('pre');
      const code = document.createElement('code');
      if (block.lang) code.dataset.lang = block.lang;
      if (block.open) pre.classList.add('open');
      code.textContent = block.text;
      pre.append(code);
      return pre;
    }
    case 'heading': {
      const h = document.createElement(`h${block.level}`);
      h.append(renderInline(block.text));
      return h;
    }
    case 'hr':
      return document.createElement('hr');
    case 'quote': {
      const q = document.createElement('blockquote');
      q.append(renderInline(block.lines.join('\n')));
      return q;
    }
    case 'list': {
      const el = document.createElement(block.ordered ? 'ol' : 'ul');
      if (block.ordered && block.start !== 1) el.start = block.start;
      for (const text of block.items) {
        const li = document.createElement('li');
        li.append(renderInline(text));
        el.append(li);
      }
      return el;
    }
    default: {
      const p = document.createElement('p');
      p.append(renderInline(block.lines.join('\n')));
      return p;
    }
  }
}

// Inline spans, left to right; a marker without its closing partner is plain text.
const INLINE = /`([^`\n]+)`|\*\*([^*\n](?:[^\n]*?[^*\n])?)\*\*|__([^_\n](?:[^\n]*?[^_\n])?)__|\*([^*\s](?:[^*\n]*?[^*\s])?)\*|\b_([^_\s](?:[^_\n]*?[^_\s])?)_\b|\[([^\]\n]+)\]\(([^)\s]+)\)/g;

function renderInline(text) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    appendText(fragment, text.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[1] !== undefined) fragment.append(element('code', m[1]));
    else if (m[2] !== undefined || m[3] !== undefined) fragment.append(element('strong', null, renderInline(m[2] ?? m[3])));
    else if (m[4] !== undefined || m[5] !== undefined) fragment.append(element('em', null, renderInline(m[4] ?? m[5])));
    else if (SAFE_URL.test(m[7])) {
      const a = element('a', null, renderInline(m[6]));
      a.href = m[7];
      a.rel = 'noopener noreferrer nofollow';
      a.target = '_blank';
      fragment.append(a);
    } else appendText(fragment, m[0]);
  }
  appendText(fragment, text.slice(last));
  return fragment;
}

function appendText(parent, text) {
  const parts = text.split('\n');
  parts.forEach((part, i) => {
    if (i > 0) parent.append(document.createElement('br'));
    if (part) parent.append(document.createTextNode(part));
  });
}

function element(tag, text, child) {
  const el = document.createElement(tag);
  if (text !== null) el.textContent = text;
  if (child) el.append(child);
  return el;
}
