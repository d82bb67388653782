#!/usr/bin/env node
// npm run bench [-- --quick] [--runs N] [--clock cpu|wall] [--json FILE] [--only w1,w4,...] [--impl auto|dist|stub] [--no-benny]
// Runs every workload side by side with memcpy and ws (and uWS for loopback),
// prints one table to stdout (progress goes to stderr), optionally writes JSON.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runSuite, formatTable, GROUPS, mergeRuns } from './lib/suite.mjs';

const { values: a } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
    clock: { type: 'string', default: 'cpu' },
    json: { type: 'string' },
    only: { type: 'string' },
    impl: { type: 'string', default: process.env.WSFRAME_BENCH_IMPL || 'auto' },
    'no-benny': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (a.help) {
  console.log(`usage: node bench/run.mjs [--quick] [--runs N] [--clock cpu|wall] [--json FILE] [--only ${GROUPS.map((g) => g.name).join(',')}] [--impl auto|dist|stub] [--no-benny]`);
  process.exit(0);
}
const groups = a.only ? a.only.split(',').map((s) => s.trim()).filter(Boolean) : null;
const unknown = (groups ?? []).filter((g) => !GROUPS.some((x) => x.name === g));
if (unknown.length) { console.error(`unknown group(s): ${unknown.join(', ')}`); process.exit(2); }

const runs = Math.max(1, Math.floor(Number(a.runs)) || 1);
const docs = [];
for (let i = 0; i < runs; i++) {
  if (runs > 1) console.error(`== run ${i + 1}/${runs}`);
  docs.push(await runSuite({ groups, quick: a.quick, clock: a.clock, impl: a.impl, benny: !a['no-benny'] && i === runs - 1 }));
}
const doc = runs === 1 ? docs[0] : mergeRuns(docs);
console.log(formatTable(doc));
if (a.json) {
  fs.mkdirSync(path.dirname(path.resolve(a.json)), { recursive: true });
  fs.writeFileSync(a.json, JSON.stringify(doc, null, 2) + '\n');
  console.error(`wrote ${a.json}`);
}
process.exitCode = doc.rows.some((r) => r.status === 'error') ? 1 : 0;
