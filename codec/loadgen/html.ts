// --html: one self-contained page (inline SVG, inline CSS, no script, nothing
// fetched) with, per workload, the latency distribution (percentile curve,
// HdrHistogram style) and the throughput over time of every server measured.
import type { JsonDocument, Row } from './report.js';
import { fmt } from './report.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];
const W = 640, H = 300, L = 56, R = 30, T = 28, B = 44;

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Series { name: string; points: Array<[number, number]> }
interface Tick { at: number; label: string }

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten, at least `max`. */
function niceMax(max: number): number {
  if (!(max > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * p >= max) return m * p;
  return 10 * p;
}

/** Axis labels: 1.5k, 2M, 0.05. */
function short(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${fmt(v / 1e6)}M`;
  if (a >= 1e4) return `${fmt(v / 1e3)}k`;
  return fmt(v);
}

/** Powers of ten (and 2, 5 times them) spanning [lo, hi], for a log axis. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  // 1-2-5 steps when the axis spans few decades, powers of ten only otherwise.
  const steps = Math.log10(hi / lo) <= 3 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); 10 ** e <= hi * 1.0001; e++) {
    for (const m of steps) { const v = m * 10 ** e; if (v >= lo * 0.9999 && v <= hi * 1.0001) out.push(v); }
  }
  return out;
}

function lineChart(title: string, xLabel: string, yLabel: string, series: Series[], xTicks: Tick[], xMax: number, logY = false): string {
  const values = series.flatMap((s) => s.points.map((p) => p[1]));
  const yMax = niceMax(Math.max(0, ...values));
  // Log axis (latency): from the power of ten below the smallest value to the one above the largest.
  const yLo = logY ? 10 ** Math.floor(Math.log10(Math.max(1e-3, Math.min(...values.filter((v) => v > 0), yMax)))) : 0;
  const yHi = logY ? 10 ** Math.ceil(Math.log10(Math.max(yLo * 10, ...values))) : yMax;
  const x = (v: number) => L + (v / (xMax || 1)) * (W - L - R);
  const y = logY
    ? (v: number) => H - B - ((Math.log10(Math.max(v, yLo)) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * (H - T - B)
    : (v: number) => H - B - (v / yMax) * (H - T - B);
  const yTicks = logY ? logTicks(yLo, yHi) : [0, 1, 2, 3, 4, 5].map((i) => (yMax * i) / 5);
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="16" text-anchor="middle" class="title">${esc(title)}</text>`);
  for (const v of yTicks) {
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`);
    parts.push(`<text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${short(v)}</text>`);
  }
  for (const t of xTicks) {
    parts.push(`<line x1="${x(t.at)}" x2="${x(t.at)}" y1="${T}" y2="${H - B}" class="grid"/>`);
    parts.push(`<text x="${x(t.at)}" y="${H - B + 16}" text-anchor="middle">${esc(t.label)}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>`);
  parts.push(`<text x="12" y="${H / 2}" text-anchor="middle" transform="rotate(-90 12 ${H / 2})">${esc(yLabel)}</text>`);
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" class="frame"/>`);
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    if (s.points.length === 1) parts.push(`<circle cx="${x(s.points[0]![0])}" cy="${y(s.points[0]![1])}" r="3" fill="${color}"/>`);
    parts.push(`<rect x="${L + 10}" y="${T + 8 + i * 16}" width="10" height="10" fill="${color}"/><text x="${L + 26}" y="${T + 17 + i * 16}">${esc(s.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg>`;
}

/** Latency (ms) at percentile p from the [lowest µs, count] buckets of a row. */
function percentileOf(buckets: Array<[number, number]>, p: number, maxMs: number): number {
  const total = buckets.reduce((n, b) => n + b[1], 0);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (const [us, n] of buckets) {
    seen += n;
    if (seen >= rank) return Math.min(us / 1000, maxMs);
  }
  return maxMs;
}

/** Percentile curve: x = log10(1 / (1 - p)), so 90%, 99%, 99.9% are evenly spaced (HdrHistogram's plot). */
const PERCENTILE_TICKS = [0, 50, 90, 99, 99.9, 99.99];
const px = (p: number): number => Math.log10(1 / (1 - p / 100));

function latencyChart(rows: Row[]): string {
  const top = rows.reduce((n, r) => Math.max(n, r.messages), 0) >= 10_000 ? 99.99 : rows.some((r) => r.messages >= 1000) ? 99.9 : 99;
  const ps: number[] = [];
  for (let p = 0; p <= top + 1e-9; ) {
    ps.push(Number(p.toFixed(4)));
    const rest = 100 - p;
    p += rest > 10 ? 5 : rest / 10;
    if (p > top && ps[ps.length - 1]! < top) p = top;
  }
  const series = rows.map((r) => ({ name: r.target, points: ps.map((p): [number, number] => [px(p), percentileOf(r.histogram.buckets, p, r.latencyMs.max)]) }));
  const ticks = PERCENTILE_TICKS.filter((p) => p <= top).map((p) => ({ at: px(p), label: `${p}%` }));
  return lineChart('Round-trip latency by percentile', 'percentile', 'ms (log scale)', series, ticks, px(top), true);
}

function throughputChart(rows: Row[]): string {
  const series = rows.map((r) => ({
    name: r.target,
    points: r.timeline.msgsPerSec.map((v, i): [number, number] => [((i + 1) * r.timeline.intervalMs) / 1000, v]),
  }));
  const xMax = Math.max(0.25, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const step = niceMax(xMax / 6);
  const ticks: Tick[] = [];
  for (let t = 0; t <= xMax + 1e-9; t += step) ticks.push({ at: t, label: `${fmt(t)}s` });
  return lineChart('Throughput over time (all rounds, measured time only)', 'seconds', 'operations/s', series, ticks, xMax);
}

function rowTable(rows: Row[]): string {
  const head = ['server', 'msgs/s', 'MB/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'client CPU', 'server CPU', 'operations', 'rounds', 'close codes'];
  const cpu = (c: Row['clientCpu'] | null) => (c === null ? '–' : `${fmt(c.percentOfWall)}% (${fmt(c.usPerMessage)} µs/op)`);
  const body = rows.map((r) => [
    r.target, fmt(r.msgsPerSec), fmt(r.mbPerSec), fmt(r.latencyMs.p50), fmt(r.latencyMs.p90), fmt(r.latencyMs.p99), fmt(r.latencyMs.max),
    cpu(r.clientCpu), cpu(r.serverCpu), r.messages.toLocaleString('en-US'), String(r.rounds),
    Object.entries(r.closeCodes).map(([c, n]) => `${c} × ${n}`).join(', '),
  ]);
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body.map((l) => `<tr>${l.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

export function htmlReport(doc: JsonDocument): string {
  const byKey = new Map<string, Row[]>();
  for (const row of doc.rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
  const sections = [...byKey].map(([key, rows]) => `
<section>
  <h2>${esc(key)}</h2>
  ${rowTable(rows)}
  <div class="charts">${latencyChart(rows)}${throughputChart(rows)}</div>
</section>`).join('\n');
  const servers = [...new Map(doc.rows.map((r) => [r.target, r.url]))].map(([n, u]) => `${esc(n)} = ${esc(u)}`).join('; ');
  const gate = doc.gate === null ? '' : `<p class="${doc.gate.pass ? 'ok' : 'bad'}">Gate (${esc(doc.gate.metric)}, threshold ${doc.gate.thresholdPercent}% against ${esc(doc.gate.baselineFile)}): ${doc.gate.pass ? 'passed' : 'FAILED'}.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wsframe-bench report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; font-family: monospace; }
table { border-collapse: collapse; margin: 8px 0; } th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
svg { background: #fff; border: 1px solid #ccc; } svg text { font: 11px sans-serif; fill: #333; } svg .title { font-size: 13px; font-weight: bold; }
svg .grid { stroke: #eee; } svg .frame { fill: none; stroke: #999; }
.meta { color: #666; } .ok { color: #2a7a2a; } .bad { color: #b00; font-weight: bold; }
</style></head><body>
<h1>wsframe-bench report</h1>
<p class="meta">${esc(doc.date)} · wsframe-bench ${esc(doc.version)} · Node ${esc(doc.node)} · ${esc(doc.platform)}<br>Servers: ${servers}<br>
Command: <code>wsframe-bench ${esc(doc.argv.join(' '))}</code></p>
<p class="meta">Latency is the round trip of one operation (send to verified echo). Throughput and percentiles are medians over rounds;
CPU is the share of the measured wall time (100% = one core) and CPU time per operation.</p>
${doc.ok ? '' : `<p class="bad">The run failed: ${esc(doc.error ?? '')}</p>`}
${gate}
${sections}
</body></html>
`;
}
