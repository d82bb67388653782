// Server CPU per 9.4.3 round trip over a fresh server's life, batch by batch,
// for `npm run echo` and uWebSockets.js: how long a Node server takes to
// reach its steady state (V8 compiles the per-message code over the first
// few dozen round trips, on a background thread but in the process's CPU
// time), and the two steady states side by side.
//
//   node scripts/steady-state.mjs [--batches 12] [--per 50]
//
// Each server is started fresh in its own process; the near-free raw client
// of the bench (bench/lib/loopback.mjs) sends the reference message (4 MiB
// as 4096 masked 1 KiB fragments) and awaits each echo; CPU is the sum over
// the server's threads of /proc/PID/task/*/schedstat (nanoseconds on CPU).
// Prints µs per round trip for each batch, and the median of all batches
// but the first.
import { readdirSync, readFileSync } from 'node:fs';
import { rawClient } from '../bench/lib/loopback.mjs';
import { startServer as start } from './lib/start-server.mjs';
import { randomBytes, REF_SIZE, REF_FRAGMENT } from '../bench/lib/streams.mjs';

const option = (name, fallback) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? Number(process.argv[i + 1]) : fallback; };
const BATCHES = option('batches', 12);
const PER = option('per', 50);

/** Microseconds on CPU of every thread of `pid`. */
function cpuMicros(pid) {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'latin1').split(' ')[0]); } catch { /* a thread that ended */ }
  }
  return ns / 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const payload = randomBytes(REF_SIZE, 55);
const results = {};
for (const [name, args] of [['wsframe', ['dist/cli/echo.js', '--port', '0']], ['uws', ['scripts/echo-server.mjs', 'uws', '0']]]) {
  const server = await start(args);
  try {
    const client = rawClient(server.port);
    await client.opened;
    const roundTrip = () => new Promise((resolve) => { client.onMessage(() => resolve()); client.sendFragmented(payload, REF_FRAGMENT); });
    const batches = [];
    for (let b = 0; b < BATCHES; b++) {
      const before = cpuMicros(server.pid);
      for (let i = 0; i < PER; i++) await roundTrip();
      batches.push((cpuMicros(server.pid) - before) / PER);
    }
    client.close();
    results[name] = batches;
    console.log(`${name.padEnd(8)} µs per round trip, batches of ${PER}: ${batches.map((x) => x.toFixed(0)).join(' ')}; after the first: median ${median(batches.slice(1)).toFixed(0)}`);
  } finally {
    server.child.kill();
  }
}
console.log(`steady state, wsframe ÷ uWS: ${(median(results.wsframe.slice(1)) / median(results.uws.slice(1))).toFixed(2)}`);
