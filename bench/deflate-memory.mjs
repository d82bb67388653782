#!/usr/bin/env node
// Memory per connection with permessage-deflate and context takeover: a server
// (wsframe accept(), or ws's WebSocketServer, same settings: threshold 0, zlib
// defaults, window 15, takeover both ways) in a child process holds N
// connections, each of which has inflated one compressed message and
// compressed its echo, so both zlib streams exist. The clients are raw
// sockets in this process (a precompressed frame, echoes discarded), so they
// cost the server nothing beyond what a real client would.
//
//   node bench/deflate-memory.mjs [--connections 10000] [--messages 0]
//   --messages M: then M more compressed messages on ONE connection (100,000:
//   the "no growth" run), memory before/after reported.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
const { values: a, positionals } = parseArgs({
  allowPositionals: true,
  options: { connections: { type: 'string', default: '10000' }, messages: { type: 'string', default: '0' } },
});

const MESSAGE = Buffer.from(JSON.stringify({ type: 'chat', text: 'hello from a compressing client '.repeat(30), n: 1 }));
/** The message compressed alone (no history), tail removed (RFC 7692 §7.2.1). */
const COMPRESSED = (() => {
  const c = zlib.deflateRawSync(MESSAGE, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return c.subarray(0, c.length - 4);
})();

function maskedFrame(payload) {
  const key = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0xc1, 0x80 | len]) : Buffer.from([0xc1, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ key[i & 3];
  return Buffer.concat([head, key, body]);
}

// ---------------------------------------------------------------- child: the server under test
async function child(which) {
  const gc = globalThis.gc;
  const wasm = which === 'wsframe' ? (await import('wsframe')).Decoder.memoryBytes : () => 0;
  // external includes the WebAssembly memory (wasm); zlib's own allocations are in rss only.
  const usage = () => { gc(); gc(); const m = process.memoryUsage(); return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, wasm: wasm() }; };
  const server = createServer();
  let echoed = 0;
  const sockets = [];
  if (which === 'wsframe') {
    const { accept } = await import('wsframe');
    server.on('upgrade', (req, socket, head) => {
      const s = accept(req, socket, head, { perMessageDeflate: process.env.PMD_OFF ? false : { threshold: 0 }, ...(process.env.READ_MODE ? { readMode: process.env.READ_MODE } : {}) });
      if (!s) return;
      sockets.push(s);
      s.on('message', (d, binary) => { s.send(d, { binary }); echoed++; });
    });
  } else {
    const { WebSocketServer } = await import('ws');
    const wss = new WebSocketServer({ noServer: true, perMessageDeflate: { threshold: 0 } });
    server.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (s) => {
      sockets.push(s);
      s.on('message', (d, binary) => { s.send(d, { binary }); echoed++; });
    }));
  }
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const baseline = usage();
  process.send({ port: server.address().port, baseline });
  process.on('message', (m) => {
    if (m === 'measure') process.send({ measured: usage(), echoed, connections: sockets.length });
    if (m === 'exit') process.exit(0);
  });
}

// ---------------------------------------------------------------- parent: raw clients
function rawClient(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let head = true;
    let waiting = null;
    let count = 0;
    socket.setNoDelay(true);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n`));
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      if (head) {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const text = buffered.subarray(0, end).toString();
        if (!/^HTTP\/1\.1 101/.test(text) || (!process.env.PMD_OFF && !/permessage-deflate/i.test(text))) return reject(new Error(`not negotiated: ${text}`));
        head = false;
        resolve({
          socket,
          /** Sends one compressed message; resolves when bytes come back (the echo's frame). */
          roundTrip(frame) { return new Promise((r) => { waiting = r; socket.write(frame); }); },
          get count() { return count; },
        });
        return;
      }
      count++;
      const w = waiting;
      waiting = null;
      w?.();
    });
  });
}

async function parent() {
  const n = Number(a.connections);
  const messages = Number(a.messages);
  const frame = maskedFrame(COMPRESSED);
  const results = {};
  for (const which of ['wsframe', 'ws']) {
    const c = spawn(process.execPath, ['--expose-gc', HERE, 'child', which], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const next = () => new Promise((r) => c.once('message', r));
    const { port, baseline } = await next();
    const clients = [];
    for (let i = 0; i < n; i += 200) {
      const batch = await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => rawClient(port)));
      // Each connection inflates one message (its inflater) and compresses the echo (its deflater).
      await Promise.all(batch.map((b) => b.roundTrip(frame)));
      clients.push(...batch);
    }
    c.send('measure');
    const { measured, echoed, connections } = await next();
    const per = (k) => (measured[k] - baseline[k]) / n;
    results[which] = { connections, echoed, perConnectionKiB: Object.fromEntries(['rss', 'heapUsed', 'external', 'arrayBuffers', 'wasm'].map((k) => [k, Math.round(per(k) / 102.4) / 10])) };
    if (messages > 0) {
      // One connection, many compressed messages: the same frame (the client
      // compresses without history) is valid each time for a server with takeover.
      const one = clients[0];
      const before = await (c.send('measure'), next());
      for (let i = 0; i < messages; i++) await one.roundTrip(frame);
      const after = await (c.send('measure'), next());
      results[which].manyMessages = { messages, rssDeltaMiB: +((after.measured.rss - before.measured.rss) / 2 ** 20).toFixed(2), externalDeltaMiB: +((after.measured.external - before.measured.external) / 2 ** 20).toFixed(2), heapDeltaMiB: +((after.measured.heapUsed - before.measured.heapUsed) / 2 ** 20).toFixed(2) };
    }
    for (const cl of clients) cl.socket.destroy();
    c.send('exit');
    await new Promise((r) => c.once('exit', r));
  }
  console.log(JSON.stringify({ node: process.version, connections: n, message: `${MESSAGE.length} B JSON, compressed ${COMPRESSED.length} B`, results }, null, 2));
}

if (positionals[0] === 'child') await child(positionals[1]);
else await parent();
