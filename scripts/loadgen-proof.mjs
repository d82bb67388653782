// The README's wsframe-bench figures: starts three echo servers, each in its
// own process (uWebSockets.js and ws via scripts/echo-server.mjs, wsframe via
// `npm run echo`), runs every workload against the three in one run
// (--compare, alternating, medians over rounds) with each server's CPU read
// from /proc/PID/stat, and prints Markdown tables: the servers side by side,
// and the generator's CPU beside each server's.
//
//   npm run build && node scripts/loadgen-proof.mjs [--duration 3] [--rounds 3] [--count 1000] [--out /tmp/loadgen]
//
// --count (pipelined batch) defaults to wsframe-bench's own, 1000 x 64 B.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { duration: { type: 'string', default: '3' }, rounds: { type: 'string', default: '3' }, out: { type: 'string', default: '/tmp/loadgen' }, workload: { type: 'string', default: 'all' }, count: { type: 'string', default: '1000' } } });

function start(name, args, pattern) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      const m = pattern.exec(text);
      if (m) resolve({ name, child, port: Number(m[1]), pid: child.pid });
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code})`)));
  });
}

const servers = await Promise.all([
  start('uWS.js', ['scripts/echo-server.mjs', 'uws'], /listening (\d+)/),
  start('ws', ['scripts/echo-server.mjs', 'ws'], /listening (\d+)/),
  start('wsframe', ['dist/cli/echo.js', '--port', '0'], /ws:\/\/127\.0\.0\.1:(\d+)/),
]);
const json = `${values.out}.json`;
try {
  const args = [`ws://127.0.0.1:${servers[0].port}/`];
  for (const s of servers.slice(1)) args.push('--compare', `ws://127.0.0.1:${s.port}/`);
  for (const s of servers) args.push('--name', s.name, '--server-pid', String(s.pid));
  args.push('-w', values.workload, '--count', values.count, '-d', values.duration, '--rounds', values.rounds, '--json', json, '--html', `${values.out}.html`);
  console.error(`wsframe-bench ${args.join(' ')}`);
  execFileSync(process.execPath, ['dist/cli/wsframe-bench.js', ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
} catch {
  process.exitCode = 1; // wsframe-bench said why, in one line
} finally {
  for (const s of servers) s.child.kill('SIGTERM');
}

const doc = JSON.parse(readFileSync(json, 'utf8'));
if (!doc.ok) console.log(`run failed: ${doc.error}; rows measured before it:`);
const f = (x) => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : Number(x.toPrecision(3)).toString());
console.log(`\n${doc.date}, Node ${doc.node}, ${values.rounds} rounds x ${values.duration} s per workload and server, alternating; medians\n`);
console.log('| workload | server | msgs/s | MB/s | p50 ms | p99 ms | generator CPU µs/op | server CPU µs/op | generator / server |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
for (const r of doc.rows) {
  const ratio = r.serverCpu && r.serverCpu.totalMs > 0 ? (r.clientCpu.totalMs / r.serverCpu.totalMs).toFixed(2) : '–';
  console.log(`| ${r.workload} | ${r.target} | ${f(r.msgsPerSec)} | ${f(r.mbPerSec)} | ${f(r.latencyMs.p50)} | ${f(r.latencyMs.p99)} | ${f(r.clientCpu.usPerMessage)} | ${r.serverCpu ? f(r.serverCpu.usPerMessage) : '–'} | ${ratio} |`);
}
