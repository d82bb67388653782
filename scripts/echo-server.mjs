// An echo server for measuring wsframe-bench against (README figures):
// `node scripts/echo-server.mjs ws|uws [port]` listens on 127.0.0.1 and prints
// `listening PORT PID`. One server per process, so its CPU time
// (/proc/PID/stat, wsframe-bench --server-pid) is the server's alone.
// wsframe's own is `npm run echo -- --port N` (dist/cli/echo.js).
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [kind = 'ws', portText = '0'] = process.argv.slice(2);
const MAX = 64 * 2 ** 20;

function ready(port) {
  console.log(`listening ${port} ${process.pid}`);
}

if (kind === 'ws') {
  const { WebSocketServer } = require('ws');
  const server = http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: MAX });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('error', () => {});
  });
  server.listen(Number(portText), '127.0.0.1', () => ready(server.address().port));
} else if (kind === 'uws') {
  // The native addon only: the package's JS fallback is built on ws.
  const dir = path.dirname(require.resolve('@trufflesuite/uws-js-unofficial/package.json'));
  const uWS = require(path.join(dir, 'binaries', `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`));
  uWS.App().ws('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: MAX,
    maxBackpressure: 256 * 2 ** 20,
    idleTimeout: 0,
    message: (ws, message, isBinary) => { ws.send(message, isBinary); },
  }).listen('127.0.0.1', Number(portText), (token) => {
    if (!token) { console.error('uWS listen failed'); process.exit(1); }
    ready(uWS.us_socket_local_port(token));
  });
} else {
  console.error('usage: node scripts/echo-server.mjs ws|uws [port]');
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
