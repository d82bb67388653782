// What wsframe/ws costs over the native accept(): the same echo server written
// three ways (native accept(), wsframe/ws WebSocketServer, ws), each in its own
// process, driven by one raw TCP client (precomputed masked frames, so the
// client costs the same for all). Reports the server's CPU time per operation
// (process.cpuUsage, user + system).
//
//   node bench/ws-facade.mjs [--windows N] [--rounds N] [--only 0|1] [--modes native,facade,ws]
//
// All the servers run at once and are measured in alternating windows (so
// that load from other processes lands on all of them alike); each row is the
// median over the windows, each ratio the median of the per-window ratios.
// Every echo applies back-pressure: the native one honours send()'s verdict
// (pause on false, resume on 'drain'), the ws-API ones pause once
// bufferedAmount reaches the socket's mark and resume from the send callback.
//
// Workloads: a 4 MiB message sent as 4096 fragments of 1 KiB, echoed as one
// message; 10,000 messages of 32 B written at once (pipelined), each echoed.
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { asker, serveCpuMarks } from './lib/server-child.mjs';
import { randomBytes } from 'node:crypto';

const MiB = 2 ** 20;


/**
 * The echo server of `mode` ('native', 'facade' or 'ws') on a new http.Server
 * (not listening yet); bench/profile-server.mjs profiles the same servers.
 */
export async function echoServer(mode, zeroCopy) {
  const server = http.createServer();
  if (mode === 'native') {
    const { accept } = await import('wsframe');
    server.on('upgrade', (req, socket, head) => {
      const ws = accept(req, socket, head, { zeroCopy, maxMessageSize: 64 * MiB });
      if (!ws) return;
      // The documented pattern (README, back-pressure): send() false means
      // stop reading until the one 'drain' that follows.
      let paused = false;
      ws.on('drain', () => { paused = false; ws.resume(); });
      ws.on('message', (data, binary) => {
        if (!ws.send(data, { binary }) && !paused) { paused = true; ws.pause(); }
      });
    });
  } else {
    const { WebSocketServer } = await import(mode === 'ws' ? 'ws' : 'wsframe/ws');
    const wss = new WebSocketServer({ server, maxPayload: 64 * MiB, perMessageDeflate: false, ...(mode === 'facade' ? { zeroCopy } : {}) });
    wss.on('connection', (ws) => {
      // ws's API has no send() verdict: the same pattern with what it has.
      // Past the socket's mark, stop reading; the send callback (run once
      // the socket took the data) resumes.
      const mark = ws._socket.writableHighWaterMark;
      let paused = false;
      const resume = () => { paused = false; ws.resume(); };
      ws.on('message', (data, binary) => {
        if (paused || ws.bufferedAmount < mark) {
          ws.send(data, { binary });
          return;
        }
        paused = true;
        ws.pause();
        ws.send(data, { binary }, resume);
      });
    });
  }
  return server;
}

async function runServer(mode, zeroCopy) {
  const server = await echoServer(mode, zeroCopy);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  serveCpuMarks();
  process.send({ port: server.address().port });
}

function frame(opcode, payload, fin) {
  const mask = randomBytes(4);
  const length = payload.length;
  const header = length < 126 ? 6 : length < 65536 ? 8 : 14;
  const out = Buffer.allocUnsafe(header + length);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) out[1] = 0x80 | length;
  else if (length < 65536) { out[1] = 0x80 | 126; out.writeUInt16BE(length, 2); }
  else { out[1] = 0x80 | 127; out.writeBigUInt64BE(BigInt(length), 2); }
  mask.copy(out, header - 4);
  for (let i = 0; i < length; i++) out[header + i] = payload[i] ^ mask[i & 3];
  return out;
}

async function rawClient(port) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setNoDelay(true);
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  let head = Buffer.alloc(0);
  while (head.indexOf('\r\n\r\n') < 0) {
    const [chunk] = await once(socket, 'data');
    head = Buffer.concat([head, chunk]);
  }
  socket.pause();
  let expected = 0;
  let received = head.length - (head.indexOf('\r\n\r\n') + 4);
  let done = null;
  socket.on('data', (chunk) => {
    received += chunk.length;
    if (done !== null && received >= expected) {
      const resolve = done;
      done = null;
      resolve();
    }
  });
  socket.resume();
  return {
    /** Writes `bytes` and resolves once `answerBytes` more bytes came back. */
    roundTrip(bytes, answerBytes) {
      expected = received + answerBytes;
      const finished = new Promise((resolve) => { done = resolve; });
      socket.write(bytes);
      return finished;
    },
    close: () => socket.destroy(),
  };
}

