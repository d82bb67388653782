// Autobahn|Testsuite echo testee (fuzzingclient target), as `ws` ships one:
// `npm run echo -- --port N` echoes every message with its type on 127.0.0.1:N;
// `--workers N|auto` serves it from N processes (see workers.ts); a harness
// that forks it can read its CPU time (see cpu-marks.ts).
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import type { Socket } from 'node:net';
import { accept, type WebSocket } from '../node/index.js';
import { runsServer, workerCount } from './workers.js';
import { answerCpuMarks } from './cpu-marks.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1]! : fallback;
}

const port = Number(option('port', '9001'));
const host = option('host', '127.0.0.1');
// 'onread' (default: socket reads land straight in the decoder's WASM input area) or 'data'.
const readMode = option('read-mode', 'onread') === 'data' ? 'data' : 'onread';
const workers = workerCount(option('workers', '1'));
if (runsServer(workers, (address) => `wsframe echo server listening on ws://${address}`)) startServer();
// A harness that forks the server (the bench's every-core rows) reads its CPU time, workers included.
answerCpuMarks();

function startServer(): void {
  const sockets = new Set<Socket>();
  const webSockets = new Set<WebSocket>();

  const server = createServer((_request, response) => {
    response.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
    response.end('This is a WebSocket echo server\n');
  });

  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('upgrade', (request, socket, head) => {
    // 9.x sends messages up to 16 MiB in up to 65,537 frames: no fragment cap, 64 MiB limit.
    // zeroCopy: each message is echoed before its listener returns, so a view is
    // enough (send() copies what must outlive it): no owned copy per message.
    // arena: large repeated messages are read straight into WebAssembly memory
    // and echoed from there, without a copy into a message buffer.
    // permessage-deflate whenever the peer offers it (as ws's testees do); every message
    // compressed (threshold 0) so that sections 12/13 exercise both directions.
    const webSocket = accept(request, socket, head, {
      maxMessageSize: 64 * 2 ** 20, maxFragments: 0, readMode, zeroCopy: true, arena: true, perMessageDeflate: { threshold: 0 },
    });
    if (webSocket === null) return;
    webSockets.add(webSocket);
    let paused = false;
    webSocket.on('drain', () => {
      paused = false;
      webSocket.resume();
    });
    webSocket.on('message', (data: Uint8Array, binary: boolean) => {
      // The echo is written before the listener returns (the view is copied for the socket).
      // Back-pressure: once send() says wait, stop reading from this peer until
      // 'drain' (which follows every false exactly once). Messages already read
      // in the same socket read are still delivered and echoed.
      if (!webSocket.send(data, { binary }) && !paused) {
        paused = true;
        webSocket.pause();
      }
    });
    webSocket.on('error', () => {
      // Protocol errors are answered with a close frame by the connection itself.
    });
    webSocket.on('close', () => webSockets.delete(webSocket));
  });

  server.listen(port, host, () => {
    const address = server.address();
    const actualPort = typeof address === 'object' && address !== null ? address.port : port;
    // In a cluster the primary prints one line for all workers.
    if (cluster.isPrimary) console.log(`wsframe echo server listening on ws://${host}:${actualPort}`);
  });

  function shutdown(signal: string): void {
    console.log(`received ${signal}, shutting down`);
    server.close();
    for (const webSocket of webSockets) webSocket.terminate();
    for (const socket of sockets) socket.destroy();
    // Everything is closed; let the event loop drain, but never hang on exit.
    setTimeout(() => process.exit(0), 1_000).unref();
  }

  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}
