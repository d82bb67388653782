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
import { summarize } from './lib/cpuprofile.mjs';

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
