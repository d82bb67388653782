// The long 9.x sweep, by hand: every 9.x case (Autobahn's limits/performance
// cases) against the echo testee, several iterations, with timings.
//
//   node test/support/autobahn-long.mjs [--iterations 5] [--filter 9.3] [--script dist/cli/echo.js] [--port N]
//
// --port N uses an echo server that is already running (e.g. `npm run echo -- --port N`)
// instead of spawning dist/cli/echo.js. Exit code 1 if any case failed.
import { fileURLToPath } from 'node:url';
import { OK, perfCases, runPerfCase, spawnEcho, stopChild } from './autobahn.mjs';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const iterations = Number(option('iterations', '5'));
const filter = option('filter', '9.');
const script = option('script', fileURLToPath(new URL('../../dist/cli/echo.js', import.meta.url)));
const givenPort = option('port', '');

let child = null;
let port = Number(givenPort);
if (givenPort === '') ({ child, port } = await spawnEcho(script));

const cases = perfCases().filter((spec) => spec.id.startsWith(filter));
const rows = [];
let failed = 0;
const wall = performance.now();
try {
  for (const spec of cases) {
    const times = [];
    for (let i = 0; i < iterations; i++) {
      const { c, verdict, ms } = await runPerfCase(port, spec);
      if (verdict.behavior !== OK || verdict.behaviorClose !== OK) {
        failed++;
        console.log(c.report(verdict));
      }
      times.push(ms);
    }
    times.sort((a, b) => a - b);
    const row = {
      case: spec.id,
      what: spec.desc,
      min_ms: times[0].toFixed(1),
      median_ms: times[Math.floor(times.length / 2)].toFixed(1),
      max_ms: times.at(-1).toFixed(1),
    };
    rows.push(row);
    console.log(`${row.case.padEnd(6)} ${row.what.padEnd(60)} min ${row.min_ms.padStart(8)} ms  median ${row.median_ms.padStart(8)} ms  max ${row.max_ms.padStart(8)} ms`);
  }
} finally {
  if (child) await stopChild(child);
}
console.log(`${cases.length} cases x ${iterations} iterations in ${((performance.now() - wall) / 1000).toFixed(1)} s; ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
