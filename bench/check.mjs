#!/usr/bin/env node
// Performance-regression gate.
//
//   npm run bench:check -- --baseline bench/baseline.json [--threshold 0.10]
//        [--current FILE] [--quick] [--remeasure 3] [--noisy-threshold 0.25]
//        [--min-delta 0.01] [--waive 3] [--json REPORT] [--no-remeasure] [--impl dist|auto|stub]
//
// Compares each gated row (wsframe's own rows; ws/uWS/memcpy rows are
// references) by its score — the ×memcpy ratio measured in the same run for
// workloads 1–4, the multiple of the message size for memory, CPU time relative
// to ws measured alongside for loopback and cold start — never by absolute time.
// A row whose score exceeds baseline × (1 + threshold) — and, for rows with a
// ws counterpart, whose time ÷ ws's time also does ("×ws", the second
// yardstick) — "looks regressed" and is re-measured up to N more times; the
// verdict uses the median of the fresh measurements (the flagged one is shown
// but not counted). Exit 0 = no regression, 1 = regression (or a gated row went
// missing), 2 = usage / run error.
//
// The comparison is a pure function (compareRows) plus gate(), which takes the
// re-measure step as a callback, so both are unit-tested with synthetic data
// (test/bench-check.test.mjs) without running a benchmark.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

// minDelta: an absolute floor on the score change (in score units: for ×memcpy
// 0.01 = 1% of one 4 MiB memcpy ≈ 3 µs here) below which nothing counts as a
// change, so sub-microsecond rows (header-only encodes) cannot flap the gate.
// waive: past waive × threshold the ×memcpy score alone is enough (no ×ws
// confirmation needed), so a noisy ws reference cannot mask a big regression.
export const DEFAULTS = { threshold: 0.10, noisyThreshold: 0.25, maxRemeasure: 3, minDelta: 0.01, waive: 3 };

