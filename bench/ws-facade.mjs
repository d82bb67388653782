// What wsframe/ws costs over the native accept(): the same echo server written
// three ways (native accept(), wsframe/ws WebSocketServer, ws), each in its own
// process, driven by one raw TCP client (precomputed masked frames, so the
// client costs the same for all). Reports the server's CPU time per operation
// (process.cpuUsage, user + system) and the wall time.
//
//   node bench/ws-facade.mjs [--rounds N] [--repeat N] [--only 0|1] [--modes native,facade,ws]
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


async function runServer(mode, zeroCopy) {
  const server = http.createServer();
  const echo = (ws) => ws.on('message', (data, binary) => ws.send(data, { binary }));
  if (mode === 'native') {
    const { accept } = await import('wsframe');
    server.on('upgrade', (req, socket, head) => {
      const ws = accept(req, socket, head, { zeroCopy, maxMessageSize: 64 * MiB });
      if (ws) echo(ws);
    });
  } else {
    const { WebSocketServer } = await import(mode === 'ws' ? 'ws' : 'wsframe/ws');
    const wss = new WebSocketServer({ server, maxPayload: 64 * MiB, perMessageDeflate: false, ...(mode === 'facade' ? { zeroCopy } : {}) });
    wss.on('connection', echo);
  }
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
    rounds: 30,
  },
  {
    name: '10k x 32 B pipelined echo',
    build() {
      const pieces = [];
      for (let i = 0; i < 10_000; i++) pieces.push(frame(2, randomBytes(32), true));
      return { bytes: Buffer.concat(pieces), answer: 10_000 * 34, ops: 10_000 };
    },
    rounds: 30,
  },
];

export async function measure(mode, zeroCopy, workload, input, rounds) {
  const child = fork(new URL(import.meta.url).pathname, ['server', mode, zeroCopy ? 'zero-copy' : 'owned'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = asker(child);
  const port = await ask(null, 'port');
  const client = await rawClient(port);
  for (let i = 0; i < 3; i++) await client.roundTrip(input.bytes, input.answer); // warm-up
  await ask('mark', 'marked');
  const started = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) await client.roundTrip(input.bytes, input.answer);
  const wallNs = Number(process.hrtime.bigint() - started);
  const cpuMicros = await ask('read', 'cpuMicros');
  client.close();
  child.send('exit');
  await once(child, 'exit');
  const ops = rounds * input.ops;
  return { cpuPerOpUs: cpuMicros / ops, wallPerOpUs: wallNs / 1000 / ops };
}

async function main() {
  const roundsArg = process.argv.indexOf('--rounds');
  const repeatArg = process.argv.indexOf('--repeat');
  const repeat = repeatArg > 0 ? Number(process.argv[repeatArg + 1]) : 3;
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? Number(process.argv[onlyArg + 1]) : -1;
  const modesArg = process.argv.indexOf('--modes');
  const allModes = [['native', false], ['facade', false], ['native', true], ['facade', true], ['ws', false]];
  // --modes native,facade: only those (owned data), e.g. to compare the two alone.
  const modes = modesArg > 0 ? allModes.filter(([mode, zeroCopy]) => !zeroCopy && process.argv[modesArg + 1].split(',').includes(mode)) : allModes;
  for (const [index, workload] of workloads.entries()) {
    if (only >= 0 && index !== only) continue;
    const input = workload.build();
    const rounds = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : workload.rounds;
    console.log(`\n${workload.name} (${rounds} rounds, best of ${repeat}, server CPU per op)`);
    const results = {};
    for (const [mode, zeroCopy] of modes) {
      let best = null;
      for (let r = 0; r < repeat; r++) {
        const result = await measure(mode, zeroCopy, workload, input, rounds);
        if (best === null || result.cpuPerOpUs < best.cpuPerOpUs) best = result;
      }
      const label = mode === 'native' ? `native accept()${zeroCopy ? ' zeroCopy' : ''}` : mode === 'facade' ? `wsframe/ws${zeroCopy ? ' zeroCopy' : ''}` : 'ws 8';
      results[label] = best;
    }
    const base = results['native accept()']?.cpuPerOpUs ?? NaN;
    const baseZero = results['native accept() zeroCopy']?.cpuPerOpUs ?? NaN;
    for (const [label, result] of Object.entries(results)) {
      const ref = label.includes('zeroCopy') ? baseZero : base;
      console.log(`  ${label.padEnd(28)} cpu ${result.cpuPerOpUs.toFixed(2).padStart(9)} µs/op  wall ${result.wallPerOpUs.toFixed(2).padStart(9)} µs/op  ${label.startsWith('native') ? '' : `(${((result.cpuPerOpUs / ref - 1) * 100).toFixed(1)}% vs native${label.includes('zeroCopy') ? ' zeroCopy' : ''})`}`);
    }
  }
}

const invoked = process.argv[1] === new URL(import.meta.url).pathname;
if (process.argv[2] === 'server') {
  await runServer(process.argv[3], process.argv[4] === 'zero-copy');
} else if (invoked) {
  await main();
}
