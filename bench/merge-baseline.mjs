#!/usr/bin/env node
// Puts the rows of some groups from one run into the baseline, leaving every
// other row (and the baseline's header) as it is: how a new group enters the
// gate without re-measuring the whole suite.
//
//   npm run bench -- --only w9 --runs 3 --no-benny --json /tmp/w9.json
//   node bench/merge-baseline.mjs --from /tmp/w9.json --groups w9 [--baseline bench/baseline.json]
//
// The baseline's rows of those groups are replaced (or added, in the order of
// bench/lib/suite.mjs's GROUPS). A run in another mode (--quick or not) than
// the baseline is refused: its scores would not be comparable. A full refresh
// (`npm run bench -- --runs 3 --no-benny --json bench/baseline.json`)
// replaces everything anyway.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { GROUPS, groupOf } from './lib/suite.mjs';

/** Pure: the baseline with the rows of `groups` taken from `run`. */
export function mergeGroups(baseline, run, groups) {
  if (!!baseline.quick !== !!run.quick) throw new Error(`the run is ${run.quick ? '' : 'not '}--quick, the baseline is ${baseline.quick ? '' : 'not '}: not comparable`);
  const wanted = new Set(groups);
  const fresh = run.rows.filter((r) => wanted.has(groupOf(r.id)));
  if (fresh.length === 0) throw new Error(`the run has no rows of ${groups.join(', ')}`);
  const order = (r) => {
    const i = GROUPS.findIndex((g) => g.name === groupOf(r.id));
    return i < 0 ? GROUPS.length : i;
  };
  const rows = [...baseline.rows.filter((r) => !wanted.has(groupOf(r.id))), ...fresh]
    .map((r, i) => [r, i]).sort(([a, i], [b, j]) => order(a) - order(b) || i - j).map(([r]) => r);
  return { ...baseline, rows };
}

function main() {
  const { values: a } = parseArgs({
    options: {
      from: { type: 'string' },
      groups: { type: 'string' },
      baseline: { type: 'string', default: 'bench/baseline.json' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (a.help || !a.from || !a.groups) {
    console.log('usage: node bench/merge-baseline.mjs --from RUN.json --groups w9[,…] [--baseline bench/baseline.json]');
    return a.help ? 0 : 2;
  }
  const groups = a.groups.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = groups.filter((g) => !GROUPS.some((x) => x.name === g));
  if (unknown.length) { console.error(`unknown group(s): ${unknown.join(', ')}`); return 2; }
  let merged;
  try {
    const baseline = JSON.parse(fs.readFileSync(a.baseline, 'utf8'));
    const run = JSON.parse(fs.readFileSync(a.from, 'utf8'));
    merged = mergeGroups(baseline, run, groups);
  } catch (e) {
    console.error(`merge-baseline: ${e.message}`);
    return 2;
  }
  // non-ASCII as \uXXXX escapes, as the committed baseline is written, so that only the merged rows show in a diff
  const json = JSON.stringify(merged, null, 2).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  fs.writeFileSync(a.baseline, json + '\n');
  const n = merged.rows.filter((r) => groups.includes(groupOf(r.id)));
  console.log(`${a.baseline}: ${n.length} rows of ${groups.join(', ')} (${n.filter((r) => r.gated).length} gated) from ${a.from}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) process.exitCode = main();
