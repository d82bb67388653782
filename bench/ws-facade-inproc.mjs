// The per-message cost of wsframe/ws over the native accept() with no kernel
// in the way: both echo servers (bench/ws-facade.mjs's, back-pressure and all)
// run in this process on in-memory Duplex sockets that take every write at
// once, fed the same 10,000 masked 32 B frames per round. What is timed is
// only JavaScript and WebAssembly (process CPU time per message): the
// difference is the facade's own work, without the system-call noise of the
// loopback rows.
//
//   node bench/ws-facade-inproc.mjs [--rounds 200] [--windows 9]
import { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { echoServer, workloads } from './ws-facade.mjs';

const option = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** A socket that accepts every write at once and counts the bytes. */
function memorySocket() {
  const socket = new Duplex({
    read() {},
    write(chunk, _encoding, callback) { socket.bytesOut += chunk.length; callback(); },
    writev(chunks, callback) { for (const { chunk } of chunks) socket.bytesOut += chunk.length; callback(); },
  });
  socket.bytesOut = 0;
  socket.setNoDelay = () => socket;
  socket.setTimeout = () => socket;
  return socket;
}

/** Upgrades an in-memory socket on the echo server of `mode`; returns (chunk) => bytes echoed. */
async function connect(mode) {
  const server = await echoServer(mode, false);
  const socket = memorySocket();
  const request = {
    method: 'GET', url: '/', httpVersion: '1.1', socket,
    headers: { host: 'localhost', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-version': '13' },
  };
  server.emit('upgrade', request, socket, Buffer.alloc(0));
  await new Promise((resolve) => setImmediate(resolve));
  return async (chunk) => {
    const before = socket.bytesOut;
    socket.push(chunk);
    // Let 'data', the per-tick flush and any pause/'drain' run.
    await new Promise((resolve) => setImmediate(resolve));
    return socket.bytesOut - before;
  };
}

const input = workloads[1].build();  // 10,000 masked 32 B frames
const rounds = option('--rounds', 100);
const windows = option('--windows', 9);
const modes = ['native', 'facade'];
const feeds = [];
for (const mode of modes) feeds.push(await connect(mode));
for (const feed of feeds) for (let i = 0; i < 20; i++) await feed(input.bytes); // warm-up
const samples = modes.map(() => []);
for (let w = 0; w < windows; w++) {
  for (let k = 0; k < modes.length; k++) {
    const i = (w + k) % modes.length;
    let echoed = 0;
    const start = process.cpuUsage();
    for (let r = 0; r < rounds; r++) echoed += await feeds[i](input.bytes);
    const used = process.cpuUsage(start);
    if (echoed < rounds * input.answer) throw new Error(`${modes[i]}: ${echoed} bytes echoed, expected ${rounds * input.answer}`);
    samples[i].push((used.user + used.system) / (rounds * input.ops) * 1000);
  }
}
console.log(`10,000 x 32 B echoed in process, ${windows} alternating windows of ${rounds} rounds: CPU ns per message, median (min-max)`);
for (const [i, mode] of modes.entries()) {
  const values = samples[i];
  const ratio = i === 0 ? '' : `  ${median(values.map((v, w) => v / samples[0][w])).toFixed(3)} × native`;
  console.log(`  ${(mode === 'native' ? 'native accept()' : 'wsframe/ws').padEnd(16)} ${median(values).toFixed(0).padStart(5)} ns  (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)})${ratio}`);
}
