import { configTable, otherVariables, type ConfigVariable } from '../src/shared/config-table.js';

/**
 * The configuration's documentation, written from `configTable`: the README's table (between
 * {@link readmeStart} and {@link readmeEnd}) and `.env.example`. `npm run docs:config` writes both;
 * test/config.docs-drift.test.ts fails when the files differ from what these functions give.
 */

/** The marker line before the generated README table. */
export const readmeStart = '<!-- config:start -->';
/** The marker line after it. */
export const readmeEnd = '<!-- config:end -->';

const entries = Object.values(configTable) as readonly ConfigVariable<unknown, unknown>[];

/** The default as the variable's text; `undefined` when the variable has none (stays unset). */
function defaultValue(v: ConfigVariable<unknown, unknown>): string | undefined {
  return v.default === undefined ? undefined : v.parser.format(v.default);
}

const cell = (s: string): string => s.replaceAll('|', '\\|');

/** The README's configuration tables, markers included. */
export function renderReadmeTable(): string {
  const lines = [
    readmeStart,
    '<!-- written by `npm run docs:config` from src/shared/config-table.ts: edit the table there -->',
    '',
    '| variable | default | unit | accepts | meaning |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const v of entries) {
    const value = defaultValue(v);
    const shown = v.defaultText ?? (value === undefined ? 'none' : `\`${value}\``);
    lines.push(`| \`${v.name}\` | ${cell(shown)} | ${v.unit ?? ''} | ${cell(v.parser.accepts)} | ${cell(v.description)} |`);
  }
  lines.push('', 'Read elsewhere (not by the service\'s configuration):', '', '| variable | read by | meaning |', '| --- | --- | --- |');
  for (const o of otherVariables) lines.push(`| \`${o.name}\` | ${o.readBy} | ${cell(o.description)} |`);
  lines.push(readmeEnd);
  return lines.join('\n');
}

/** `readme` with the text between the markers (markers included) replaced by {@link renderReadmeTable}. */
export function withReadmeTable(readme: string): string {
  const start = readme.indexOf(readmeStart);
  const end = readme.indexOf(readmeEnd);
  if (start < 0 || end < start) throw new Error(`README.md lacks the ${readmeStart} … ${readmeEnd} markers`);
  return readme.slice(0, start) + renderReadmeTable() + readme.slice(end + readmeEnd.length);
}

/** Comment lines of at most `width` characters, `# ` in front. */
function comment(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > width && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/** The whole of `.env.example`. */
export function renderEnvExample(): string {
  const lines = [
    '# genrelay configuration: copy to .env and edit. Every variable is optional unless noted; the value',
    '# shown is the default. Those without a default are commented out. (docker-compose.yml fixes HOST and',
    '# REDIS_URL.) Written by `npm run docs:config` from src/shared/config-table.ts: edit the table there.',
  ];
  for (const v of entries) {
    const value = defaultValue(v);
    lines.push('', ...comment(v.unit === undefined ? v.description : `${v.description} (${v.unit})`));
    lines.push(value === undefined ? `# ${v.name}=${v.example ?? ''}` : `${v.name}=${value}`);
  }
  return `${lines.join('\n')}\n`;
}
