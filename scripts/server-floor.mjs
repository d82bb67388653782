// Where a Node echo server's CPU goes on the reference round trip (Autobahn
// 9.4.3: 4 MiB in 4096 masked 1 KiB fragments, echoed as one frame), beside
// uWebSockets.js, for the README's "Benchmarks" and issue 13:
//
//   node scripts/server-floor.mjs [--rounds 5] [--messages 600]
//
// Four servers, each its own process, measured in turn (rotating order) by
// wsframe-bench's `ref` workload over 127.0.0.1; server CPU (user and system,
// /proc/PID/stat) per round trip, medians over the rounds:
//   uws          uWebSockets.js (native C++), scripts/echo-server.mjs
//   node-io      Node's floor: `onread` into a fixed 1 MiB buffer, bytes only
//                counted, a pre-encoded echo written per message (no unmasking,
//                no reassembly: nothing a WebSocket server can skip is done)
//   node-io-tail node-io, but each read lands after the previous one in a 4 MiB
//                region, as if the socket read straight into the message being
//                reassembled (what skipping the copy into it would cost the kernel)
//   node-decode  node-io plus wsframe's Decoder on the same reads (unmasking,
//                reassembly into a recycled buffer), still a pre-encoded echo
//   wsframe      `npm run echo` (dist/cli/echo.js): the whole server
//
// This file is also the node-io / node-decode server: `--serve MODE`.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { startServer as start } from './lib/start-server.mjs';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const option = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};

/** The ref workload's bytes per message on the wire: 4096 frames of 1024 bytes, 8-byte masked headers. */
const WIRE_BYTES = 4096 * (1024 + 8);

async function serve(mode) {
  const { switchToOnread } = await import(join(root, 'dist/node/onread.js'));
  const { Decoder } = await import(join(root, 'dist/core/index.js'));
  const server = http.createServer();
  server.on('upgrade', (request, socket) => {
    const accept = createHash('sha1').update(`${request.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.setNoDelay(true);
    // The generator checks every echo: the first message is decoded and its echo
    // kept; afterwards (every message carries the same payload) it is re-sent.
    let echo = null;
    const counted = Buffer.allocUnsafe(1 << 20);
    const region = Buffer.alloc(WIRE_BYTES + (1 << 20));
    let bytes = 0;
    // The generator ends each run with a closing handshake (§5.5.1): answer it.
    const close = () => socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
    const decoder = new Decoder({
      role: 'server', maxMessageSize: 64 << 20, maxFragments: 0, onClose: close,
      onMessage(data) {
        if (echo === null) {
          const header = Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 0, 0, 0]);
          header.writeUInt32BE(data.length, 6);
          echo = Buffer.concat([header, data]);
        }
        socket.write(echo);
      },
    });
    const counting = () => mode.startsWith('node-io') && echo !== null;
    let target = counted;
    const countInto = () => (target = mode === 'node-io' ? counted : region.subarray(bytes, bytes + (1 << 20)));
    switchToOnread(socket, {
      readBuffer: () => (counting() ? countInto() : decoder.readBuffer()),
      pushReadBuffer(n) {
        if (!counting()) return decoder.pushReadBuffer(n);
        if (bytes === 0 && n < 256 && (target[0] & 0x0f) === 0x8) return close();
        for (bytes += n; bytes >= WIRE_BYTES; bytes -= WIRE_BYTES) socket.write(echo);
      },
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port} ${process.pid}`));
}

/** User and system CPU of a process in microseconds. */
function cpu(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tick = 1e6 / 100;  // USER_HZ
  return { user: Number(fields[11]) * tick, sys: Number(fields[12]) * tick };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function measure() {
  const rounds = Number(option('rounds', '5'));
  const messages = Number(option('messages', '600'));
  const servers = {
    uws: await start(['scripts/echo-server.mjs', 'uws', '0']),
    'node-io': await start(['scripts/server-floor.mjs', '--serve', 'node-io']),
    'node-io-tail': await start(['scripts/server-floor.mjs', '--serve', 'node-io-tail']),
    'node-decode': await start(['scripts/server-floor.mjs', '--serve', 'node-decode']),
    wsframe: await start(['dist/cli/echo.js', '--port', '0']),
  };
  const names = Object.keys(servers);
  const results = Object.fromEntries(names.map((name) => [name, { user: [], sys: [] }]));
  const bench = (port, n) => execFileSync(process.execPath, ['dist/cli/wsframe-bench.js', `ws://127.0.0.1:${port}/`, '-w', 'ref', '-n', String(n), '--warmup', '0', '-q'], { cwd: root });
  try {
    for (const name of names) bench(servers[name].port, 100);  // warm up every server once
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(round + k) % names.length];
        const { port, pid } = servers[name];
        const before = cpu(pid);
        bench(port, messages);
        const after = cpu(pid);
        results[name].user.push((after.user - before.user) / messages);
        results[name].sys.push((after.sys - before.sys) / messages);
      }
    }
  } finally {
    for (const { child } of Object.values(servers)) child.kill();
  }
  const total = (name) => median(results[name].user.map((u, i) => u + results[name].sys[i]));
  console.log(`server CPU per 9.4.3 round trip, µs (medians of ${rounds} rounds × ${messages} messages)`);
  console.log('server        user    sys  total  ÷ uws');
  for (const name of names) {
    const r = results[name];
    console.log(`${name.padEnd(12)} ${median(r.user).toFixed(0).padStart(5)} ${median(r.sys).toFixed(0).padStart(6)} ${total(name).toFixed(0).padStart(6)}  ${(total(name) / total('uws')).toFixed(2)}`);
  }
}

const mode = option('serve', null);
if (mode !== null) await serve(mode);
else await measure();
