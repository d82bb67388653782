// Real consumers of ws's API: socket.io 4 and engine.io 6 servers with
// `wsEngine` set to wsframe/ws's server class, driven by socket.io-client and
// engine.io-client over 127.0.0.1. Every case also runs with ws's own server as
// the control, with the same expectations.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { Server as IOServer } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { Server as EngineServer } from 'engine.io';
import { Socket as EngineClient } from 'engine.io-client';
import { WebSocketServer as RealServer } from 'ws';
import { WebSocketServer } from 'wsframe/ws';

function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); }),
  ]);
}

const engines = [['wsframe/ws', WebSocketServer], ['ws (control)', RealServer]];

async function startIo(wsEngine, setup) {
  const httpServer = http.createServer();
  const io = new IOServer(httpServer, { wsEngine });
  setup(io);
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  return {
    io,
    url: `http://127.0.0.1:${httpServer.address().port}`,
    async stop() {
      await new Promise((resolve) => io.close(() => resolve()));
      httpServer.closeAllConnections();
    },
  };
}

/** The socket.io server side used by every socket.io case. */
function chat(io) {
  io.on('connection', (socket) => {
    socket.on('echo', (payload, ack) => ack({ got: payload, transport: socket.conn.transport.name }));
    socket.on('binary', (buffer, ack) => ack(Buffer.concat([Buffer.from(buffer), Buffer.from([0xff])])));
    socket.on('join', (room, ack) => { socket.join(room); ack(); });
    socket.on('say', (room, text) => io.to(room).emit('said', text));
    socket.on('bye', () => socket.disconnect(true));
  });
}

function connected(socket) {
  return within(new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  }), 5000, 'socket.io connect');
}

for (const [name, wsEngine] of engines) {
  describe(`socket.io with wsEngine = ${name}`, () => {
    for (const transports of [['websocket'], ['polling', 'websocket']]) {
      test(`transports ${transports.join('+')}: messages with acks, binary, rooms, disconnect`, async () => {
        const server = await startIo(wsEngine, chat);
        const clients = [];
        try {
          const a = ioClient(server.url, { transports, forceNew: true, reconnection: false });
          const b = ioClient(server.url, { transports, forceNew: true, reconnection: false });
          const c = ioClient(server.url, { transports, forceNew: true, reconnection: false });
          clients.push(a, b, c);
          await Promise.all(clients.map(connected));
          if (transports[0] === 'polling') {
            // Wait for the upgrade to websocket (engine.io probes, then switches).
            await within(Promise.all(clients.map((client) => (client.io.engine.transport.name === 'websocket'
              ? undefined
              : once(client.io.engine, 'upgrade')))), 5000, 'upgrade to websocket');
          }
          for (const client of clients) assert.equal(client.io.engine.transport.name, 'websocket');

          const reply = await within(a.emitWithAck('echo', { text: 'héllo', n: [1, 2, 3] }), 5000, 'ack');
          assert.deepEqual(reply, { got: { text: 'héllo', n: [1, 2, 3] }, transport: 'websocket' });

          const binary = await within(a.emitWithAck('binary', Buffer.from([1, 2, 3])), 5000, 'binary ack');
          assert.deepEqual([...new Uint8Array(binary)], [1, 2, 3, 0xff]);

          // Many messages in a row keep their order and content.
          const many = await within(Promise.all(Array.from({ length: 200 }, (_, i) => b.emitWithAck('echo', `m${i}`))), 5000, 'many acks');
          assert.deepEqual(many.map((r) => r.got), Array.from({ length: 200 }, (_, i) => `m${i}`));

          await within(Promise.all([a.emitWithAck('join', 'room1'), b.emitWithAck('join', 'room1')]), 5000, 'join');
          const heard = { a: [], b: [], c: [] };
          a.on('said', (text) => heard.a.push(text));
          b.on('said', (text) => heard.b.push(text));
          c.on('said', (text) => heard.c.push(text));
          const bHeard = once(b, 'said');
          c.emit('say', 'room1', 'hi room');
          await within(bHeard, 5000, 'room broadcast');
          await within(new Promise((resolve) => setImmediate(resolve)), 1000, 'tick');
          assert.deepEqual(heard.a, ['hi room']);
          assert.deepEqual(heard.b, ['hi room']);
          assert.deepEqual(heard.c, []);

          const gone = once(c, 'disconnect');
          c.emit('bye');
          const [reason] = await within(gone, 5000, 'disconnect');
          assert.equal(reason, 'io server disconnect');
          const sockets = await server.io.fetchSockets();
          assert.equal(sockets.length, 2);
        } finally {
          for (const client of clients) client.disconnect();
          await server.stop();
        }
      });
    }
  });

  describe(`engine.io with wsEngine = ${name}`, () => {
    test('websocket transport: text and binary messages both ways, close', async () => {
      const httpServer = http.createServer();
      const engine = new EngineServer({ wsEngine });
      engine.attach(httpServer);
      engine.on('connection', (socket) => {
        socket.on('message', (data) => socket.send(typeof data === 'string' ? `echo:${data}` : Buffer.concat([Buffer.from(data), Buffer.from([0])])));
      });
      httpServer.listen(0, '127.0.0.1');
      await once(httpServer, 'listening');
      const client = new EngineClient(`ws://127.0.0.1:${httpServer.address().port}`, { transports: ['websocket'] });
      try {
        await within(once(client, 'open'), 5000, 'engine.io open');
        assert.equal(client.transport.name, 'websocket');
        const received = [];
        const done = new Promise((resolve) => client.on('message', (data) => {
          received.push(typeof data === 'string' ? data : [...new Uint8Array(data)]);
          if (received.length === 3) resolve();
        }));
        client.send('one');
        client.send(new Uint8Array([5, 6]));
        client.send('three');
        await within(done, 5000, 'echoes');
        assert.deepEqual(received, ['echo:one', [5, 6, 0], 'echo:three']);
        const closed = once(client, 'close');
        client.close();
        await within(closed, 5000, 'close');
      } finally {
        engine.close();
        httpServer.closeAllConnections();
        await new Promise((resolve) => httpServer.close(resolve));
      }
    });
  });
}
