/** Fixed vocabulary for generated text: plain ASCII, so a code point is a UTF-16 unit. */
const WORDS = [
  'the', 'queue', 'stream', 'worker', 'token', 'relay', 'signal', 'buffer', 'river', 'lantern', 'quiet',
  'harbor', 'copper', 'meadow', 'orbit', 'pixel', 'summit', 'velvet', 'ember', 'glacier', 'atlas', 'cipher',
  'delta', 'falcon', 'garden', 'horizon', 'island', 'jasmine', 'kernel', 'lattice', 'marble', 'nectar',
  'oasis', 'prairie', 'quartz', 'ripple', 'saffron', 'timber', 'umbra', 'vertex', 'willow', 'zephyr',
  'and', 'of', 'a', 'to', 'in', 'with', 'over', 'under', 'beside', 'through', 'again', 'slowly', 'bright',
  'gentle', 'distant', 'steady', 'hidden', 'golden', 'silver', 'early', 'late', 'north',
] as const;

/** A small deterministic PRNG (mulberry32): same seed, same sequence. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Deterministic text that `chunkEnds(text, chunk)` cuts into exactly `tokens` deltas: `tokens` words
 * for "word", else words trimmed to `tokens * chunk` characters.
 */
export function generateText(seed: number, tokens: number, chunk: 'word' | number): string {
  if (tokens <= 0) return '';
  const random = createRandom(seed);
  const pick = (): string => WORDS[Math.floor(random() * WORDS.length)] ?? 'the';
  if (chunk === 'word') {
    const words: string[] = [];
    for (let i = 0; i < tokens; i++) words.push(pick());
    return words.join(' ');
  }
  const length = tokens * chunk;
  let text = pick();
  while (text.length < length) text += ` ${pick()}`;
  return text.slice(0, length);
}

/**
 * Where each delta of `text` ends (UTF-16 offsets, increasing, last === text.length). "word": each
 * delta is the leading whitespace plus one word, trailing whitespace joins the last delta. A number:
 * that many code points per delta, so a surrogate pair is never split. Empty text has no deltas.
 */
export function chunkEnds(text: string, chunk: 'word' | number): number[] {
  const ends: number[] = [];
  if (text === '') return ends;
  if (chunk === 'word') {
    const word = /\s*\S+/gu;
    while (word.exec(text) !== null) ends.push(word.lastIndex);
    if (ends.length === 0) ends.push(text.length);
    else ends[ends.length - 1] = text.length;
    return ends;
  }
  let i = 0;
  while (i < text.length) {
    for (let n = 0; n < chunk && i < text.length; n++) {
      const code = text.charCodeAt(i);
      i += code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
    }
    ends.push(i);
  }
  return ends;
}

/**
 * A deterministic answer that reads like a model's, in Markdown: a heading, then sections of a
 * paragraph, a list, a fenced code block and a table, until there are at least `tokens` words
 * (whitespace-separated pieces, so "word" chunks make about that many deltas). Always well-formed:
 * sections are whole, so a code fence is never left open.
 */
export function generateMarkdown(seed: number, tokens: number): string {
  if (tokens <= 0) return '';
  const random = createRandom(seed);
  const pick = (): string => WORDS[Math.floor(random() * WORDS.length)] ?? 'the';
  const words = (n: number) => Array.from({ length: n }, pick).join(' ');
  const title = (n: number) => words(n).replace(/\b\w/g, (c) => c.toUpperCase());
  const sentence = () => {
    const s = words(6 + Math.floor(random() * 8));
    return `${s.charAt(0).toUpperCase()}${s.slice(1)}.`;
  };
  const paragraph = (n: number) => Array.from({ length: n }, sentence).join(' ');
  const kinds = [
    () => `${paragraph(3)}\n\n`,
    () => `${Array.from({ length: 3 }, () => `- **${pick()}**: ${words(5)}`).join('\n')}\n\n`,
    () => {
      const name = pick();
      return `\`\`\`ts\nfunction ${name}(${pick()}: string): string {\n  return \`${words(3)}\`;\n}\n\`\`\`\n\n`;
    },
    () => {
      const row = () => `| ${pick()} | ${pick()} | ${Math.floor(random() * 100)} |`;
      return `| ${title(1)} | ${title(1)} | count |\n| --- | --- | --- |\n${row()}\n${row()}\n${row()}\n\n`;
    },
  ];
  let text = `## ${title(3)}\n\n${paragraph(2)}\n\n`;
  let section = 0;
  while (text.split(/\s+/).length < tokens) {
    if (section > 0 && section % kinds.length === 0) text += `### ${title(2)}\n\n`;
    text += kinds[section % kinds.length]?.() ?? '';
    section += 1;
  }
  return text.trimEnd();
}

/** A few fixed-size chunks of deterministic "thinking" text. */
export function thinkingChunks(seed: number, count: number): string[] {
  const random = createRandom(seed ^ 0x5eed);
  const chunks: string[] = [];
  for (let i = 0; i < count; i++) {
    const a = WORDS[Math.floor(random() * WORDS.length)] ?? 'the';
    const b = WORDS[Math.floor(random() * WORDS.length)] ?? 'the';
    chunks.push(i === 0 ? `Considering ${a} ${b}` : ` ${a} ${b}`);
  }
  return chunks;
}
