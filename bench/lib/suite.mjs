// The whole suite: group registry, derived columns (×memcpy, ×ws, MB/s,
// msg/s), target evaluation, the printed table and the JSON document.
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { loadImpl } from './impl.mjs';
import { w1, w2, w3, w4 } from './micro.mjs';
import { w5 } from './loopback.mjs';
import { wsNoBufferutilRows, w6mem, w6cold } from './process-rows.mjs';
import { runBenny } from './benny-suites.mjs';
import { w7 } from './deflate.mjs';
import { w8 } from './ws-api.mjs';
import { w9 } from './every-core.mjs';
import { fullGc } from './measure.mjs';

const require = createRequire(import.meta.url);
export const SCHEMA = 'wsframe-bench/1';

export const GROUPS = [
  { name: 'w1', title: '1 decode reference case', run: w1 },
  { name: 'w1-nobu', title: 'ws without bufferutil (child process)', run: wsNoBufferutilRows },
  { name: 'w2', title: '2 decode UTF-8 text', run: w2 },
  { name: 'w3', title: '3 decode small frames', run: w3 },
  { name: 'w4', title: '4 encode', run: w4 },
  { name: 'w5', title: '5 loopback echo', run: w5 },
  { name: 'w6-mem', title: '6 memory', run: w6mem },
  { name: 'w6-cold', title: '6 cold start', run: w6cold },
  { name: 'w7', title: '7 permessage-deflate (informational, not gated)', run: w7 },
  { name: 'w8', title: '8 wsframe/ws and socket.io (informational, not gated)', run: w8 },
  { name: 'w9', title: '9 every core: 1 and N workers, 100 clients, beside uWS', run: w9 },
];

/** Which groups produce a given row id (for --only and re-measurement). */
export function groupOf(id) {
  if (id.startsWith('w1.ws-nobu') || id.startsWith('w4.ws-nobu')) return 'w1-nobu';
  if (id.startsWith('w6.mem')) return 'w6-mem';
  if (id.startsWith('w6.cold')) return 'w6-cold';
  return id.split('.')[0];
}

export function microConfig(quick, clock = 'cpu') {
  return quick
    ? { rounds: 2, time: 80, minIterations: 3, warmupTime: 60, clock }
    : { rounds: 3, time: 200, minIterations: 5, warmupTime: 120, clock };
}

/** HEAD of the checkout and when dist/ was built, if known (read-only). */
function buildInfo() {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  let commit = null, distBuilt = null;
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch {}
  try { distBuilt = fs.statSync(path.join(root, 'dist', 'index.js')).mtime.toISOString(); } catch {}
  return { commit, distBuilt };
}

function versionOf(name) {
  try { return require(`${name}/package.json`).version; } catch { return null; }
}

export async function runSuite({ groups = null, onlyIds = null, quick = false, clock = 'cpu', impl: which = process.env.WSFRAME_BENCH_IMPL || 'auto', benny = true, log = (s) => process.stderr.write(s + '\n') } = {}) {
  if (clock !== 'cpu' && clock !== 'wall') throw new Error(`--clock must be cpu or wall, not ${clock}`);
  const impl = await loadImpl(which);
  process.env.WSFRAME_BENCH_IMPL = which;
  const ctx = {
    impl, quick, micro: microConfig(quick, clock),
    coreName: impl.coreName, nodeName: impl.nodeName,
    coreLabel: impl.coreName === 'stub' ? 'STUB' : 'wsframe',
    onlyIds: onlyIds ? new Set(onlyIds) : null, // workloads 1–4 build only these rows (+ memcpy)
  };
  if (impl.coreName === 'stub') log(which === 'stub' ? '!! --impl stub: "ours" rows use the JS stand-in and are labelled STUB' : `!! wsframe core not loadable (${impl.loadError ?? 'exports missing'}); "ours" rows use the JS stand-in and are labelled STUB`);
  else if (impl.nodeName === 'stub') log('!! wsframe Node adapter (accept/connect) not exported yet; loopback rows use the ws-based stand-in');
  const selected = GROUPS.filter((g) => !groups || groups.includes(g.name));
  const rows = [];
  const t0 = Date.now();
  for (const g of selected) {
    const tg = Date.now();
    log(`-- ${g.title} ...`);
    fullGc();
    try {
      rows.push(...await g.run(ctx));
    } catch (e) {
      log(`!! group ${g.name} failed: ${e.stack || e}`);
      rows.push({ id: `${g.name}.error`, group: g.name, label: `${g.title}: FAILED`, error: String(e.message || e), targets: [], gated: false });
    }
    log(`   ${((Date.now() - tg) / 1000).toFixed(1)} s`);
  }
  let charts = [];
  if (benny && !groups) {
    log('-- benny charts ...');
    try { charts = await runBenny(ctx); } catch (e) { log(`!! benny failed: ${e.stack || e}`); }
  }
  finalize(rows);
  const notes = [];
  if (typeof require('node:buffer').isUtf8 === 'function') {
    notes.push('WS_NO_UTF_8_VALIDATE is a no-op here: on Node ≥ 18.14 ws validates UTF-8 with buffer.isUtf8 and never loads utf-8-validate, so no separate row.');
  }
  const memcpyRow = rows.find((r) => r.id === 'w1.memcpy');
  return {
    schema: SCHEMA,
    date: new Date().toISOString(),
    quick,
    clock,
    durationS: Math.round((Date.now() - t0) / 100) / 10,
    machine: {
      cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version,
      platform: `${process.platform}-${process.arch}`, loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    },
    impl: {
      core: impl.coreName, node: impl.nodeName, loadError: impl.loadError,
      wsframe: versionOf('wsframe'), ...buildInfo(), ws: versionOf('ws'), uws: versionOf('@trufflesuite/uws-js-unofficial'),
    },
    memcpyMs: memcpyRow?.medianMs ?? null,
    charts,
    notes,
    rows,
  };
}

