import { exitCodes } from './exit-codes.js';

/** What {@link createInterrupts} needs from the process. */
export interface InterruptOptions {
  /**
   * A SIGINT this soon after the previous one is the same Ctrl+C delivered twice, not a second
   * press. `npx genrelay` / `npm exec` forwards every SIGINT it gets to us, and a terminal's Ctrl+C
   * reaches the whole foreground process group, npm included: each press arrives twice. 0 when
   * nothing forwards signals (run directly).
   */
  readonly sameWithinMs: number;
  /** A monotonic clock in ms. */
  readonly now: () => number;
  /** Ends the process at once with `code` (130: a second Ctrl+C). */
  readonly exit: (code: number) => void;
}

/**
 * Ctrl+C for the CLI: the first calls the handler the running command armed (cancel the job, stop a
 * reply); a second exits at once (130). Without a handler, the first exits.
 */
export function createInterrupts(options: InterruptOptions) {
  let count = 0;
  let last = Number.NEGATIVE_INFINITY;
  let handler: (() => void) | undefined;
  return {
    /** One SIGINT arrived. */
    signal(): void {
      const at = options.now();
      if (at - last < options.sameWithinMs) return;
      last = at;
      count += 1;
      if (count === 1 && handler !== undefined) handler();
      else options.exit(exitCodes.interrupted);
    },
    /** Arms what the next Ctrl+C does; the count starts again (the chat arms one per reply and one at each prompt). */
    onInterrupt(next: () => void): void {
      count = 0;
      handler = next;
    },
  };
}
