#!/usr/bin/env node
// Profile one micro-benchmark row (workloads 1–4) with V8's CPU profiler and
// print where the time goes, with WebAssembly functions named from the
// module's export section.
//
//   node bench/profile.mjs w1.ours.view.1k [--seconds 5] [--top 25]
//
// Writes bench/results/prof/<row>.cpuprofile (open it in Chrome DevTools →
// Performance, or speedscope) and prints self time by function and by file.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '5' }, top: { type: 'string', default: '25' }, child: { type: 'boolean', default: false } },
});
const id = positionals[0];
if (!id || !/^w[1-4]\./.test(id)) {
  console.error('usage: node bench/profile.mjs <row id of workloads 1–4, e.g. w1.ours.view.1k> [--seconds 5] [--top 25]');
  process.exit(2);
}

if (a.child) {
  // inside the profiled process: run the row's group in profiling mode
  const { loadImpl } = await import('./lib/impl.mjs');
  const { GROUPS, groupOf, microConfig } = await import('./lib/suite.mjs');
  const impl = await loadImpl('dist');
  const ctx = { impl, quick: false, coreName: impl.coreName, nodeName: impl.nodeName, coreLabel: 'wsframe', micro: { ...microConfig(false), profile: { id, seconds: Number(a.seconds) } } };
  const g = GROUPS.find((x) => x.name === groupOf(id));
  const rows = await g.run(ctx);
  const r = rows.find((x) => x.id === id);
  if (!r || !r.samples) { console.error(`no such row: ${id}`); process.exit(2); }
  console.log(`${id}: ${r.samples} iterations, median ${r.medianMs.toFixed(3)} ms (wall, under the profiler)`);
  fs.writeFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'prof', `${id}.window.json`), JSON.stringify(globalThis.__benchProfileWindow));
  process.exit(0);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(here, 'results', 'prof');
fs.mkdirSync(dir, { recursive: true });
const name = `${id}.cpuprofile`;
const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`, fileURLToPath(import.meta.url), id, '--child', '--seconds', a.seconds], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
let win = null;
try { win = JSON.parse(fs.readFileSync(path.join(dir, `${id}.window.json`), 'utf8')); } catch {}
console.log(summarize(path.join(dir, name), Number(a.top), win));

/** Names of exported WebAssembly functions by index, read from dist/wsframe.wasm. */
function wasmNames() {
  const names = new Map();
  let bin;
  try { bin = fs.readFileSync(path.join(here, '..', 'dist', 'wsframe.wasm')); } catch { return names; }
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

function summarize(file, top, win) {
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
