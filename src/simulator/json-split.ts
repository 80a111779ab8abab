import { createRandom } from './text.js';

/**
 * `JSON.stringify(value)` with every non-ASCII UTF-16 unit written as a `\uXXXX` escape: the same
 * value once parsed, ASCII only, so a cut can fall inside a multi-byte character's escape without
 * ever splitting a surrogate pair across two strings.
 */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Average length of a default piece; the API's pieces are a few characters to a few dozen. */
const PIECE_CHARS = 8;

/**
 * Cuts `json` into the `partial_json` pieces of a tool input. With `lengths`, pieces of exactly those
 * UTF-16 lengths (0 gives an empty piece), the rest in one last piece. Otherwise, as the API streams:
 * an empty first piece, then seeded cuts that include, where the JSON has them, one inside a string,
 * one between a `\` and the character it escapes, one inside a `\uXXXX` escape, one inside a number
 * and one right after a `:`. Only the concatenation is valid JSON.
 */
export function splitJson(json: string, seed: number, lengths?: readonly number[]): string[] {
  if (lengths !== undefined) {
    const pieces: string[] = [];
    let at = 0;
    for (const n of lengths) {
      const end = Math.min(json.length, at + n);
      if (at === json.length && n > 0) break;
      pieces.push(json.slice(at, end));
      at = end;
    }
    if (at < json.length) pieces.push(json.slice(at));
    return pieces;
  }
  const random = createRandom(seed);
  const cuts = new Set<number>();
  for (const positions of awkwardCuts(json)) {
    const pick = positions[Math.floor(random() * positions.length)];
    if (pick !== undefined) cuts.add(pick);
  }
  const extra = Math.floor(json.length / PIECE_CHARS) - cuts.size;
  for (let i = 0; i < extra && json.length > 1; i++) cuts.add(1 + Math.floor(random() * (json.length - 1)));
  const sorted = [...cuts].sort((a, b) => a - b);
  const pieces = [''];
  let at = 0;
  for (const cut of sorted) {
    pieces.push(json.slice(at, cut));
    at = cut;
  }
  pieces.push(json.slice(at));
  return pieces;
}

/**
 * Cut positions (a cut at p ends a piece before `json[p]`) by kind: inside a string's plain text,
 * between `\` and its escaped character, inside a `\uXXXX` escape, inside a number, after a `:`.
 */
function awkwardCuts(json: string): number[][] {
  const inString: number[] = [];
  const afterBackslash: number[] = [];
  const inUnicode: number[] = [];
  const inNumber: number[] = [];
  const afterColon: number[] = [];
  let string = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (string) {
      if (c === '\\') {
        afterBackslash.push(i + 1);
        if (json[i + 1] === 'u') inUnicode.push(i + 3, i + 4, i + 5);
        i += json[i + 1] === 'u' ? 5 : 1;
      } else if (c === '"') {
        string = false;
      } else if (json[i + 1] !== '"' && json[i + 1] !== '\\') {
        inString.push(i + 1);
      }
      continue;
    }
    if (c === '"') string = true;
    else if (c === ':') afterColon.push(i + 1);
    else if (/[0-9.eE+-]/.test(c ?? '') && /[0-9.eE+-]/.test(json[i + 1] ?? '')) inNumber.push(i + 1);
  }
  return [inString, afterBackslash, inUnicode, inNumber, afterColon].map((list) => list.filter((p) => p > 0 && p < json.length));
}
