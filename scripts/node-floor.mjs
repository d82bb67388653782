// The floor of any Node WebSocket client, for the README's "is the generator
// the limit?": one socket, `onread` into a fixed buffer, no WebSocket parsing,
// one pre-encoded masked ping written per pong; prints CPU µs per round trip
// for this process and for the server (/proc/PID/stat).
//   node scripts/node-floor.mjs PORT SERVER_PID [SECONDS]   (MODE=direct: handle writes, internals)
import net from 'node:net';
import { readFileSync } from 'node:fs';
const { WriteWrap } = process.binding('stream_wrap');
const [port, pid, secs = 3] = process.argv.slice(2).map(Number);
const stat = () => { const f = readFileSync(`/proc/${pid}/stat`, 'latin1'); const x = f.slice(f.lastIndexOf(')') + 2).split(' '); return (Number(x[11]) + Number(x[12])) * 10; };
const rbuf = Buffer.alloc(65536);
let n = 0, t0, c0, s0, first = true;
const ping = Buffer.from([0x89, 0x80 | 4, 1, 2, 3, 4, 0, 0, 0, 0]);
const mode = process.env.MODE ?? 'stream';
let s;
const send = () => {
  if (mode === 'direct') { const req = new WriteWrap(); req.handle = s._handle; req.oncomplete = () => {}; req.async = false; const err = s._handle.writeBuffer(req, ping); if (err) throw new Error('w' + err); }
  else s.write(ping);
};
s = net.connect({ port, host: '127.0.0.1', onread: { buffer: rbuf, callback: (len) => {
  if (first) { first = false; t0 = performance.now(); c0 = process.cpuUsage(); s0 = stat(); send(); return; }
  n++;
  if (performance.now() - t0 < secs * 1000) send();
  else { const c = process.cpuUsage(c0); const sv = stat() - s0; console.log(`${mode}: ${n} ops, ${(n / secs) | 0}/s; client ${((c.user + c.system) / n).toFixed(1)} us/op (user ${(c.user / n).toFixed(1)}, system ${(c.system / n).toFixed(1)}), server ${(sv * 1000 / n).toFixed(1)} us/op`); s.destroy(); }
} } });
s.setNoDelay(true);
s.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
