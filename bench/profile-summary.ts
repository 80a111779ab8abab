import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

/** One function's share of a CPU profile. */
export interface ProfileEntry {
  readonly function: string;
  /** `file:line` (repository-relative where possible). */
  readonly where: string;
  readonly selfMs: number;
  /** Self time as % of the profile's non-idle time. */
  readonly selfPercent: number;
}

/** The top self-time functions of a profile. */
export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly idleMs: number;
  readonly top: readonly ProfileEntry[];
  /** Self time by area: a package, a src/ folder, a node: subsystem, GC, or native code; % of busy. */
  readonly byArea: readonly { readonly area: string; readonly selfPercent: number }[];
}

/** The area a frame belongs to, from its script URL. */
function areaOf(fn: string, url: string): string {
  if (url === '') return fn.startsWith('(') ? fn : 'native (syscalls, V8 builtins)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1] ?? url;
  const own = /(?:^|\/)(src\/[^/]+|bench)\//.exec(url);
  if (own !== null) return own[1] ?? url;
  const node = /^node:internal\/(?:deps\/)?([^/:]+)/.exec(url);
  return node !== null ? `node:${node[1]}` : url;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Reads a `.cpuprofile` (node `--cpu-prof`) and sums self time per function (same name, file and
 * line), from the sample time deltas; `(idle)` is left out of the percentages.
 */
export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame] as const));
  const selfUs = new Map<string, { fn: string; where: string; us: number }>();
  const areaUs = new Map<string, number>();
  let idleUs = 0;
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id);
    if (frame === undefined) return;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      return;
    }
    const url = frame.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/|src\/|bench\/)/, '$1');
    const where = url === '' ? '' : `${url}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName}@${where}`;
    const area = areaOf(frame.functionName, url);
    areaUs.set(area, (areaUs.get(area) ?? 0) + us);
    const entry = selfUs.get(key) ?? { fn: frame.functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
  });
  const busy = Math.max(1, totalUs - idleUs);
  const entries = [...selfUs.values()].sort((a, b) => b.us - a.us).slice(0, top);
  return {
    file: `${basename(dirname(file))}/${basename(file)}`,
    totalMs: Math.round(totalUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    top: entries.map((e) => ({ function: e.fn, where: e.where, selfMs: Math.round(e.us / 100) / 10, selfPercent: Math.round((e.us / busy) * 1000) / 10 })),
    byArea: [...areaUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10)
      .map(([area, us]) => ({ area, selfPercent: Math.round((us / busy) * 1000) / 10 })),
  };
}

/** Human-readable lines for a summary. */
export function formatProfile(s: ProfileSummary): string {
  const lines = [`${s.file}: ${s.totalMs} ms sampled, ${s.idleMs} ms idle; top self time (% of busy):`];
  for (const e of s.top) lines.push(`  ${e.selfPercent.toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(1).padStart(9)} ms  ${e.function}  ${e.where}`);
  lines.push(`  by area: ${s.byArea.map((a) => `${a.area} ${a.selfPercent}%`).join(', ')}`);
  return lines.join('\n');
}

// `tsx bench/profile-summary.ts <file.cpuprofile> [top]`
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [top]');
    process.exit(2);
  }
  console.log(formatProfile(summarizeProfile(file, Number(top ?? 15))));
}
