// fast-check runner with replayable failure reports.
//
// Every property prints, on failure: the seed, the shrink path, a one-line replay command, and the
// shrunk byte stream in hex (also written to fuzz-failures/ when it is long).
//   FC_SEED=<seed> FC_PATH=<path> node --test test/<file>.test.mjs   replays exactly that case
//   FC_RUNS_SCALE=10 npm test                                         runs every property 10× longer
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { hex } from './frames.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function runsFor(base) {
  const scale = Number(process.env.FC_RUNS_SCALE ?? 1);
  return Math.max(1, Math.round(base * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

export function seedFor() {
  if (process.env.FC_SEED !== undefined) return Number(process.env.FC_SEED) | 0;
  return (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
}

/** Write a failing input under fuzz-failures/ and return the path. */
export function saveFailure(tag, record) {
  const dir = path.join(ROOT, 'fuzz-failures');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${tag}-${Date.now()}-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  return path.relative(ROOT, file);
}

export function describeCase(c) {
  if (!c || !c.bytes) return JSON.stringify(c);
  const opts = { role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments };
  return `options ${JSON.stringify(opts)}\nbytes (${c.bytes.length}) ${hex(c.bytes, 2048)}`;
}

/**
 * Run a property; throw a replayable report on failure.
 * @param {string} name     short name (used in file names)
 * @param {string} file     test file (for the replay command)
 * @param {fc.Arbitrary} arb
 * @param {(v:any)=>void} predicate  throws on failure
 * @param {{numRuns:number, describe?:(v:any)=>string, caseBytes?:(v:any)=>any}} opts
 */
export function checkProperty(name, file, arb, predicate, { numRuns, describe = (v) => describeCase(v), toRecord } = {}) {
  const seed = seedFor();
  const params = { seed, numRuns: runsFor(numRuns) };
  if (process.env.FC_PATH) params.path = process.env.FC_PATH;
  const details = fc.check(fc.property(arb, (v) => { predicate(v); }), params);
  if (!details.failed) return { runs: details.numRuns, seed };
  const cx = details.counterexample?.[0];
  const replay = `FC_SEED=${details.seed} FC_PATH=${details.counterexamplePath} node --test test/${file}`;
  let saved = '';
  try {
    const rec = toRecord ? toRecord(cx) : cx?.bytes ? { kind: 'differential', role: cx.role, maxMessageSize: cx.maxMessageSize, maxFragments: cx.maxFragments, hex: hex(cx.bytes) } : { value: String(cx) };
    saved = saveFailure(name, { property: name, seed: details.seed, path: details.counterexamplePath, replay, ...rec });
    if (rec.hex) saved += `  (input only: npm run fuzz -- --replay ${saved})`;
  } catch {}
  const err = new Error(
    [
      `property "${name}" failed after ${details.numRuns} runs (${details.numShrinks} shrinks)`,
      `seed ${details.seed}  path ${details.counterexamplePath}`,
      `replay: ${replay}`,
      saved ? `saved: ${saved}` : '',
      `shrunk counterexample:\n${cx === undefined ? '(none)' : describe(cx)}`,
      `error: ${details.errorInstance?.message ?? details.error}`,
    ].filter(Boolean).join('\n'),
  );
  throw err;
}
