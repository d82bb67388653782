#!/usr/bin/env node
// wsframe-bench: a load generator for any WebSocket echo server, built on
// wsframe's client side (see codec/loadgen/). `wsframe-bench --help` lists the
// workloads, options and exit codes; failures print one line, never a stack.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseCommand, HELP, type BenchOptions } from '../loadgen/options.js';
import { BenchConnection } from '../loadgen/connection.js';
import type { DialOptions } from '../node/dial.js';
import { runRound, type RoundLimits, type RoundResult, type WorkloadParams } from '../loadgen/workloads.js';
import { buildRow, textReport, ProgressLine, type JsonDocument, type Row } from '../loadgen/report.js';
import { compareServers, loadBaseline, metricValue, worsePercent, type GateResult, type GateRow } from '../loadgen/gate.js';
import { htmlReport } from '../loadgen/html.js';
import { UsageError, RunError, EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE, EXIT_REGRESSION } from '../loadgen/errors.js';

const version = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

type NamedTarget = BenchOptions['targets'][number];

function dialOptions(o: BenchOptions): DialOptions {
  return {
    ...(o.protocols.length > 0 ? { protocols: o.protocols } : {}),
    ...(Object.keys(o.headers).length > 0 ? { headers: o.headers } : {}),
    ...(o.insecure ? { tls: { rejectUnauthorized: false } } : {}),
  };
}

/** All rounds of one workload against every target, alternating targets within each round (A B A B ...). */
async function measure(o: BenchOptions, p: WorkloadParams, targets: NamedTarget[], progress: ProgressLine, tag = ''): Promise<Row[]> {
  const limits: RoundLimits = {
    durationMs: o.durationMs,
    warmupMs: o.warmupMs,
    messages: o.messages,
    timeoutMs: o.timeoutMs,
    freshMasks: o.freshMasks,
    dial: dialOptions(o),
  };
  const results = targets.map((): RoundResult[] => []);
  for (let r = 0; r < o.rounds; r++) {
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      const label = `${p.workload} ${t.name}${o.rounds > 1 ? ` round ${r + 1}/${o.rounds}` : ''}${tag}`;
      results[i]!.push(await runRound(t, p, limits, (s) => progress.update(label, s)));
      progress.clear();
    }
  }
  return targets.map((t, i) => buildRow(t, p, results[i]!));
}

/** Gates every row against the baseline; a failing row is measured again (up to --retries) before it fails. */
async function gate(o: BenchOptions, rows: Row[], progress: ProgressLine): Promise<GateResult> {
  const baseline = loadBaseline(o.baseline!);
  const result: GateResult = { baselineFile: o.baseline!, metric: o.metric, thresholdPercent: o.thresholdPercent, rows: [], missing: [], pass: true };
  for (let i = 0; i < rows.length; i++) {
    const base = baseline.get(rows[i]!.key);
    if (base === undefined) { result.missing.push(rows[i]!.key); continue; }
    const want = metricValue(base, o.metric);
    const measured = [metricValue(rows[i]!, o.metric)];
    let worse = worsePercent(o.metric, want, measured[0]!);
    for (let attempt = 1; worse > o.thresholdPercent && attempt <= o.retries; attempt++) {
      if (!o.quiet) process.stderr.write(`${rows[i]!.key}: ${o.metric} ${worse.toFixed(1)}% worse than the baseline; measuring again (${attempt}/${o.retries})\n`);
      const [again] = await measure(o, rows[i]!.params, [o.targets[0]!], progress, ` (re-measure ${attempt})`);
      const value = metricValue(again!, o.metric);
      measured.push(value);
      const w = worsePercent(o.metric, want, value);
      if (w < worse) {
        worse = w;
        rows[i] = { ...again!, remeasured: measured.slice(0, -1) };
      }
    }
    const row: GateRow = { key: rows[i]!.key, metric: o.metric, baseline: want, measured, worsePercent: worse, pass: worse <= o.thresholdPercent };
    result.rows.push(row);
    if (!row.pass) result.pass = false;
  }
  return result;
}

function document(o: BenchOptions, argv: string[], rows: Row[], gateResult: GateResult | null, error: string | null): JsonDocument {
  return {
    tool: 'wsframe-bench',
    version,
    ok: error === null,
    ...(error === null ? {} : { error }),
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    argv,
    settings: {
      durationS: o.durationMs / 1000, warmupS: o.warmupMs / 1000, messages: o.messages, rounds: o.rounds,
      timeoutMs: o.timeoutMs, freshMasks: o.freshMasks, metric: o.metric, thresholdPercent: o.thresholdPercent,
      servers: o.targets.map((t) => ({ name: t.name, url: t.url.href, serverPid: t.serverPid ?? null })),
    },
    rows,
    comparison: compareServers(rows),
    gate: gateResult,
  };
}

function writeOutputs(o: BenchOptions, doc: JsonDocument): void {
  try {
    if (o.json !== null) writeFileSync(o.json, JSON.stringify(doc, null, 1) + '\n');
    if (o.html !== null) writeFileSync(o.html, htmlReport(doc));
  } catch (error) {
    throw new RunError(`cannot write the report: ${String((error as Error).message).split('\n')[0]}`);
  }
}

/** --wait: one test connection per server, retried until it opens or the time is up. */
async function waitForServers(o: BenchOptions): Promise<void> {
  const deadline = Date.now() + o.waitMs;
  for (const t of o.targets) {
    for (;;) {
      try {
        const c = await BenchConnection.open(t.url, { timeoutMs: Math.min(o.timeoutMs, 2000), maxMessageSize: 1024, dial: dialOptions(o) });
        await c.close(o.timeoutMs);
        break;
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }
}

async function main(argv: string[]): Promise<number> {
  const command = parseCommand(argv);
  if (command.kind === 'help') { process.stdout.write(HELP); return EXIT_OK; }
  if (command.kind === 'version') { process.stdout.write(`${version}\n`); return EXIT_OK; }
  const o = command.options;
  if (o.baseline !== null) loadBaseline(o.baseline); // a missing or bad baseline is a usage error, before any load
  const progress = new ProgressLine(o.quiet);
  const rows: Row[] = [];
  try {
    if (o.waitMs > 0) await waitForServers(o);
    for (const p of o.workloads) rows.push(...(await measure(o, p, o.targets, progress)));
    const gateResult = o.baseline === null ? null : await gate(o, rows, progress);
    const doc = document(o, argv, rows, gateResult, null);
    process.stdout.write(textReport(rows, doc.comparison, gateResult) + '\n');
    writeOutputs(o, doc);
    return gateResult !== null && !gateResult.pass ? EXIT_REGRESSION : EXIT_OK;
  } catch (error) {
    progress.clear();
    if (error instanceof RunError) {
      // The partial results still go to --json/--html, marked as failed, so a CI log has the reason.
      try { writeOutputs(o, document(o, argv, rows, null, error.message)); } catch { /* the run error is what matters */ }
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (error: unknown) => {
    const usage = error instanceof UsageError;
    const known = usage || error instanceof RunError;
    const line = known ? (error as Error).message : `internal error: ${String((error as Error)?.message ?? error).split('\n')[0]}`;
    process.stderr.write(`wsframe-bench: ${line}${usage ? ' (see --help)' : ''}\n`);
    if (!known && process.env.WSFRAME_BENCH_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
    process.exitCode = usage ? EXIT_USAGE : EXIT_RUN_FAILED;
  },
).finally(() => {
  // Everything is closed by now; should a peer keep a socket half-open, do not hang a CI job on it.
  setTimeout(() => process.exit(), 3000).unref();
});
