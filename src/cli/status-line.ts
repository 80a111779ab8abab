/** Where the CLI writes, and what it knows of the terminal. */
export interface Terminal {
  readonly stdout: {
    write(s: string): unknown;
    readonly isTTY?: boolean;
    /**
     * Where the next write lands and how to go back there, when stdout is a regular file: then a
     * retry that starts the text over can take the discarded attempt's text back out of the file.
     */
    readonly rewind?: { position(): number; truncate(to: number): void };
  };
  readonly stderr: { write(s: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
}

/**
 * Text on stdout, a live status line on stderr. With stderr a terminal the line is redrawn in place
 * (carriage return, erase line), below the text when both share the terminal; with only stdout a
 * terminal it is written as plain lines, at most one a second; with neither, not at all (pipes and
 * files get no cursor or colour codes). The summary at the end always goes to stderr, plain.
 */
export function createStatusLine(term: Terminal) {
  const live = term.stderr.isTTY === true;
  const plainLines = !live && term.stdout.isTTY === true;
  const sharesTerminal = live && term.stdout.isTTY === true;
  let shown = false;
  let below = false;
  // Characters on the text's last line, to return to its end after drawing the status below it.
  let column = 0;
  let lastPlain = 0;
  // Where the current attempt's text started in a file stdout.
  let attemptStart = term.stdout.rewind?.position();

  const erase = () => {
    if (!shown) return;
    term.stderr.write('\r\x1b[2K');
    if (below) {
      term.stderr.write(`\x1b[1A\x1b[${(column % terminalWidth(term.stderr.columns)) + 1}G`);
    }
    shown = false;
    below = false;
  };
  return {
    /** Writes output text to stdout, keeping the status line out of its way. */
    text(piece: string) {
      if (sharesTerminal) erase();
      term.stdout.write(piece);
      const nl = piece.lastIndexOf('\n');
      column = nl === -1 ? column + piece.length : piece.length - nl - 1;
    },
    /** Shows `line` as the current status. */
    status(line: string) {
      if (live) {
        erase();
        if (sharesTerminal && column > 0) {
          term.stderr.write('\n');
          below = true;
        }
        term.stderr.write(line);
        shown = true;
      } else if (plainLines && Date.now() - lastPlain >= 1000) {
        lastPlain = Date.now();
        term.stderr.write(`${line}\n`);
      }
    },
    /** Removes the live line and writes `line` for good (a newline after the text when it needs one). */
    final(line: string) {
      erase();
      if (column > 0 && term.stdout.isTTY === true) term.stdout.write('\n');
      term.stderr.write(`${line}\n`);
    },
    /**
     * A retry starts the text over: in a file stdout the discarded attempt's text is taken back out
     * (stdout then ends up exactly the job's text); a pipe or a terminal keeps it. Returns whether it did.
     */
    startOver(): boolean {
      const rewind = term.stdout.rewind;
      if (rewind === undefined || attemptStart === undefined) return false;
      rewind.truncate(attemptStart);
      column = 0;
      return true;
    },
    /** Marks where the current attempt's text starts (after a reset that could not be undone). */
    markAttempt() {
      attemptStart = term.stdout.rewind?.position();
    },
    /** A one-off notice (a retry, a reconnect) on its own line. */
    notice(line: string) {
      erase();
      if (column > 0 && sharesTerminal) {
        term.stderr.write('\n');
        column = 0;
      }
      term.stderr.write(`${line}\n`);
    },
  };
}

/**
 * The width to wrap at: the terminal's columns, or 80 when it reports none, 0 (a pty nobody sized,
 * which made the cursor move `ESC[NaNG`) or anything not a positive whole number.
 */
export function terminalWidth(columns: number | undefined): number {
  return columns !== undefined && Number.isInteger(columns) && columns > 0 ? columns : 80;
}

/** The status line's text. */
export function formatStatus(s: {
  status: string;
  ttftMs: number | undefined;
  tokens: number;
  tokensPerS: number | undefined;
  elapsedMs: number;
  reconnecting?: boolean;
}): string {
  const parts = [
    s.reconnecting === true ? `${s.status} (reconnecting…)` : s.status,
    `ttft ${s.ttftMs === undefined ? '–' : `${s.ttftMs} ms`}`,
    `${s.tokens} tokens`,
    `${s.tokensPerS === undefined ? '–' : s.tokensPerS.toFixed(1)} tok/s`,
    `${(s.elapsedMs / 1000).toFixed(1)} s`,
  ];
  return parts.join(' · ');
}
