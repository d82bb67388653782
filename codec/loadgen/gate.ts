// The regression gate (--baseline: this run against an earlier --json run)
// and the same-run comparison of servers (--compare: ratios of medians).
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import type { Row } from './report.js';

export const METRICS = ['msgs/s', 'MB/s', 'p50', 'p90', 'p99', 'max', 'mean'] as const;
export type MetricName = (typeof METRICS)[number];

export function metricValue(row: Row, metric: MetricName): number {
  switch (metric) {
    case 'msgs/s': return row.msgsPerSec;
    case 'MB/s': return row.mbPerSec;
    default: return row.latencyMs[metric];
  }
}

/** Throughput: higher is better; latency: lower is better. */
export function higherIsBetter(metric: MetricName): boolean {
  return metric === 'msgs/s' || metric === 'MB/s';
}

/** How much worse `current` is than `baseline`, in percent (negative: better). */
export function worsePercent(metric: MetricName, baseline: number, current: number): number {
  if (higherIsBetter(metric)) return current > 0 ? (baseline / current - 1) * 100 : Infinity;
  return baseline > 0 ? (current / baseline - 1) * 100 : current > 0 ? Infinity : 0;
}

export interface GateRow {
  key: string;
  metric: MetricName;
  baseline: number;
  /** Every measurement of this row: the first, then the re-measures. */
  measured: number[];
  /** Worse-percent of the best measurement. */
  worsePercent: number;
  pass: boolean;
}

export interface GateResult {
  baselineFile: string;
  metric: MetricName;
  thresholdPercent: number;
  rows: GateRow[];
  /** Rows of this run that the baseline does not have (not gated). */
  missing: string[];
  pass: boolean;
}

/** The rows of an earlier --json run, by key. */
export function loadBaseline(file: string): Map<string, Row> {
  let doc: { tool?: string; rows?: Row[] };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new UsageError(`--baseline ${file}: ${e.code === 'ENOENT' ? 'no such file' : `not readable JSON (${String(e.message).split('\n')[0]})`}`);
  }
  if (doc?.tool !== 'wsframe-bench' || !Array.isArray(doc.rows)) throw new UsageError(`--baseline ${file}: not a wsframe-bench --json file`);
  return new Map(doc.rows.map((row) => [row.key, row]));
}

export interface Comparison {
  key: string;
  workload: string;
  /** Server names, the first is the reference of the ratios. */
  servers: string[];
  /** Medians over rounds, per server. */
  values: Record<string, { 'msgs/s': number; 'MB/s': number; p50: number; p99: number }>;
  /** Each server's median divided by the first server's. */
  ratios: Record<string, { 'msgs/s': number; 'MB/s': number; p50: number; p99: number }>;
}

/** Ratios of medians between servers measured in the same run, per workload. */
export function compareServers(rows: Row[]): Comparison[] {
  const byKey = new Map<string, Row[]>();
  for (const row of rows) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
  const out: Comparison[] = [];
  for (const [key, group] of byKey) {
    if (group.length < 2) continue;
    const pick = (r: Row) => ({ 'msgs/s': r.msgsPerSec, 'MB/s': r.mbPerSec, p50: r.latencyMs.p50, p99: r.latencyMs.p99 });
    const first = pick(group[0]!);
    const values: Comparison['values'] = {};
    const ratios: Comparison['ratios'] = {};
    for (const r of group) {
      const v = pick(r);
      values[r.target] = v;
      ratios[r.target] = {
        'msgs/s': v['msgs/s'] / first['msgs/s'],
        'MB/s': first['MB/s'] === 0 ? 0 : v['MB/s'] / first['MB/s'],
        p50: v.p50 / first.p50,
        p99: v.p99 / first.p99,
      };
    }
    out.push({ key, workload: group[0]!.workload, servers: group.map((r) => r.target), values, ratios });
  }
  return out;
}
