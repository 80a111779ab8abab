import { describe, expect, it } from 'vitest';
import { createStatusLine, terminalWidth } from '../src/cli/status-line.js';

/** A terminal on both streams, recording what stderr got. */
function terminal(columns: number | undefined) {
  const err: string[] = [];
  const term = {
    stdout: { isTTY: true, write: () => true },
    stderr: { isTTY: true, ...(columns === undefined ? {} : { columns }), write: (s: string) => err.push(s) },
  };
  return { term, err };
}

describe('the status line under the text', () => {
  it('returns the cursor to the end of the text, wrapping at the terminal width', () => {
    const { term, err } = terminal(40);
    const line = createStatusLine(term);
    line.text('x'.repeat(50));
    line.status('running');
    line.text('y');
    // 50 characters on a 40-column terminal end in column 11 of the wrapped line: back to column 11.
    expect(err.join('')).toContain('\x1b[1A\x1b[11G');
  });

  for (const columns of [0, undefined, Number.NaN, -1]) {
    it(`a terminal reporting ${String(columns)} columns gets a real column (80 wide), never NaN`, () => {
      const { term, err } = terminal(columns);
      const line = createStatusLine(term);
      line.text('x'.repeat(85));
      line.status('running');
      line.final('completed');
      const out = err.join('');
      expect(out).not.toContain('NaN');
      expect(out).toContain('\x1b[1A\x1b[6G');
    });
  }

  it('terminalWidth: the columns when positive, else 80', () => {
    expect([terminalWidth(120), terminalWidth(0), terminalWidth(undefined), terminalWidth(Number.NaN), terminalWidth(2.5)]).toEqual([120, 80, 80, 80, 80]);
  });
});