export const workloads = [
  {
    name: '4 MiB / 4096 fragments echo',
    build() {
      const payload = randomBytes(4 * MiB);
      const pieces = [];
      for (let i = 0; i < 4096; i++) pieces.push(frame(i === 0 ? 2 : 0, payload.subarray(i * 1024, (i + 1) * 1024), i === 4095));
      return { bytes: Buffer.concat(pieces), answer: 10 + 4 * MiB, ops: 1 };
    },
    rounds: 10,
  },
  {
    name: '10k x 32 B pipelined echo',
    build() {
      const pieces = [];
      for (let i = 0; i < 10_000; i++) pieces.push(frame(2, randomBytes(32), true));
      return { bytes: Buffer.concat(pieces), answer: 10_000 * 34, ops: 10_000 };
    },
    rounds: 20,
  },
];

/** One server child and its raw client: `window(rounds)` is the server's CPU µs per op over `rounds` round trips. */
async function startServer(mode, zeroCopy, input) {
  const child = fork(new URL(import.meta.url).pathname, ['server', mode, zeroCopy ? 'zero-copy' : 'owned'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = asker(child);
  const port = await ask(null, 'port');
  const client = await rawClient(port);
  for (let i = 0; i < 3; i++) await client.roundTrip(input.bytes, input.answer); // warm-up
  return {
    async window(rounds) {
      await ask('mark', 'marked');
      for (let i = 0; i < rounds; i++) await client.roundTrip(input.bytes, input.answer);
      return (await ask('read', 'cpuMicros')) / (rounds * input.ops);
    },
    async stop() {
      client.close();
      child.send('exit');
      await once(child, 'exit');
    },
  };
}

export async function measure(mode, zeroCopy, workload, input, rounds) {
  const server = await startServer(mode, zeroCopy, input);
  const started = process.hrtime.bigint();
  const cpuPerOpUs = await server.window(rounds);
  const wallNs = Number(process.hrtime.bigint() - started);
  await server.stop();
  return { cpuPerOpUs, wallPerOpUs: wallNs / 1000 / (rounds * input.ops) };
}

/**
 * The servers of `modes` ([mode, zeroCopy] pairs) all running at once, measured
 * in alternating windows of `rounds` round trips (the first server of each
 * window rotating): load from other processes on a shared machine then lands
 * on all of them alike. Returns each mode's server CPU µs per op, one value per
 * window, in the order of `modes`.
 */
export async function measureSideBySide(modes, input, { windows, rounds }) {
  const servers = [];
  try {
    for (const [mode, zeroCopy] of modes) servers.push(await startServer(mode, zeroCopy, input));
    const samples = modes.map(() => []);
    for (let w = 0; w < windows; w++) {
      for (let k = 0; k < servers.length; k++) {
        const i = (w + k) % servers.length;
        samples[i].push(await servers[i].window(rounds));
      }
    }
    return samples;
  } finally {
    for (const server of servers) await server.stop();
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const option = (name, fallback) => {
    const index = process.argv.indexOf(name);
    return index > 0 ? process.argv[index + 1] : fallback;
  };
  const windows = Number(option('--windows', 9));
  const only = Number(option('--only', -1));
  const allModes = [['native', false], ['facade', false], ['native', true], ['facade', true], ['ws', false]];
  // --modes native,facade: only those (owned data), e.g. to compare the two alone.
  const wanted = option('--modes', null)?.split(',');
  const modes = wanted ? allModes.filter(([mode, zeroCopy]) => !zeroCopy && wanted.includes(mode)) : allModes;
  for (const [index, workload] of workloads.entries()) {
    if (only >= 0 && index !== only) continue;
    const input = workload.build();
    const rounds = Number(option('--rounds', workload.rounds));
    console.log(`\n${workload.name}: server CPU per op, median of ${windows} alternating windows of ${rounds} round trips (min-max)`);
    const samples = await measureSideBySide(modes, input, { windows, rounds });
    const nativeIndex = (zeroCopy) => modes.findIndex(([mode, z]) => mode === 'native' && z === zeroCopy);
    for (const [i, [mode, zeroCopy]] of modes.entries()) {
      const label = mode === 'native' ? `native accept()${zeroCopy ? ' zeroCopy' : ''}` : mode === 'facade' ? `wsframe/ws${zeroCopy ? ' zeroCopy' : ''}` : 'ws 8';
      const values = samples[i];
      const ref = nativeIndex(mode === 'ws' ? false : zeroCopy);
      // The ratio of each window to native's in the same round, then their median.
      const ratio = mode === 'native' || ref < 0 ? '' : `  ${median(values.map((v, w) => v / samples[ref][w])).toFixed(3)} × native${zeroCopy ? ' zeroCopy' : ''}`;
      console.log(`  ${label.padEnd(26)} ${median(values).toFixed(2).padStart(9)} µs/op  (${Math.min(...values).toFixed(2)}-${Math.max(...values).toFixed(2)})${ratio}`);
    }
  }
}

const invoked = process.argv[1] === new URL(import.meta.url).pathname;
if (process.argv[2] === 'server') {
  await runServer(process.argv[3], process.argv[4] === 'zero-copy');
} else if (invoked) {
  await main();
}
