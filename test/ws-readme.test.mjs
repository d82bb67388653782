// The usage examples of ws's README, written once against a module `lib` and
// run with lib = ws and lib = wsframe/ws (both sides: server and client) with
// the same expectations: replacing the import is all a ws user has to do.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import * as ws from 'ws';
import * as wsframe from 'wsframe/ws';

function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); }),
  ]);
}

const opened = (client) => within(once(client, 'open'), 5000, 'open');
const nextMessage = (client) => within(once(client, 'message'), 5000, 'message').then(([data, isBinary]) => (isBinary ? data : data.toString()));
const closeServer = (wss) => new Promise((resolve) => {
  for (const client of wss.clients ?? []) client.terminate();
  wss.close(() => resolve());
});

for (const [name, lib] of [['ws', ws], ['wsframe/ws', wsframe]]) {
  const { WebSocket, WebSocketServer, createWebSocketStream } = lib;

  describe(`ws README examples with ${name}`, () => {
    test('simple server: sending and receiving text, the ip address from req.socket', async () => {
      const wss = new WebSocketServer({ port: 0 });
      await once(wss, 'listening');
      const addresses = [];
      wss.on('connection', function connection(socket, req) {
        addresses.push(req.socket.remoteAddress);
        socket.on('error', console.error);
        socket.on('message', function message(data) {
          socket.send(`received: ${data}`);
        });
        socket.send('something');
      });
      try {
        const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
        const first = nextMessage(client);
        await opened(client);
        assert.equal(await first, 'something');
        client.send('hello');
        assert.equal(await nextMessage(client), 'received: hello');
        assert.match(addresses[0], /127\.0\.0\.1/);
        client.close();
      } finally {
        await closeServer(wss);
      }
    });

    test('broadcast to all clients, and to all except the sender', async () => {
      const wss = new WebSocketServer({ port: 0 });
      await once(wss, 'listening');
      wss.on('connection', function connection(socket) {
        socket.on('message', function message(data, isBinary) {
          const everyone = data.toString().startsWith('all:');
          wss.clients.forEach(function each(client) {
            if ((everyone || client !== socket) && client.readyState === WebSocket.OPEN) {
              client.send(data, { binary: isBinary });
            }
          });
        });
      });
      try {
        const url = `ws://127.0.0.1:${wss.address().port}`;
        const clients = [new WebSocket(url), new WebSocket(url), new WebSocket(url)];
        await Promise.all(clients.map(opened));
        await within((async () => { while (wss.clients.size < 3) await new Promise((r) => setTimeout(r, 5)); })(), 5000, 'clients');
        const received = clients.map(() => []);
        clients.forEach((client, i) => client.on('message', (data) => received[i].push(data.toString())));
        const all = Promise.all(clients.map((client) => once(client, 'message')));
        clients[0].send('all:one');
        await within(all, 5000, 'broadcast');
        const others = Promise.all(clients.slice(1).map((client) => once(client, 'message')));
        clients[0].send('others:two');
        await within(others, 5000, 'broadcast except sender');
        await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(received, [['all:one'], ['all:one', 'others:two'], ['all:one', 'others:two']]);
        for (const client of clients) client.close();
      } finally {
        await closeServer(wss);
      }
    });

    test('heartbeat: isAlive, ping every interval, terminate the dead', async () => {
      const wss = new WebSocketServer({ port: 0 });
      await once(wss, 'listening');
      function heartbeat() {
        this.isAlive = true;
      }
      wss.on('connection', function connection(socket) {
        socket.isAlive = true;
        socket.on('error', () => {});
        socket.on('pong', heartbeat);
      });
      const interval = setInterval(function ping() {
        wss.clients.forEach(function each(socket) {
          if (socket.isAlive === false) return socket.terminate();
          socket.isAlive = false;
          socket.ping();
        });
      }, 50);
      wss.on('close', function close() {
        clearInterval(interval);
      });
      try {
        const url = `ws://127.0.0.1:${wss.address().port}`;
        const alive = new WebSocket(url);
        // A peer that never answers pings (the README's "broken connection").
        const dead = new WebSocket(url, { autoPong: false });
        await Promise.all([opened(alive), opened(dead)]);
        let pings = 0;
        alive.on('ping', () => pings++);
        const [code] = await within(once(dead, 'close'), 5000, 'dead peer terminated');
        assert.equal(code, 1006);
        assert.equal(alive.readyState, WebSocket.OPEN);
        assert.ok(pings >= 1);
        alive.close();
      } finally {
        await closeServer(wss);
      }
    });

    test("client authentication in the server's 'upgrade' with noServer", async () => {
      const server = http.createServer();
      const wss = new WebSocketServer({ noServer: true });
      const authenticate = (request, next) => {
        const token = new URL(request.url, 'http://x').searchParams.get('token');
        if (token === 'secret') next(null, { name: 'alice' });
        else next(new Error('bad token'));
      };
      wss.on('connection', function connection(socket, request, client) {
        socket.on('message', function message(data) {
          socket.send(`${client.name}: ${data}`);
        });
      });
      server.on('upgrade', function upgrade(request, socket, head) {
        socket.on('error', () => {});
        authenticate(request, function next(err, client) {
          if (err || !client) {
            socket.write('HTTP/1.1 401 Unauthorized\r\n\r\n');
            socket.destroy();
            return;
          }
          wss.handleUpgrade(request, socket, head, function done(socket2) {
            wss.emit('connection', socket2, request, client);
          });
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const url = `ws://127.0.0.1:${server.address().port}`;
        const refused = new WebSocket(`${url}/?token=wrong`);
        const errors = [];
        refused.on('error', (error) => errors.push(error.message));
        await within(new Promise((resolve) => refused.on('close', resolve)), 5000, 'refused');
        assert.deepEqual(errors, ['Unexpected server response: 401']);
        const client = new WebSocket(`${url}/?token=secret`);
        await opened(client);
        client.send('hi');
        assert.equal(await nextMessage(client), 'alice: hi');
        client.close();
        await once(client, 'close');
      } finally {
        await closeServer(wss);
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    test('multiple servers sharing a single HTTP server, routed by path', async () => {
      const server = http.createServer();
      const wss1 = new WebSocketServer({ noServer: true });
      const wss2 = new WebSocketServer({ noServer: true });
      wss1.on('connection', (socket) => socket.send('one'));
      wss2.on('connection', (socket) => socket.send('two'));
      server.on('upgrade', function upgrade(request, socket, head) {
        const { pathname } = new URL(request.url, 'ws://base.url');
        if (pathname === '/foo') {
          wss1.handleUpgrade(request, socket, head, (s) => wss1.emit('connection', s, request));
        } else if (pathname === '/bar') {
          wss2.handleUpgrade(request, socket, head, (s) => wss2.emit('connection', s, request));
        } else {
          socket.destroy();
        }
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const url = `ws://127.0.0.1:${server.address().port}`;
        const foo = new WebSocket(`${url}/foo`);
        const bar = new WebSocket(`${url}/bar`);
        const [a, b] = await Promise.all([nextMessage(foo), nextMessage(bar)]);
        assert.deepEqual([a, b], ['one', 'two']);
        const nowhere = new WebSocket(`${url}/baz`);
        const errors = [];
        nowhere.on('error', (error) => errors.push(error.message));
        const code = await within(new Promise((resolve) => nowhere.on('close', resolve)), 5000, 'destroyed');
        assert.equal(code, 1006);
        assert.equal(errors.length, 1);
        foo.close();
        bar.close();
      } finally {
        await Promise.all([closeServer(wss1), closeServer(wss2)]);
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    test('createWebSocketStream: a Duplex over each end', async () => {
      const wss = new WebSocketServer({ port: 0 });
      await once(wss, 'listening');
      wss.on('connection', (socket) => {
        const duplex = createWebSocketStream(socket);
        duplex.on('error', () => {});
        duplex.pipe(duplex);
      });
      try {
        const client = new WebSocket(`ws://127.0.0.1:${wss.address().port}`);
        const duplex = createWebSocketStream(client, { encoding: 'utf8' });
        duplex.on('error', () => {});
        let text = '';
        const read = (async () => {
          for await (const chunk of duplex) {
            text += chunk;
            if (text === 'abcdef') return;
          }
        })();
        duplex.write('abc');
        duplex.write('def');
        await within(read, 5000, 'echo through streams');
        assert.equal(text, 'abcdef');
      } finally {
        await closeServer(wss);
      }
    });
  });
}

test('pipeline with createWebSocketStream ends when the peer closes (wsframe/ws)', async () => {
  const wss = new wsframe.WebSocketServer({ port: 0 });
  await once(wss, 'listening');
  wss.on('connection', (socket) => {
    socket.send('a');
    socket.send('b');
    socket.close();
  });
  try {
    const client = new wsframe.WebSocket(`ws://127.0.0.1:${wss.address().port}`);
    const chunks = [];
    await within(pipeline(wsframe.createWebSocketStream(client), async function* (source) {
      for await (const chunk of source) chunks.push(chunk.toString());
    }), 5000, 'pipeline');
    assert.deepEqual(chunks.join(''), 'ab');
  } finally {
    await closeServer(wss);
  }
});
