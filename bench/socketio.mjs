// socket.io over wsframe/ws against socket.io over ws (its default engine):
// each server in its own process, socket.io-client in this one (websocket
// transport). Reports the server's CPU time per operation (user + system).
//
//   node bench/socketio.mjs [--clients 1000] [--windows 7] [--echoes 500] [--broadcasts 5]
//
// Workloads: an echo round trip (emitWithAck, one client, sequential), and one
// io.emit() broadcast received by every one of N clients. Both servers run at
// once and are measured in alternating windows (so that load from other
// processes lands on both alike): each figure is the median over the windows,
// each ratio the median of the per-window ratios.
import { fork } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { asker, serveCpuMarks } from './lib/server-child.mjs';

const argument = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function runServer(engine) {
  const { Server } = await import('socket.io');
  const wsEngine = engine === 'wsframe' ? (await import('wsframe/ws')).WebSocketServer : (await import('ws')).WebSocketServer;
  const httpServer = http.createServer();
  // No heartbeats during the measurement: 1,000 clients' pings would land in random windows.
  const io = new Server(httpServer, { wsEngine, transports: ['websocket'], pingInterval: 600_000, pingTimeout: 600_000 });
  io.on('connection', (socket) => socket.on('echo', (payload, ack) => ack(payload)));
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  serveCpuMarks((message) => {
    if (message === 'broadcast') io.emit('tick', { at: Date.now(), text: 'x'.repeat(64) });
  });
  process.send({ port: httpServer.address().port });
}

/** One server child, an echo client and `clientCount` broadcast receivers. */
async function startServer(engine, clientCount) {
  const { io: connect } = await import('socket.io-client');
  const child = fork(new URL(import.meta.url).pathname, ['server', engine], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: (process.env.SERVER_EXEC_ARGV ?? '').split(' ').filter(Boolean) });
  const ask = asker(child);
  const port = await ask(null, 'port');
  const url = `http://127.0.0.1:${port}`;
  const echoClient = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await once(echoClient, 'connect');
  for (let i = 0; i < 200; i++) await echoClient.emitWithAck('echo', i); // warm-up
  const clients = [];
  for (let i = 0; i < clientCount; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(clientCount, i + 50); j++) {
      const c = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
      clients.push(c);
      batch.push(once(c, 'connect'));
    }
    await Promise.all(batch);
  }
  let received = 0;
  let waiting = null;
  for (const c of clients) {
    c.on('tick', () => {
      if (++received === clientCount && waiting !== null) waiting();
    });
  }
  const broadcast = () => {
    received = 0;
    const done = new Promise((resolve) => { waiting = resolve; });
    child.send('broadcast');
    return done;
  };
  await broadcast(); // warm-up
  const window = async (count, op) => {
    await ask('mark', 'marked');
    for (let i = 0; i < count; i++) await op(i);
    return (await ask('read', 'cpuMicros')) / count;
  };
  return {
    /** Server CPU µs per echo round trip over `count` of them. */
    echo: (count) => window(count, (i) => echoClient.emitWithAck('echo', { i, text: 'hello' })),
    /** Server CPU µs per broadcast over `count` of them. */
    broadcast: (count) => window(count, broadcast),
    async stop() {
      echoClient.disconnect();
      for (const c of clients) c.disconnect();
      child.send('exit');
      await once(child, 'exit');
    },
  };
}

/**
 * socket.io over each engine of `engines` ('wsframe', 'ws'), measured side by
 * side in `windows` alternating windows. Returns per engine the server CPU µs
 * per echo round trip and per broadcast to `clientCount` clients, one value
 * per window.
 */
export async function measureSideBySide(engines, clientCount, { windows, echoes, broadcasts }) {
  const servers = [];
  try {
    for (const engine of engines) servers.push(await startServer(engine, clientCount));
    const results = engines.map(() => ({ echo: [], broadcast: [] }));
    for (let w = 0; w < windows; w++) {
      for (let k = 0; k < servers.length; k++) {
        const i = (w + k) % servers.length;
        results[i].echo.push(await servers[i].echo(echoes));
        results[i].broadcast.push(await servers[i].broadcast(broadcasts));
      }
    }
    return results;
  } finally {
    for (const server of servers) await server.stop();
  }
}

export function summarise(results) {
  const [wsframe, ws] = results;
  const ratio = (key) => median(wsframe[key].map((v, w) => v / ws[key][w]));
  return {
    wsframe: { echo: median(wsframe.echo), broadcast: median(wsframe.broadcast) },
    ws: { echo: median(ws.echo), broadcast: median(ws.broadcast) },
    ratio: { echo: ratio('echo'), broadcast: ratio('broadcast') },
  };
}

async function main() {
  const clientCount = argument('--clients', 1000);
  const windows = argument('--windows', 7);
  const options = { windows, echoes: argument('--echoes', 500), broadcasts: argument('--broadcasts', 5) };
  console.log(`socket.io server CPU per operation (websocket transport), median of ${windows} alternating windows`);
  const results = await measureSideBySide(['wsframe', 'ws'], clientCount, options);
  const summary = summarise(results);
  const range = (values, scale) => `${(Math.min(...values) / scale).toFixed(scale === 1 ? 0 : 2)}-${(Math.max(...values) / scale).toFixed(scale === 1 ? 0 : 2)}`;
  for (const [i, engine] of ['wsframe', 'ws'].entries()) {
    const { echo, broadcast } = summary[engine];
    console.log(`  ${(engine === 'wsframe' ? 'socket.io over wsframe/ws' : 'socket.io over ws').padEnd(28)} echo round trip ${echo.toFixed(1).padStart(7)} µs (${range(results[i].echo, 1)})   broadcast to ${clientCount} ${(broadcast / 1000).toFixed(2).padStart(7)} ms (${range(results[i].broadcast, 1000)})`);
  }
  console.log(`  wsframe/ws ÷ ws, median of the per-window ratios: echo ${summary.ratio.echo.toFixed(3)}, broadcast ${summary.ratio.broadcast.toFixed(3)}`);
}

const invoked = process.argv[1] === new URL(import.meta.url).pathname;
if (process.argv[2] === 'server') {
  await runServer(process.argv[3]);
} else if (invoked) {
  await main();
}
