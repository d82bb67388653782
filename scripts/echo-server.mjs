// An echo server for measuring wsframe-bench against (README figures):
// `node scripts/echo-server.mjs ws|uws [port]` listens on 127.0.0.1 and prints
// `listening PORT PID`. One server per process, so its CPU time
// (/proc/PID/stat, wsframe-bench --server-pid) is the server's alone.
// wsframe's own is `npm run echo -- --port N` (dist/cli/echo.js).
import http from 'node:http';
import { createRequire } from 'node:module';
import { startUwsEcho } from '../bench/lib/uws-echo.mjs';

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
  const { port, error } = await startUwsEcho({ port: Number(portText), maxPayload: MAX });
  if (error) { console.error(error); process.exit(1); }
  ready(port);
} else {
  console.error('usage: node scripts/echo-server.mjs ws|uws [port]');
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
