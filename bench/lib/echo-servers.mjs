// Child process for workload 5: three loopback echo servers on 127.0.0.1
// (ws, uWebSockets.js, wsframe's Node adapter), ephemeral ports. Forked by
// loopback.mjs; exits when the parent disconnects. Answers {cmd:'cpu'} with
// process.cpuUsage() so the parent can report server CPU per round trip.
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { loadImpl } from './impl.mjs';

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
    const ws = impl.accept(req, socket, head, { maxMessageSize: MAX, zeroCopy: true });
    if (!ws) return; // handshake rejected (accept answered 400/426)
    ws.on('message', (data, binary) => ws.send(data, { binary }));
    ws.on('error', () => {});
  });
  return listen(server);
}

/** uWS only if the native addon loads — its JS fallback (built on ws) is refused. */
async function uwsServer() {
  let uWS;
  try {
    const pkgDir = path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
    const bin = path.join(pkgDir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
    uWS = require(bin);
  } catch (e) {
    return { port: 0, error: `native uWebSockets.js unavailable: ${String(e.message).split('\n')[0]}` };
  }
  return new Promise((resolve) => {
    uWS.App().ws('/*', {
      compression: uWS.DISABLED,
      maxPayloadLength: MAX,
      maxBackpressure: 256 * 2 ** 20,
      idleTimeout: 0,
      message: (ws, message, isBinary) => { ws.send(message, isBinary); },
    }).listen('127.0.0.1', 0, (token) => {
      resolve(token ? { port: uWS.us_socket_local_port(token) } : { port: 0, error: 'uWS listen failed' });
    });
  });
}

const impl = await loadImpl();
const [ws, ours, uws] = await Promise.all([wsServer(), oursServer(impl), uwsServer()]);
process.on('message', (m) => {
  if (m?.cmd === 'cpu') process.send({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, ports: { ws, ours, uws: uws.port }, uwsError: uws.error ?? null, nodeName: impl.nodeName, coreName: impl.coreName });
