// Results: rounds folded into one row per workload and server (medians over
// rounds), the text table on stdout, the live progress line (terminal only),
// and the --json document (also the --baseline input).
import { Histogram } from './histogram.js';
import { rowKey, type WorkloadParams, type RoundResult, type Progress } from './workloads.js';
import type { Comparison, GateResult } from './gate.js';

export interface CpuSummary {
  userMs: number;
  systemMs: number;
  totalMs: number;
  /** CPU time / measured wall time, in percent (100 = one core busy). */
  percentOfWall: number;
  /** CPU microseconds per operation. */
  usPerMessage: number;
}

export interface RoundSummary {
  seconds: number;
  messages: number;
  msgsPerSec: number;
  mbPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  clientCpuMs: number;
  serverCpuMs: number | null;
}

export interface Row {
  key: string;
  workload: string;
  target: string;
  url: string;
  params: WorkloadParams;
  rounds: number;
  /** Measured seconds and operations, all rounds together. */
  seconds: number;
  messages: number;
  /** Medians over rounds. */
  msgsPerSec: number;
  mbPerSec: number;
  /** p50/p90/p99: medians over rounds; min, max and mean over all operations. */
  latencyMs: { min: number; p50: number; p90: number; p99: number; max: number; mean: number };
  errors: number;
  closeCodes: Record<string, number>;
  clientCpu: CpuSummary;
  serverCpu: CpuSummary | null;
  perRound: RoundSummary[];
  timeline: { intervalMs: number; msgsPerSec: number[] };
  histogram: { unit: 'us'; buckets: Array<[number, number]> };
  /** Set when the gate re-measured this row: the earlier measurements of the gated metric. */
  remeasured?: number[];
}

export function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const ms = (us: number): number => us / 1000;

function cpuSummary(userMs: number, systemMs: number, seconds: number, messages: number): CpuSummary {
  const totalMs = userMs + systemMs;
  return {
    userMs, systemMs, totalMs,
    percentOfWall: seconds > 0 ? (totalMs / (seconds * 1000)) * 100 : 0,
    usPerMessage: messages > 0 ? (totalMs * 1000) / messages : 0,
  };
}

export function buildRow(target: { name: string; url: URL }, params: WorkloadParams, rounds: RoundResult[]): Row {
  const merged = new Histogram();
  const closeCodes: Record<string, number> = {};
  const timeline: number[] = [];
  let seconds = 0, messages = 0, cu = 0, cs = 0, su = 0, ss = 0;
  let serverKnown = true;
  const perRound = rounds.map((r): RoundSummary => {
    merged.add(r.histogram);
    for (const [code, n] of Object.entries(r.closeCodes)) closeCodes[code] = (closeCodes[code] ?? 0) + n;
    const perInterval = 1000 / r.timelineIntervalMs;
    for (const n of r.timeline) timeline.push(n * perInterval);
    seconds += r.seconds; messages += r.messages;
    cu += r.clientCpu.userMs; cs += r.clientCpu.systemMs;
    if (r.serverCpu === null) serverKnown = false;
    else { su += r.serverCpu.userMs; ss += r.serverCpu.systemMs; }
    return {
      seconds: r.seconds,
      messages: r.messages,
      msgsPerSec: r.seconds > 0 ? r.messages / r.seconds : 0,
      mbPerSec: r.seconds > 0 ? r.bytes / r.seconds / 1e6 : 0,
      p50: ms(r.histogram.percentile(50)),
      p90: ms(r.histogram.percentile(90)),
      p99: ms(r.histogram.percentile(99)),
      max: ms(r.histogram.max === 0 && r.histogram.count === 0 ? 0 : r.histogram.max),
      clientCpuMs: r.clientCpu.userMs + r.clientCpu.systemMs,
      serverCpuMs: r.serverCpu === null ? null : r.serverCpu.userMs + r.serverCpu.systemMs,
    };
  });
  return {
    key: rowKey(params),
    workload: params.workload,
    target: target.name,
    url: target.url.href,
    params,
    rounds: rounds.length,
    seconds,
    messages,
    msgsPerSec: median(perRound.map((r) => r.msgsPerSec)),
    mbPerSec: median(perRound.map((r) => r.mbPerSec)),
    latencyMs: {
      min: merged.count === 0 ? 0 : ms(merged.min),
      p50: median(perRound.map((r) => r.p50)),
      p90: median(perRound.map((r) => r.p90)),
      p99: median(perRound.map((r) => r.p99)),
      max: merged.count === 0 ? 0 : ms(merged.max),
      mean: ms(merged.mean()),
    },
    errors: 0,
    closeCodes,
    clientCpu: cpuSummary(cu, cs, seconds, messages),
    serverCpu: serverKnown && rounds.length > 0 ? cpuSummary(su, ss, seconds, messages) : null,
    perRound,
    timeline: { intervalMs: rounds[0]?.timelineIntervalMs ?? 250, msgsPerSec: timeline },
    histogram: { unit: 'us', buckets: merged.buckets() },
  };
}

