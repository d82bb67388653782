// Why wsframe-bench drives the core Encoder/Decoder over a raw socket rather
// than wsframe's Node WebSocket class: the CPU per operation of the class used
// as a generator (ping round trips; 200 x 64 B pipelined echoes), beside the
// server's (/proc/PID/stat). Compare with
// `wsframe-bench URL -w ping,pipeline --count 200 -d 3 --server-pid PID`.
//   node scripts/websocket-class-client.mjs PORT SERVER_PID
import { connect } from 'wsframe';
import { readFileSync } from 'node:fs';
const [port, pid] = process.argv.slice(2).map(Number);
const stat = () => { const f = readFileSync(`/proc/${pid}/stat`, 'latin1'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) * 10; };
const ws = connect(`ws://127.0.0.1:${port}/`);
await new Promise((r) => ws.once('open', r));
async function run(name, start, secs = 3) {
  const c0 = process.cpuUsage(), s0 = stat(), t0 = performance.now();
  const n = await start(t0 + secs * 1000);
  const c = process.cpuUsage(c0), sv = stat() - s0;
  console.log(`${name}: ${n} ops, client ${((c.user + c.system) / n).toFixed(2)} us/op, server ${(sv * 1000 / n).toFixed(2)} us/op`);
}
const body = Buffer.alloc(16, 7);
await run('ping (WebSocket class)', (end) => new Promise((res) => { let n = 0; ws.on('pong', (p) => { if (!body.equals(p)) throw new Error('bad'); n++; if (performance.now() < end) ws.ping(body); else { ws.removeAllListeners('pong'); res(n); } }); ws.ping(body); }));
const msgs = Array.from({ length: 200 }, (_, i) => Buffer.alloc(64, i));
await run('pipeline 200x64 (WebSocket class)', (end) => new Promise((res) => { let n = 0, i = 0; ws.on('message', (d) => { if (!msgs[i].equals(d)) throw new Error('bad'); n++; if (++i < 200) return; i = 0; if (performance.now() < end) for (const m of msgs) ws.send(m); else res(n); }); for (const m of msgs) ws.send(m); }));
ws.terminate();
