// The server side of an attack scenario, run in its own process so that its
// memory can be measured alone: `node --expose-gc server.mjs wsframe|ws MODE [JSON]`.
//
// MODE 'echo': echoes every message; wsframe pauses reading when send()
//   returns false and resumes on 'drain' (as `npm run echo` does); ws echoes
//   as its own examples do.
// MODE 'throw': echoes, but the 'message' listener throws on the text 'throw';
//   a process 'uncaughtException' handler records what reached it.
// MODE 'send': sends options.count messages of options.size bytes to each
//   client, waiting whenever the library says so (wsframe: send() false, then
//   'drain'; ws: bufferedAmount at the mark, then the socket's 'drain').
//
// IPC: sends { ready, port } once listening. Answers { cmd: 'mem' } with
// process memory after two GCs, { cmd: 'stats' } with counters.
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const [impl, mode, json] = process.argv.slice(2);
const options = JSON.parse(json ?? '{}');
const maxMessageSize = options.maxMessageSize ?? 64 * 2 ** 20;
const stats = { connections: 0, open: 0, falses: 0, drains: 0, sent: 0, closes: {}, warnings: [], errors: 0, uncaught: [] };
if (mode === 'throw') process.on('uncaughtException', (error) => stats.uncaught.push(error.message));
process.on('warning', (warning) => stats.warnings.push(`${warning.name}: ${warning.message}`));

const server = http.createServer((request, response) => response.writeHead(404).end());
const payload = Buffer.alloc(options.size ?? 100, 0x61);
let memoryBytes = () => 0;
let outputBytes = () => 0;

if (impl === 'wsframe') {
  const { accept, Decoder } = await import(path.join(ROOT, 'dist/node/index.js'));
  memoryBytes = () => Decoder.memoryBytes();
  const live = new Set();
  outputBytes = () => { let n = 0; for (const ws of live) n += ws.bufferedAmount; return n; };
  server.on('upgrade', (request, socket, head) => {
    const ws = accept(request, socket, head, { maxMessageSize, ...(options.readMode ? { readMode: options.readMode } : {}) });
    if (ws === null) return;
    stats.connections++;
    stats.open++;
    live.add(ws);
    ws.on('error', () => { stats.errors++; });
    ws.on('close', (code) => { stats.open--; live.delete(ws); stats.closes[code] = (stats.closes[code] ?? 0) + 1; });
    if (mode === 'echo' || mode === 'throw') {
      let paused = false;
      ws.on('drain', () => { stats.drains++; paused = false; ws.resume(); });
      ws.on('message', (data, binary) => {
        if (mode === 'throw' && !binary && Buffer.from(data).toString() === 'throw') throw new Error('listener failed');
        if (!ws.send(data, { binary })) {
          stats.falses++;
          if (!paused) { paused = true; ws.pause(); }
        }
      });
    } else {
      let i = 0;
      const pump = () => {
        while (i < options.count) {
          i++;
          stats.sent++;
          if (!ws.send(payload)) { stats.falses++; return; }
        }
      };
      ws.on('drain', () => { stats.drains++; pump(); });
      ws.on('open', pump);
    }
  });
} else {
  const require = createRequire(path.join(ROOT, 'package.json'));
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxMessageSize, perMessageDeflate: false });
  outputBytes = () => { let n = 0; for (const ws of wss.clients) n += ws.bufferedAmount; return n; };
  server.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => {
      stats.connections++;
      stats.open++;
      ws.on('error', () => { stats.errors++; });
      ws.on('close', (code) => { stats.open--; stats.closes[code] = (stats.closes[code] ?? 0) + 1; });
      if (mode === 'echo') {
        ws.on('message', (data, binary) => ws.send(data, { binary }));
      } else {
        let i = 0;
        const mark = ws._socket.writableHighWaterMark;
        const pump = () => {
          while (i < options.count) {
            i++;
            stats.sent++;
            ws.send(payload);
            if (ws.bufferedAmount >= mark) {
              stats.falses++;
              ws._socket.once('drain', () => { stats.drains++; pump(); });
              return;
            }
          }
        };
        pump();
      }
    });
  });
}

process.on('message', (message) => {
  if (message.cmd === 'mem') {
    globalThis.gc?.();
    globalThis.gc?.();
    setImmediate(() => {
      globalThis.gc?.();
      const usage = process.memoryUsage();
      process.send({ reply: 'mem', rss: usage.rss, heapTotal: usage.heapTotal, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers, wasm: memoryBytes(), output: outputBytes() });
    });
  } else if (message.cmd === 'stats') {
    process.send({ reply: 'stats', ...stats, output: outputBytes() });
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
