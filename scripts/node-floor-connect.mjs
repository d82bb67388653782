// The floor of any Node client for the connection-rate workload: 8 parallel
// loops of TCP connect + a pre-written upgrade request + the 101 read (not
// parsed) + a pre-encoded masked close frame + the server's close read +
// destroy; no WebSocket code at all. Prints CPU µs per connection for this
// process and for the server (/proc/PID/stat), as scripts/node-floor.mjs
// does for round trips.
//   node scripts/node-floor-connect.mjs PORT SERVER_PID [SECONDS]
import net from 'node:net';
import { readFileSync } from 'node:fs';
const [port, pid, secs = 3] = process.argv.slice(2).map(Number);
const stat = () => { const f = readFileSync(`/proc/${pid}/stat`, 'latin1'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) * 10; };
const request = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
// A masked close frame with code 1000 (key 0): RFC 6455 §5.5.1.
const close = Buffer.from([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]);
const rbuf = Buffer.alloc(16384);
let n = 0, t0 = 0, c0 = null, s0 = 0;
const done = () => performance.now() - t0 >= secs * 1000;
function loop() {
  let step = 0;
  const s = net.connect({ port, host: '127.0.0.1', onread: { buffer: rbuf, callback: () => {
    if (step++ === 0) s.write(close);       // the 101 arrived: close at once
    else s.destroy();                       // the server's close frame (or its FIN)
  } } });
  s.setNoDelay(true);
  s.on('error', () => {});
  s.on('close', () => { n++; if (!done()) loop(); else if (--running === 0) report(); });
  s.write(request);
}
let running = 8;
function report() {
  const c = process.cpuUsage(c0), sv = stat() - s0;
  console.log(`connect floor: ${n} connections, ${(n / secs) | 0}/s; client ${((c.user + c.system) / n).toFixed(0)} us/conn (user ${(c.user / n).toFixed(0)}, system ${(c.system / n).toFixed(0)}), server ${(sv * 1000 / n).toFixed(0)} us/conn`);
}
t0 = performance.now(); c0 = process.cpuUsage(); s0 = stat();
for (let i = 0; i < 8; i++) loop();
