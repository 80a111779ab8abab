import { readFileSync } from 'node:fs';

/**
 * Summarises a sampling heap profile (from alloc-sampler.mjs): bytes allocated by self frame, and by
 * area (package, src/ folder, node internals). Usage: npx tsx bench/probes/alloc-summary.ts <file> [top]
 */
interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const [file, topArg] = process.argv.slice(2);
if (file === undefined) throw new Error('usage: alloc-summary.ts <file.heapprofile> [top]');
const { head } = JSON.parse(readFileSync(file, 'utf8')) as { head: Node };
const bySelf = new Map<string, number>();
const byArea = new Map<string, number>();
// The nearest frame of ours or of a package on the stack, for allocations in builtins.
const byOwner = new Map<string, number>();
let total = 0;
const areaOf = (url: string, fn: string): string => {
  if (url === '') return `native ${fn === '' ? '(anonymous)' : fn}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1] ?? url;
  const own = /(?:^|\/)(src\/[^/]+\/[^/]+|bench)/.exec(url);
  if (own !== null) return own[1] ?? url;
  return url.replace(/^node:internal\//, 'node:');
};
const walk = (n: Node, owner: string) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const area = areaOf(url, functionName);
  const mine = url !== '' && !url.startsWith('node:') ? `${functionName || '(anonymous)'} ${area}:${lineNumber + 1}` : owner;
  if (n.selfSize > 0) {
    total += n.selfSize;
    const key = `${functionName || '(anonymous)'}  ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/src\//, 'src/')}:${lineNumber + 1}`;
    bySelf.set(key, (bySelf.get(key) ?? 0) + n.selfSize);
    byArea.set(area, (byArea.get(area) ?? 0) + n.selfSize);
    byOwner.set(mine, (byOwner.get(mine) ?? 0) + n.selfSize);
  }
  for (const c of n.children) walk(c, mine);
};
walk(head, '(root)');
const top = Number(topArg ?? 25);
const show = (title: string, m: Map<string, number>) => {
  console.log(`${title}:`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * v) / total).toFixed(1).padStart(6)}%  ${(v / 1e6).toFixed(1).padStart(8)} MB  ${k}`);
  }
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} MB sampled`);
show('by allocating frame', bySelf);
show('by area', byArea);
show('by the nearest frame of ours or of a package', byOwner);