/** Three significant digits, with thousands grouped: 12,345 / 123 / 1.23 / 0.0123. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(3)).toString();
}

function table(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [row(header), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}

function cpuCell(c: CpuSummary | null): string {
  return c === null ? '-' : `${fmt(c.percentOfWall)}% ${fmt(c.usPerMessage)}us`;
}

export function textReport(rows: Row[], comparison: Comparison[], gate: GateResult | null): string {
  const out: string[] = [];
  out.push(table(
    ['workload', 'server', 'msgs/s', 'MB/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'client CPU', 'server CPU', 'close'],
    rows.map((r) => [
      r.key, r.target, fmt(r.msgsPerSec), fmt(r.mbPerSec), fmt(r.latencyMs.p50), fmt(r.latencyMs.p90), fmt(r.latencyMs.p99), fmt(r.latencyMs.max),
      cpuCell(r.clientCpu), cpuCell(r.serverCpu), Object.entries(r.closeCodes).map(([c, n]) => `${c}x${n}`).join(','),
    ]),
  ));
  out.push('CPU: % of the measured wall time (100% = one core) and CPU microseconds per operation; medians over rounds.');
  if (comparison.length > 0) {
    out.push('', `Same-run comparison (medians; ratio = server / ${comparison[0]!.servers[0]}):`);
    const lines: string[][] = [];
    for (const c of comparison) {
      for (const s of c.servers) {
        const v = c.values[s]!, q = c.ratios[s]!;
        lines.push([c.workload, s, fmt(v['msgs/s']), `x${q['msgs/s'].toFixed(2)}`, fmt(v.p50), `x${q.p50.toFixed(2)}`, fmt(v.p99), `x${q.p99.toFixed(2)}`]);
      }
    }
    out.push(table(['workload', 'server', 'msgs/s', 'ratio', 'p50 ms', 'ratio', 'p99 ms', 'ratio'], lines));
  }
  if (gate !== null) {
    out.push('', `Gate: ${gate.metric} against ${gate.baselineFile}, threshold ${gate.thresholdPercent}%`);
    for (const g of gate.rows) {
      const change = g.worsePercent >= 0 ? `${g.worsePercent.toFixed(1)}% worse` : `${(-g.worsePercent).toFixed(1)}% better`;
      out.push(`  ${g.pass ? 'ok  ' : 'FAIL'} ${g.key}: ${fmt(g.baseline)} -> ${g.measured.map(fmt).join(', then ')} (${change})`);
    }
    for (const key of gate.missing) out.push(`  --   ${key}: not in the baseline, not gated`);
    out.push(gate.pass ? 'Gate passed.' : 'Gate FAILED.');
  }
  return out.join('\n');
}

export interface JsonDocument {
  tool: 'wsframe-bench';
  version: string;
  ok: boolean;
  error?: string;
  date: string;
  node: string;
  platform: string;
  argv: string[];
  settings: Record<string, unknown>;
  rows: Row[];
  comparison: Comparison[];
  gate: GateResult | null;
}

/** The live progress line: written over itself on a terminal, never into a pipe or file. */
export class ProgressLine {
  #enabled: boolean;
  #shown = false;

  constructor(quiet: boolean) {
    this.#enabled = !quiet && process.stderr.isTTY === true;
  }

  update(label: string, p: Progress): void {
    if (!this.#enabled) return;
    const rate = p.elapsedMs > 0 ? (p.messages * 1000) / p.elapsedMs : 0;
    const text = p.measuring
      ? `${label}  ${(p.elapsedMs / 1000).toFixed(1)}s  ${p.messages.toLocaleString('en-US')} ops  ${fmt(rate)}/s  p50 ${fmt(p.histogram.percentile(50) / 1000)} ms  p99 ${fmt(p.histogram.percentile(99) / 1000)} ms`
      : `${label}  warming up`;
    const columns = process.stderr.columns > 0 ? process.stderr.columns : 120;
    process.stderr.write(`\r\x1b[K${text.slice(0, columns - 1)}`);
    this.#shown = true;
  }

  clear(): void {
    if (this.#shown) process.stderr.write('\r\x1b[K');
    this.#shown = false;
  }
}
