// Compares the two heap snapshots bench/probes/viewer-heap.ts wrote into /tmp/heap: bytes and objects per viewer by constructor.
// Run: node --max-old-space-size=4096 bench/probes/heap-diff.mjs <viewers>
import { readFileSync, readdirSync } from 'node:fs';
const files = readdirSync('/tmp/heap').filter((f) => f.endsWith('.heapsnapshot')).sort();
const sums = (f) => {
  const s = JSON.parse(readFileSync(`/tmp/heap/${f}`, 'utf8'));
  const fields = s.snapshot.meta.node_fields; const types = s.snapshot.meta.node_types[0];
  const nf = fields.length, iType = fields.indexOf('type'), iName = fields.indexOf('name'), iSize = fields.indexOf('self_size');
  const out = new Map(); let total = 0;
  for (let i = 0; i < s.nodes.length; i += nf) {
    const type = types[s.nodes[i + iType]]; const size = s.nodes[i + iSize]; total += size;
    let name = type === 'object' || type === 'closure' || type === 'native' ? `${type}:${s.strings[s.nodes[i + iName]]}` : type;
    if (name.length > 60) name = name.slice(0, 60);
    const e = out.get(name) ?? { n: 0, size: 0 }; e.n++; e.size += size; out.set(name, e);
  }
  return { out, total };
};
const a = sums(files[0]), b = sums(files[1]);
const N = Number(process.argv[2] ?? 2000);
console.log('total per viewer (B)', ((b.total - a.total) / N).toFixed(0));
const rows = [...b.out].map(([k, v]) => { const o = a.out.get(k) ?? { n: 0, size: 0 }; return [k, (v.n - o.n) / N, (v.size - o.size) / N]; }).sort((x, y) => y[2] - x[2]).slice(0, 30);
for (const [k, n, s] of rows) console.log(String(s.toFixed(0)).padStart(6), 'B', n.toFixed(2).padStart(6), 'per viewer', k);