/** Fill in derived columns, the gate score and target verdicts. */
export function finalize(rows) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const r of rows) {
    if (r.error) { r.status = 'error'; continue; }
    if (r.meanMs != null && r.medianMs > 0 && r.meanMs > 1.5 * r.medianMs) {
      r.note = [r.note, `mean ${(r.meanMs / r.medianMs).toFixed(1)}× the median: GC / page-fault tail`].filter(Boolean).join('; ');
    }
    if (r.kind !== 'mem' && r.medianMs != null) {
      if (r.memcpyMs) r.xMemcpy = r.medianMs / r.memcpyMs;
      if (r.bytes && r.kind !== 'cold') r.mbps = r.bytes / r.medianMs / 1e3;
      if (r.messages > 1) r.msgsPerSec = r.messages / (r.medianMs / 1e3);
      const vs = r.vs && byId.get(r.vs);
      if (vs?.medianMs) r.speedup = vs.medianMs / r.medianMs;
    }
    if (r.kind === 'mem' && r.vs == null) {
      const ws = byId.get('w6.mem.ws');
      if (r.id !== 'w6.mem.ws' && ws) r.wsValue = ws.value;
    }
    // gate metric, lower is better: ×memcpy for workloads 1–4; the multiple of
    // the message for memory; loopback and cold start set their own (CPU time
    // relative to the ws reference measured alongside — see their modules)
    if (r.score == null) {
      r.score = r.kind === 'mem' ? r.value : r.xMemcpy;
      r.scoreBasis = r.kind === 'mem' ? '×message' : '×memcpy';
      // second yardstick for rows with a ws counterpart: our time ÷ ws's time in
      // the same run. The gate needs both to worsen before it calls a
      // regression (bench/check.mjs): the machine's mood moves one or the other
      // — compute-bound rows follow the CPU, the calibrator follows memory
      // traffic — while a real regression of ours moves both.
      const vs = r.vs && byId.get(r.vs);
      if (r.kind !== 'mem' && vs?.medianMs && r.medianMs) { r.score2 = r.medianMs / vs.medianMs; r.score2Basis = `÷ ${r.vs}`; }
    }
    const checks = (r.targets ?? []).map((t) => evalTarget(r, t));
    r.target = checks.map((c) => c.text).join(' & ') || undefined;
    r.status = checks.length ? (checks.every((c) => c.ok) ? 'pass' : 'MISS') : undefined;
  }
  return rows;
}

export function evalTarget(r, t) {
  if ('xMemcpy' in t) return { text: `≤${t.xMemcpy}×mc`, ok: r.xMemcpy <= t.xMemcpy };
  if ('speedup' in t) return { text: `≥${t.speedup}×${r.vsLabel ?? 'ws'}`, ok: r.speedup >= t.speedup };
  if ('memRatio' in t) return { text: `≤${t.memRatio}×msg`, ok: r.value <= t.memRatio };
  if ('maxMs' in t) return { text: `≤${t.maxMs} ms`, ok: r.medianMs <= t.maxMs };
  throw new Error(`unknown target ${JSON.stringify(t)}`);
}

// ---------------------------------------------------------------- table

