// Summarises a V8 .cpuprofile: self time by function and by file, with
// WebAssembly functions named from the module's export section.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Names of exported WebAssembly functions by index, read from dist/wsframe.wasm. */
function wasmNames() {
  const names = new Map();
  let bin;
  try { bin = fs.readFileSync(path.join(here, '..', '..', 'dist', 'wsframe.wasm')); } catch { return names; }
  let p = 8;
  const leb = () => { let x = 0, s = 0, b; do { b = bin[p++]; x |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return x >>> 0; };
  let imported = 0;
  while (p < bin.length) {
    const id = bin[p++]; const size = leb(); const end = p + size;
    if (id === 2) { // imports: count function imports (they take the first indices)
      for (let n = leb(); n > 0; n--) {
        p += leb(); p += leb(); // module, field
        const kind = bin[p++];
        if (kind === 0) { leb(); imported++; } else if (kind === 1) { p++; const f = leb(); leb(); if (f & 1) leb(); } else if (kind === 2) { const f = leb(); leb(); if (f & 1) leb(); } else if (kind === 3) { p += 2; }
      }
    } else if (id === 7) { // exports
      for (let n = leb(); n > 0; n--) {
        const len = leb(); const nm = bin.subarray(p, p + len).toString(); p += len;
        const kind = bin[p++]; const idx = leb();
        if (kind === 0) names.set(idx, nm);
      }
    }
    p = end;
  }
  names.imported = imported;
  return names;
}

export function summarize(file, top, win) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const wn = wasmNames();
  const dt = new Map();
  let ts = prof.startTime;
  for (let i = 0; i < prof.samples.length; i++) {
    ts += prof.timeDeltas[i] ?? 0;
    if (win && (ts < win[0] || ts > win[1])) continue; // only the timed loop, not the group's setup
    dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const byFn = new Map(), byFile = new Map();
  let total = 0;
  for (const [nid, t] of dt) {
    const cf = nodes.get(nid).callFrame;
    const m = /^wasm-function\[(\d+)\]$/.exec(cf.functionName);
    const wasmName = m && wn.get(Number(m[1])) ? `wasm:${wn.get(Number(m[1]))}` : null;
    const short = cf.url.replace(/^.*\/(dist|bench|node_modules)\//, '$1/').replace(/^node:internal\//, '');
    const fnKey = wasmName ?? `${cf.functionName || '(anonymous)'} ${short}${cf.url ? ':' + (cf.lineNumber + 1) : ''}`;
    const fileKey = cf.url.startsWith('wasm://') ? 'wasm' : short || cf.functionName;
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + t);
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + t);
    total += t;
  }
  const fmt = (m, n) => [...m].sort((x, y) => y[1] - x[1]).slice(0, n)
    .map(([k, t]) => `${(t / 1000).toFixed(0).padStart(7)} ms ${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`).join('\n');
  return `\n${file}\ntotal ${(total / 1000).toFixed(0)} ms sampled ${win ? 'in the loop (setup excluded; the beforeEach input restore is included)' : '(whole process: loop window not found)'}\n-- self time by function\n${fmt(byFn, top)}\n-- self time by file\n${fmt(byFile, 12)}\n(TypedArray#set/slice copies are inlined builtins: they show as self time of their caller)`;
}