export function medianOf(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length & 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Threshold for one row: rows flagged noisy (loopback, cold start) get the
 * looser one; a row may carry its own floor (`gateThreshold`, e.g. cold start,
 * whose CPU ratio moved ±35% between runs of the same build here).
 */
export function limitFor(row, { threshold = DEFAULTS.threshold, noisyThreshold = DEFAULTS.noisyThreshold } = {}) {
  const t = row?.noisy ? Math.max(threshold, noisyThreshold) : threshold;
  return Number.isFinite(row?.gateThreshold) ? Math.max(t, row.gateThreshold) : t;
}

/**
 * Pure, one pass: classify every gated baseline row against the current run.
 * verdict: 'ok' | 'improved' | 'suspect' (looks regressed, needs re-measuring)
 *        | 'missing' (gated in the baseline, absent or failed now) | 'new'.
 */
export function compareRows(baseline, current, opts = {}) {
  const cur = new Map((current.rows ?? []).map((r) => [r.id, r]));
  const base = new Map((baseline.rows ?? []).map((r) => [r.id, r]));
  const out = [];
  for (const b of baseline.rows ?? []) {
    if (!b.gated || !Number.isFinite(b.score)) continue;
    const c = cur.get(b.id);
    const limit = limitFor(b, opts);
    if (!c || !Number.isFinite(c.score)) {
      out.push({ id: b.id, label: b.label, baseline: b.score, scores: [], current: null, limit, verdict: 'missing' });
      continue;
    }
    const r = {
      id: b.id, label: c.label ?? b.label, limit,
      baseline: b.score, scores: [c.score], current: c.score, change: c.score / b.score - 1,
      // the second yardstick (×ws time ratio), when both runs have it
      baseline2: Number.isFinite(b.score2) && Number.isFinite(c.score2) ? b.score2 : null,
      scores2: Number.isFinite(b.score2) && Number.isFinite(c.score2) ? [c.score2] : null,
    };
    r.current2 = r.scores2 ? r.scores2[0] : null;
    r.change2 = r.scores2 ? r.current2 / r.baseline2 - 1 : null;
    const v = judge(r, r.current, r.current2, opts);
    r.verdict = v === 'bad' ? 'suspect' : v;
    out.push(r);
  }
  for (const c of current.rows ?? []) {
    if (c.gated && Number.isFinite(c.score) && !base.has(c.id)) {
      out.push({ id: c.id, label: c.label, baseline: null, scores: [c.score], current: c.score, change: null, limit: limitFor(c, opts), verdict: 'new' });
    }
  }
  return out;
}

/**
 * One verdict from a score (and, if the row has one, the second yardstick):
 * 'bad' when the score is past the limit (and past minDelta) AND the second
 * yardstick is also past the limit — a real regression of ours moves both, a
 * change of machine conditions rarely does — or when the score alone is past
 * `waive` × the limit (a noisy ws reference must not mask a large regression).
 * 'unconfirmed' when only the score is past the limit. 'improved' when the
 * score is better by more than the limit, else 'ok'.
 */
function judge(r, s, s2, opts) {
  const minDelta = opts.minDelta ?? DEFAULTS.minDelta;
  const waive = opts.waive ?? DEFAULTS.waive;
  const change = s / r.baseline - 1;
  const worse = change > r.limit && s - r.baseline > minDelta;
  if (worse) {
    if (r.baseline2 == null || !Number.isFinite(s2) || s2 / r.baseline2 - 1 > r.limit || change > waive * r.limit) return 'bad';
    return 'unconfirmed';
  }
  if (s / r.baseline - 1 < -r.limit && r.baseline - s > minDelta) return 'improved';
  return 'ok';
}

/**
 * The gate. `remeasure(ids)` → Promise<{ [id]: score | { score, score2 } }>
 * runs one fresh measurement of the given rows (the CLI re-runs them
 * in-process). Suspect rows are re-measured up to maxRemeasure times; the
 * verdict uses the median of the fresh measurements only — the first was
 * singled out because it was high, so counting it would bias the verdict
 * towards "regressed". A row stops being re-measured as soon as a majority of
 * the planned fresh measurements agree (e.g. 2 of 3), which cannot be
 * overturned.
 */
export async function gate({ baseline, current, remeasure = null, ...opts }) {
  const maxRemeasure = opts.maxRemeasure ?? DEFAULTS.maxRemeasure;
  const rows = compareRows(baseline, current, opts);
  const suspects = rows.filter((r) => r.verdict === 'suspect');
  let rounds = 0;
  if (suspects.length && remeasure && maxRemeasure > 0) {
    const need = Math.floor(maxRemeasure / 2) + 1; // majority of the planned re-measurements
    let open = suspects.slice();
    for (; rounds < maxRemeasure && open.length; rounds++) {
      const fresh = (await remeasure(open.map((r) => r.id))) ?? {};
      for (const r of open) {
        const f = fresh[r.id];
        const s = typeof f === 'object' && f !== null ? f.score : f;
        const s2 = typeof f === 'object' && f !== null ? f.score2 : undefined;
        if (Number.isFinite(s)) {
          r.scores.push(s);
          if (r.scores2) r.scores2.push(Number.isFinite(s2) ? s2 : NaN);
        }
      }
      open = open.filter((r) => {
        const n = r.scores.length - 1;
        let nBad = 0;
        for (let i = 1; i <= n; i++) if (judge(r, r.scores[i], r.scores2?.[i], opts) === 'bad') nBad++;
        return nBad < need && n - nBad < need;
      });
    }
  }
  for (const r of suspects) {
    const fresh = r.scores.slice(1);
    r.remeasured = fresh.length;
    r.current = fresh.length ? medianOf(fresh) : r.scores[0];
    r.change = r.current / r.baseline - 1;
    if (r.scores2) {
      const f2 = r.scores2.slice(1).filter(Number.isFinite);
      r.current2 = f2.length ? medianOf(f2) : r.scores2[0];
      r.change2 = r.current2 / r.baseline2 - 1;
    }
    const v = judge(r, r.current, r.current2, opts);
    r.verdict = v === 'bad' ? 'regressed' : v === 'ok' || v === 'unconfirmed' ? 'noise' : v;
  }
  const failed = rows.filter((r) => r.verdict === 'regressed' || r.verdict === 'missing');
  const warnings = [];
  if (baseline.impl?.core && current.impl?.core && baseline.impl.core !== current.impl.core) {
    warnings.push(`baseline measured core=${baseline.impl.core}, this run core=${current.impl.core}: ratios are not comparable`);
  }
  if ((baseline.clock ?? 'cpu') !== (current.clock ?? 'cpu')) warnings.push(`baseline clock=${baseline.clock}, this run clock=${current.clock}`);
  if (!!baseline.quick !== !!current.quick) warnings.push(`baseline quick=${!!baseline.quick}, this run quick=${!!current.quick}`);
  return { ok: failed.length === 0, rows, failed: failed.map((r) => r.id), remeasureRounds: rounds, warnings };
}

export function formatReport(result) {
  const lines = [];
  const w = Math.max(10, ...result.rows.map((r) => r.id.length));
  const pct = (x) => (x == null || !Number.isFinite(x) ? '' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`);
  lines.push(`${'row'.padEnd(w)}  ${'baseline'.padStart(9)}  ${'current'.padStart(9)}  ${'change'.padStart(8)}  ${'×ws chg'.padStart(8)}  ${'limit'.padStart(6)}  verdict`);
  for (const r of result.rows) {
    const f = (x) => (x == null ? '—' : x.toFixed(3));
    const extra = r.remeasured ? ` (first ${r.scores[0].toFixed(3)}; median of ${r.remeasured} re-measurements: ${r.scores.slice(1).map((s) => s.toFixed(3)).join(', ')})` : '';
    const verdict = r.verdict === 'unconfirmed' ? 'ok (×memcpy worse, ×ws not: machine, not code)' : r.verdict;
    lines.push(`${r.id.padEnd(w)}  ${f(r.baseline).padStart(9)}  ${f(r.current).padStart(9)}  ${pct(r.change).padStart(8)}  ${pct(r.change2).padStart(8)}  ${`±${Math.round(r.limit * 100)}%`.padStart(6)}  ${verdict}${extra}`);
  }
  for (const x of result.warnings) lines.push(`warning: ${x}`);
  lines.push(result.ok ? 'bench:check: OK — no row regressed past its threshold' : `bench:check: FAIL — ${result.failed.join(', ')}`);
  return lines.join('\n');
}

// ---------------------------------------------------------------- CLI

async function main() {
  const { values: a } = parseArgs({
    options: {
      baseline: { type: 'string', default: 'bench/baseline.json' },
      current: { type: 'string' },
      threshold: { type: 'string', default: String(DEFAULTS.threshold) },
      'noisy-threshold': { type: 'string', default: String(DEFAULTS.noisyThreshold) },
      'min-delta': { type: 'string', default: String(DEFAULTS.minDelta) },
      waive: { type: 'string', default: String(DEFAULTS.waive) },
      remeasure: { type: 'string', default: String(DEFAULTS.maxRemeasure) },
      'no-remeasure': { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      clock: { type: 'string' },
      impl: { type: 'string', default: process.env.WSFRAME_BENCH_IMPL || 'dist' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (a.help) {
    console.log('usage: node bench/check.mjs --baseline FILE [--threshold 0.10] [--noisy-threshold 0.25] [--min-delta 0.01] [--waive 3] [--current FILE] [--quick] [--clock cpu|wall] [--remeasure N | --no-remeasure] [--impl dist|auto|stub] [--json REPORT]');
    return 0;
  }
  const threshold = Number(a.threshold), noisyThreshold = Number(a['noisy-threshold']), minDelta = Number(a['min-delta']), waive = Number(a.waive);
  const maxRemeasure = a['no-remeasure'] ? 0 : Number(a.remeasure);
  if (!(threshold >= 0) || !(noisyThreshold >= 0) || !(minDelta >= 0) || !(waive >= 1) || !(maxRemeasure >= 0)) { console.error('bad --threshold / --noisy-threshold / --min-delta / --waive / --remeasure'); return 2; }
  let baseline;
  try { baseline = JSON.parse(fs.readFileSync(a.baseline, 'utf8')); } catch (e) { console.error(`cannot read baseline ${a.baseline}: ${e.message}`); return 2; }

  const { runSuite, groupOf, formatTable } = await import('./lib/suite.mjs');
  const quick = a.quick || !!baseline.quick; // measure in the baseline's mode
  let current;
  if (a.current) current = JSON.parse(fs.readFileSync(a.current, 'utf8'));
  else {
    // Only the groups the baseline gates: informational groups (7, 8) take
    // minutes and decide nothing here.
    const gatedGroups = [...new Set((baseline.rows ?? []).filter((r) => r.gated).map((r) => groupOf(r.id)))];
    current = await runSuite({ ...(gatedGroups.length > 0 ? { groups: gatedGroups } : {}), quick, clock: a.clock ?? baseline.clock ?? 'cpu', impl: a.impl, benny: false });
    console.log(formatTable(current));
    console.log('');
  }
  const remeasure = async (ids) => {
    const groups = [...new Set(ids.map(groupOf))];
    // the ws counterparts too, for the second yardstick
    const build = new Set(ids);
    for (const id of ids) { const vs = current.rows.find((r) => r.id === id)?.vs; if (vs) build.add(vs); }
    process.stderr.write(`re-measuring ${ids.join(', ')} (groups ${groups.join(', ')})\n`);
    // workloads 1–4 re-run only the suspect rows and the memcpy calibrator;
    // loopback and cold start re-run whole (their scores need the ws rows)
    const doc = await runSuite({ groups, onlyIds: [...build], quick: current.quick ?? quick, clock: current.clock ?? 'cpu', impl: a.impl, benny: false });
    return Object.fromEntries(doc.rows.filter((r) => ids.includes(r.id)).map((r) => [r.id, { score: r.score, score2: r.score2 }]));
  };
  const result = await gate({ baseline, current, remeasure, threshold, noisyThreshold, minDelta, waive, maxRemeasure });
  console.log(formatReport(result));
  if (a.json) {
    fs.mkdirSync(path.dirname(path.resolve(a.json)), { recursive: true });
    fs.writeFileSync(a.json, JSON.stringify({ ...result, baseline: a.baseline, date: new Date().toISOString(), current }, null, 2) + '\n');
  }
  return result.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().then((code) => { process.exitCode = code; }, (e) => { console.error(e?.stack || e); process.exitCode = 2; });
}
