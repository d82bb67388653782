// Child process for workload 5: one loopback echo server on 127.0.0.1, on an
// ephemeral port: ws, uWebSockets.js or wsframe's Node adapter, as argv[2]
// says. Forked by loopback.mjs, once per server, so that each server's CPU
// time is its own: in one process, the garbage ws makes (a fresh Buffer per
// fragment and per message) was collected during the other servers'
// windows and counted as theirs. Exits when the parent disconnects. Answers
// {cmd:'cpu'} with process.cpuUsage() so the parent can report server CPU
// per round trip.
import http from 'node:http';
import { createRequire } from 'node:module';
import { loadImpl } from './impl.mjs';
import { startUwsEcho } from './uws-echo.mjs';

const require = createRequire(import.meta.url);
const MAX = 64 * 2 ** 20;

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function wsServer() {
  const { WebSocketServer } = require('ws');
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: MAX });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => {});
  });
  return listen(server);
}

async function oursServer(impl) {
  const server = http.createServer();
  server.on('upgrade', (req, socket, head) => {
    // zeroCopy: views valid during the listener, as uWebSockets.js hands its messages out;
    // the echo is sent before the listener returns (send() copies what must outlive it).
    // arena: large repeated messages are read into WebAssembly memory and echoed
    // from there (as `npm run echo` does).
    const ws = impl.accept(req, socket, head, { maxMessageSize: MAX, zeroCopy: true, arena: true });
    if (!ws) return; // handshake rejected (accept answered 400/426)
    // Back-pressure honoured as documented: stop reading on false, resume on 'drain'.
    let paused = false;
    ws.on('drain', () => { paused = false; ws.resume?.(); });
    ws.on('message', (data, binary) => {
      if (!ws.send(data, { binary }) && !paused && typeof ws.pause === 'function') { paused = true; ws.pause(); }
    });
    ws.on('error', () => {});
  });
  return listen(server);
}

const which = process.argv[2];
const impl = await loadImpl();
const started = which === 'ws' ? { port: await wsServer() }
  : which === 'ours' ? { port: await oursServer(impl) }
  : which === 'uws' ? await startUwsEcho({ maxPayload: MAX })
  : { port: 0, error: `unknown server ${which}` };
process.on('message', (m) => {
  if (m?.cmd === 'cpu') process.send({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, port: started.port, error: started.error ?? null, nodeName: impl.nodeName, coreName: impl.coreName });
