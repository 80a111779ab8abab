// PLACEHOLDER for the real incremental Markdown renderer (written in parallel; replaced at merge).
// Same interface: `new MarkdownView(container)`, `update(fullTextSoFar)`, `finish()`. It renders
// text only: one <p> per paragraph (blank-line separated), each filled with textContent, so nothing
// in model output is ever parsed as markup.

/** Renders a growing text into `container`, safely, as plain paragraphs. */
export class MarkdownView {
  /** @param {HTMLElement} container where the text is rendered (its children are replaced). */
  constructor(container) {
    this.container = container;
    this.text = '';
    this.finished = false;
  }

  /** Shows `fullTextSoFar` (the whole text up to now, not a delta). */
  update(fullTextSoFar) {
    if (fullTextSoFar === this.text) return;
    this.text = fullTextSoFar;
    const paragraphs = fullTextSoFar.split(/\n[ \t]*\n/).filter((p) => p.trim() !== '');
    const nodes = paragraphs.map((p) => {
      const el = document.createElement('p');
      el.textContent = p;
      return el;
    });
    this.container.replaceChildren(...nodes);
  }

  /** The text is complete: nothing more will come. */
  finish() {
    this.finished = true;
  }
}
