// The native Node API (accept/acceptAsync/connect) as a user meets it: owned
// Buffers by default, numeric readyState, asynchronous acceptance decided before
// the 101, and the idle heartbeat (ping first, 1001 only when nothing answers).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import WS from 'ws';
import { accept, acceptAsync, connect, WebSocket } from 'wsframe';

function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); }),
  ]);
}

async function listen(onUpgrade) {
  const server = http.createServer((req, res) => res.writeHead(404).end());
  const sockets = [];
  server.on('upgrade', (req, socket, head) => {
    sockets.push(socket);
    onUpgrade(req, socket, head);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('native API defaults', () => {
  test('readyState is numeric, with CONNECTING..CLOSED on the class and the instance', async () => {
    assert.deepEqual([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3]);
    const server = await listen((req, socket, head) => accept(req, socket, head));
    try {
      const ws = connect(server.url);
      assert.equal(ws.readyState, ws.CONNECTING);
      await within(once(ws, 'open'), 5000, 'open');
      assert.equal(ws.readyState, WebSocket.OPEN);
      ws.close(1000);
      assert.equal(ws.readyState, WebSocket.CLOSING);
      await within(once(ws, 'close'), 5000, 'close');
      assert.equal(ws.readyState, WebSocket.CLOSED);
    } finally {
      await server.close();
    }
  });

  test('server-side messages are owned Buffers: kept messages are not overwritten, toString() is the text', async () => {
    const kept = [];
    let done;
    const all = new Promise((resolve) => { done = resolve; });
    const server = await listen((req, socket, head) => {
      const ws = accept(req, socket, head);
      ws.on('message', (data, binary) => {
        kept.push([data, binary]);
        if (kept.length === 3) done();
      });
    });
    try {
      const client = new WS(server.url);
      await once(client, 'open');
      client.send('first message');
      client.send('second, longer message');
      client.send(Buffer.from([1, 2, 3]));
      await within(all, 5000, 'messages');
      assert.ok(kept.every(([data]) => Buffer.isBuffer(data)));
      assert.deepEqual(kept.map(([data, binary]) => (binary ? [...data] : data.toString())), ['first message', 'second, longer message', [1, 2, 3]]);
      client.terminate();
    } finally {
      await server.close();
    }
  });
});

describe('acceptAsync: the decision comes before the 101', () => {
  test('verify resolving true accepts; frames sent right after the request are not lost', async () => {
    const server = await listen(async (req, socket, head) => {
      const ws = await acceptAsync(req, socket, head, {
        verify: async (request) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return request.headers.authorization === 'Bearer ok';
        },
      });
      ws?.on('message', (data, binary) => ws.send(data, { binary }));
    });
    try {
      const client = new WS(server.url, { headers: { authorization: 'Bearer ok' } });
      await once(client, 'open');
      client.send('ping-1');
      const [data] = await within(once(client, 'message'), 5000, 'echo');
      assert.equal(data.toString(), 'ping-1');
      client.close();
      await once(client, 'close');
    } finally {
      await server.close();
    }
  });

  for (const [what, verdict, status] of [
    ['false', () => false, 401],
    ['{ status: 403 }', async () => ({ status: 403, message: 'no', headers: { 'X-Reason': 'test' } }), 403],
    ['a rejection', async () => { throw new Error('boom'); }, 500],
  ]) {
    test(`verify returning ${what} refuses with ${status}, no 101`, async () => {
      const server = await listen((req, socket, head) => {
        acceptAsync(req, socket, head, { verify: verdict });
      });
      try {
        const client = new WS(server.url);
        client.on('error', () => {});
        const [, response] = await within(once(client, 'unexpected-response'), 5000, 'response');
        assert.equal(response.statusCode, status);
        if (status === 403) assert.equal(response.headers['x-reason'], 'test');
        client.terminate();
      } finally {
        await server.close();
      }
    });
  }
});

describe('idleTimeout is a heartbeat', () => {
  test('a quiet peer that answers pings stays open; one that does not is closed with 1001 after a ping', async () => {
    const closes = [];
    const server = await listen((req, socket, head) => {
      const ws = accept(req, socket, head, { idleTimeout: 150 });
      ws.on('close', (code) => closes.push(code));
    });
    try {
      const healthy = new WS(server.url);
      const silent = new WS(server.url, { autoPong: false });
      const events = { healthy: [], silent: [] };
      for (const [name, ws] of [['healthy', healthy], ['silent', silent]]) {
        ws.on('ping', () => events[name].push('ping'));
        ws.on('close', (code) => events[name].push(`close ${code}`));
      }
      await Promise.all([once(healthy, 'open'), once(silent, 'open')]);
      await within(once(silent, 'close'), 5000, 'silent peer closed');
      assert.deepEqual(events.silent.slice(0, 1), ['ping'], 'pinged before being closed');
      assert.equal(events.silent.at(-1), 'close 1001');
      // The healthy peer was pinged at least as often and is still open.
      assert.ok(events.healthy.filter((e) => e === 'ping').length >= 1);
      assert.equal(healthy.readyState, WS.OPEN);
      healthy.close();
      await once(healthy, 'close');
    } finally {
      await server.close();
    }
  });
});