function fmtMs(ms) {
  if (ms == null || Number.isNaN(ms)) return '';
  if (ms < 0.001) return `${(ms * 1e6).toFixed(0)} ns`;
  if (ms < 1) return `${(ms * 1000).toFixed(0)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(0)} ms`;
}
const fmtX = (x, d = 2) => (x == null || !Number.isFinite(x) ? '' : `${x < 0.1 ? x.toPrecision(2) : x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : d)}×`);
const fmtN = (x) => (x == null ? '' : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(0)} k` : x.toFixed(0));

export function formatTable(doc) {
  const head = ['id', 'row', 'median', 'MB/s', 'msg/s', '×memcpy', '×ws', 'target', 'result'];
  const lines = [];
  let lastGroup = null;
  const body = [];
  for (const r of doc.rows) {
    const g = r.group?.replace(/-.*/, '');
    if (lastGroup && g !== lastGroup) body.push(null);
    lastGroup = g;
    const median = r.kind === 'mem' ? `${r.value.toFixed(2)}×msg` : fmtMs(r.medianMs);
    const xws = r.kind === 'mem' ? (r.wsValue != null ? `ws ${r.wsValue.toFixed(2)}×msg` : '') : r.speedup != null ? fmtX(r.speedup) : '';
    body.push([
      r.id, r.label + (r.note || r.error ? ' ¹' : ''), median,
      r.mbps == null ? '' : r.mbps >= 1e6 ? r.mbps.toExponential(1) : r.mbps.toFixed(0), fmtN(r.msgsPerSec), r.kind === 'mem' ? '' : fmtX(r.xMemcpy), xws, r.target ?? '', r.status ?? '',
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.filter(Boolean).map((b) => (i === 1 ? Math.min(b[i].length, 72) : b[i].length))));
  const right = new Set([2, 3, 4, 5, 6]);
  const fmt = (cells) => cells.map((c, i) => {
    let s = String(c);
    if (i === 1 && s.length > widths[1]) s = s.slice(0, widths[1] - 1) + '…';
    return right.has(i) ? s.padStart(widths[i]) : s.padEnd(widths[i]);
  }).join('  ').trimEnd();
  lines.push(fmt(head));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) lines.push(b ? fmt(b) : '');
  const m = doc.machine;
  const notes = doc.rows.filter((r) => r.note || r.error);
  if (notes.length) {
    lines.push('');
    lines.push('¹ notes');
    const w = Math.max(...notes.map((r) => r.id.length));
    for (const r of notes) lines.push(`  ${r.id.padEnd(w)}  ${[r.note, r.error].filter(Boolean).join('; ')}`);
  }
  lines.push('');
  lines.push(`${doc.date}  ${m.cpus} cores ${m.model}  node ${m.node}  load ${m.loadavg.join(' ')}  core=${doc.impl.core} adapter=${doc.impl.node}${doc.impl.commit ? ` @${doc.impl.commit}` : ''}  ws ${doc.impl.ws}  uWS ${doc.impl.uws}${doc.quick ? '  --quick' : ''}${doc.runs ? `  median of ${doc.runs} runs per row` : ''}  (${doc.durationS} s)`);
  lines.push(`medians; workloads 1–4 timed by ${doc.clock === 'wall' ? 'wall clock' : 'process CPU time (user+sys; --clock wall for wall time)'}, 5 and cold start by wall clock.`);
  lines.push('×memcpy = median ÷ median of a DRAM-bound 4 MiB Uint8Array#set measured interleaved in the same group (lower is better); ×ws = ws median ÷ ours (higher is better).');
  for (const n of doc.notes ?? []) lines.push(n);
  const misses = doc.rows.filter((r) => r.status === 'MISS');
  lines.push(`targets: ${doc.rows.filter((r) => r.status === 'pass').length} pass, ${misses.length} miss${misses.length ? ` (${misses.map((r) => r.id).join(', ')})` : ''}${doc.impl.core === 'stub' ? '  — STUB core: numbers say nothing about wsframe' : ''}`);
  return lines.join('\n');
}

/**
 * --runs N: N whole runs merged row by row — each row is taken whole from the
 * run whose score for it is the median one (so the displayed fields come from
 * one consistent measurement), except the second yardstick (score2), which
 * takes its own median. Used to make baselines that are not one run's luck.
 */
export function mergeRuns(docs) {
  const last = docs[docs.length - 1];
  const rows = last.rows.map((r) => {
    const versions = docs.map((d) => d.rows.find((x) => x.id === r.id)).filter(Boolean);
    const scored = versions.filter((v) => Number.isFinite(v.score)).sort((a, b) => a.score - b.score);
    if (!scored.length) return r;
    const pick = { ...scored[(scored.length - 1) >> 1] };
    pick.runs = versions.length;
    pick.scoreRange = [scored[0].score, scored[scored.length - 1].score];
    // the second yardstick gets its own median (the run with the median score
    // may have had an outlying ws measurement)
    const s2 = versions.map((v) => v.score2).filter(Number.isFinite).sort((a, b) => a - b);
    if (s2.length) { pick.score2 = s2[(s2.length - 1) >> 1]; pick.score2Range = [s2[0], s2[s2.length - 1]]; }
    return pick;
  });
  const memcpyRow = rows.find((r) => r.id === 'w1.memcpy');
  return { ...last, runs: docs.length, durationS: docs.reduce((t, d) => t + d.durationS, 0), memcpyMs: memcpyRow?.medianMs ?? last.memcpyMs, rows };
}
