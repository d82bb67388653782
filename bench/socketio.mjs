// socket.io over wsframe/ws against socket.io over ws (its default engine):
// the server in its own process, socket.io-client in this one (websocket
// transport). Reports the server's CPU time per operation (user + system).
//
//   node bench/socketio.mjs [--clients 1000] [--rounds 20]
//
// Workloads: an echo round trip (emitWithAck, one client, sequential), and one
// io.emit() broadcast received by every one of N clients.
import { fork } from 'node:child_process';
import http from 'node:http';
import { once } from 'node:events';
import { asker, serveCpuMarks } from './lib/server-child.mjs';

const argument = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index > 0 ? Number(process.argv[index + 1]) : fallback;
};

async function runServer(engine) {
  const { Server } = await import('socket.io');
  const wsEngine = engine === 'wsframe' ? (await import('wsframe/ws')).WebSocketServer : (await import('ws')).WebSocketServer;
  const httpServer = http.createServer();
  const io = new Server(httpServer, { wsEngine, transports: ['websocket'] });
  io.on('connection', (socket) => socket.on('echo', (payload, ack) => ack(payload)));
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  serveCpuMarks((message) => {
    if (message === 'broadcast') io.emit('tick', { at: Date.now(), text: 'x'.repeat(64) });
  });
  process.send({ port: httpServer.address().port });
}

export async function measure(engine, clientCount, rounds) {
  const { io: connect } = await import('socket.io-client');
  const child = fork(new URL(import.meta.url).pathname, ['server', engine], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: (process.env.SERVER_EXEC_ARGV ?? '').split(' ').filter(Boolean) });
  const ask = asker(child);
  const port = await ask(null, 'port');
  const url = `http://127.0.0.1:${port}`;
  const results = {};

  const client = connect(url, { transports: ['websocket'], forceNew: true });
  await once(client, 'connect');
  for (let i = 0; i < 200; i++) await client.emitWithAck('echo', i); // warm-up
  const echoes = rounds * 100;
  await ask('mark', 'marked');
  for (let i = 0; i < echoes; i++) await client.emitWithAck('echo', { i, text: 'hello' });
  results.echo = (await ask('read', 'cpuMicros')) / echoes;
  client.disconnect();

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
  await ask('mark', 'marked');
  for (let i = 0; i < rounds; i++) await broadcast();
  results.broadcast = (await ask('read', 'cpuMicros')) / rounds;
  for (const c of clients) c.disconnect();
  child.send('exit');
  await once(child, 'exit');
  return results;
}

async function main() {
  const clientCount = argument('--clients', 1000);
  const rounds = argument('--rounds', 20);
  console.log(`socket.io server CPU per operation (websocket transport; ${clientCount} clients for the broadcast)`);
  for (const engine of ['wsframe', 'ws']) {
    const { echo, broadcast } = await measure(engine, clientCount, rounds);
    console.log(`  ${(engine === 'wsframe' ? 'socket.io over wsframe/ws' : 'socket.io over ws').padEnd(28)} echo round trip ${echo.toFixed(1).padStart(7)} µs   broadcast to ${clientCount} ${(broadcast / 1000).toFixed(2).padStart(7)} ms`);
  }
}

const invoked = process.argv[1] === new URL(import.meta.url).pathname;
if (process.argv[2] === 'server') {
  await runServer(process.argv[3]);
} else if (invoked) {
  await main();
}
