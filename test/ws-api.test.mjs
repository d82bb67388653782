// wsframe/ws: ws 8's documented API, checked against real peers (the ws
// library on the other side) over 127.0.0.1.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import RealWS, { WebSocketServer as RealServer } from 'ws';
import { Sender as RealSender } from 'ws';
import WebSocket, { WebSocketServer, Server, createWebSocketStream } from 'wsframe/ws';

const require = createRequire(import.meta.url);

function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); }),
  ]);
}

/** A wsframe/ws server on an ephemeral port; closes its clients on stop. */
async function ourServer(options = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  return {
    wss,
    url: `ws://127.0.0.1:${wss.address().port}`,
    port: wss.address().port,
    async stop() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}

async function realServer(options = {}) {
  const wss = new RealServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  return {
    wss,
    url: `ws://127.0.0.1:${wss.address().port}`,
    async stop() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(() => resolve()));
    },
  };
}

/** Raw HTTP request to a port; resolves with the whole response text. */
async function rawRequest(port, text) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(text);
  const chunks = [];
  socket.on('data', (chunk) => chunks.push(chunk));
  await within(once(socket, 'close'), 5000, 'response');
  return Buffer.concat(chunks).toString('latin1');
}

const upgradeRequest = (port, extra = '') =>
  `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

describe('module shape', () => {
  test('default export is WebSocket carrying Server, WebSocketServer, WebSocket, createWebSocketStream (as ws)', () => {
    assert.equal(WebSocket.WebSocket, WebSocket);
    assert.equal(WebSocket.Server, WebSocketServer);
    assert.equal(Server, WebSocketServer);
    assert.equal(WebSocket.WebSocketServer, WebSocketServer);
    assert.equal(WebSocket.createWebSocketStream, createWebSocketStream);
    assert.deepEqual([WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED], [0, 1, 2, 3]);
  });

  test("require('wsframe/ws') is the same shape (CommonJS build)", () => {
    const cjs = require('wsframe/ws');
    assert.equal(typeof cjs, 'function');
    assert.equal(cjs.Server, cjs.WebSocketServer);
    assert.equal(cjs.WebSocket, cjs);
    assert.equal(typeof cjs.createWebSocketStream, 'function');
    assert.equal(typeof require('wsframe').accept, 'function');
  });

  test('one and only one of port, server, noServer', () => {
    assert.throws(() => new WebSocketServer({}), TypeError);
    assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), TypeError);
    const wss = new WebSocketServer({ noServer: true });
    assert.throws(() => wss.address(), /noServer/);
    wss.close();
  });
});

describe('WebSocketServer', () => {
  test('plain HTTP on its own port gets 426; a valid upgrade gets 101 and a connection(ws, req)', async () => {
    const server = await ourServer();
    try {
      const plain = await rawRequest(server.port, `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(plain, /^HTTP\/1\.1 426 Upgrade Required/);
      const connection = once(server.wss, 'connection');
      const client = new RealWS(server.url, { headers: { 'x-test': 'yes' } });
      const [ws, req] = await within(connection, 5000, 'connection');
      assert.equal(req.headers['x-test'], 'yes');
      assert.equal(ws.readyState, WebSocket.OPEN);
      assert.equal(server.wss.clients.size, 1);
      await once(client, 'open');
      client.close();
      await once(ws, 'close');
      assert.equal(server.wss.clients.size, 0);
    } finally {
      await server.stop();
    }
  });

  test('verifyClient sync false -> 401; async with code, message and headers', async () => {
    for (const verifyClient of [
      () => false,
      (info, cb) => setTimeout(() => cb(info.req.headers.token === 'ok', 403, 'Go away', { 'X-Why': 'token' }), 5),
    ]) {
      const server = await ourServer({ verifyClient });
      try {
        const refused = new RealWS(server.url);
        refused.on('error', () => {});
        const [, response] = await within(once(refused, 'unexpected-response'), 5000, 'refusal');
        if (verifyClient.length === 0) {
          assert.equal(response.statusCode, 401);
        } else {
          assert.equal(response.statusCode, 403);
          assert.equal(response.headers['x-why'], 'token');
          let body = '';
          for await (const chunk of response) body += chunk;
          assert.equal(body, 'Go away');
          const accepted = new RealWS(server.url, { headers: { token: 'ok' } });
          await within(once(accepted, 'open'), 5000, 'accepted');
          accepted.terminate();
        }
        refused.terminate();
      } finally {
        await server.stop();
      }
    }
  });

  test('verifyClient gets origin and secure; handleProtocols gets a Set; headers event adds headers', async () => {
    let seen;
    const server = await ourServer({
      verifyClient: (info) => { seen = info; return true; },
      handleProtocols: (protocols, req) => (protocols.has('b') && req.url === '/p' ? 'b' : false),
    });
    server.wss.on('headers', (headers) => headers.push('Set-Cookie: a=1'));
    try {
      const client = new RealWS(`${server.url}/p`, ['a', 'b'], { origin: 'https://example.org' });
      const upgraded = once(client, 'upgrade');
      const opened = once(client, 'open');
      const [response] = await within(upgraded, 5000, 'upgrade');
      await within(opened, 5000, 'open');
      assert.equal(client.protocol, 'b');
      assert.equal(response.headers['set-cookie'][0], 'a=1');
      assert.equal(seen.origin, 'https://example.org');
      assert.equal(seen.secure, false);
      const [ws] = [...server.wss.clients];
      assert.equal(ws.protocol, 'b');
      client.close();
      await once(client, 'close');
    } finally {
      await server.stop();
    }
  });

  test('default handleProtocols picks the first offered protocol (ws 8)', async () => {
    const server = await ourServer();
    try {
      const client = new RealWS(server.url, ['x', 'y']);
      await within(once(client, 'open'), 5000, 'open');
      assert.equal(client.protocol, 'x');
      client.terminate();
    } finally {
      await server.stop();
    }
  });

  test('path: other paths get 400; shouldHandle can be overridden', async () => {
    const server = await ourServer({ path: '/ws' });
    try {
      assert.match(await rawRequest(server.port, upgradeRequest(server.port).replace('GET / ', 'GET /other ')), /^HTTP\/1\.1 400/);
      const client = new RealWS(`${server.url}/ws?x=1`);
      await within(once(client, 'open'), 5000, 'open');
      client.terminate();
    } finally {
      await server.stop();
    }
  });

  test('an invalid upgrade request: 400 (426 for a wrong version), or wsClientError when listened for', async () => {
    const server = await ourServer();
    try {
      const badKey = upgradeRequest(server.port).replace('dGhlIHNhbXBsZSBub25jZQ==', 'short');
      assert.match(await rawRequest(server.port, badKey), /^HTTP\/1\.1 400/);
      const badVersion = upgradeRequest(server.port).replace('Version: 13', 'Version: 12');
      const answer = await rawRequest(server.port, badVersion);
      assert.match(answer, /^HTTP\/1\.1 426/);
      assert.match(answer, /Sec-WebSocket-Version: 13/);
      const event = once(server.wss, 'wsClientError');
      const socket = net.connect(server.port, '127.0.0.1');
      socket.write(badKey);
      const [error, clientSocket, req] = await within(event, 5000, 'wsClientError');
      assert.ok(error instanceof Error);
      assert.equal(req.method, 'GET');
      clientSocket.end('HTTP/1.1 418 Teapot\r\n\r\n');
      const chunks = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      await once(socket, 'close');
      assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 418/);
    } finally {
      await server.stop();
    }
  });

  test('noServer + handleUpgrade, and close(cb) emits close; a second close reports not running', async () => {
    const wss = new WebSocketServer({ noServer: true, clientTracking: false });
    const httpServer = http.createServer();
    httpServer.on('upgrade', (req, socket, head) => {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    try {
      wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
      const client = new RealWS(`ws://127.0.0.1:${httpServer.address().port}`);
      await once(client, 'open');
      client.send('echo me');
      const [data, isBinary] = await within(once(client, 'message'), 5000, 'echo');
      assert.equal(data.toString(), 'echo me');
      assert.equal(isBinary, false);
      client.close();
      await once(client, 'close');
      await new Promise((resolve) => wss.close(resolve));
      const error = await new Promise((resolve) => wss.close(resolve));
      assert.match(error.message, /not running/);
    } finally {
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });

  test('autoPong: false leaves pings unanswered; skipUTF8Validation is ignored (invalid UTF-8 still closes with 1007)', async () => {
    const server = await ourServer({ autoPong: false, skipUTF8Validation: true });
    try {
      const connection = once(server.wss, 'connection');
      const client = new RealWS(server.url);
      client.on('error', () => {});
      const [ws] = await connection;
      await once(client, 'open');
      const pings = [];
      ws.on('ping', (data) => pings.push(data.toString()));
      let pongs = 0;
      client.on('pong', () => pongs++);
      client.ping('one');
      await within(once(ws, 'ping'), 5000, 'ping');
      client.send(Buffer.from([0xc3, 0x28]), { binary: false });
      const [code] = await within(once(client, 'close'), 5000, 'close');
      assert.deepEqual(pings, ['one']);
      assert.equal(pongs, 0);
      assert.equal(code, 1007);
    } finally {
      await server.stop();
    }
  });

  test('maxPayload: a larger message closes with 1009', async () => {
    const server = await ourServer({ maxPayload: 10 });
    try {
      const client = new RealWS(server.url);
      client.on('error', () => {});
      await once(client, 'open');
      client.send(Buffer.alloc(11));
      const [code] = await within(once(client, 'close'), 5000, 'close');
      assert.equal(code, 1009);
    } finally {
      await server.stop();
    }
  });
});

describe('WebSocket (server side) with a ws client', () => {
  test('messages are owned Buffers (kept ones stay intact); text isBinary false; zeroCopy gives views', async () => {
    for (const zeroCopy of [false, true]) {
      const server = await ourServer({ zeroCopy });
      try {
        const kept = [];
        const done = new Promise((resolve) => server.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => {
          kept.push([Buffer.from(data), data, isBinary]);
          if (kept.length === 3) resolve();
        })));
        const client = new RealWS(server.url);
        await once(client, 'open');
        client.send('first');
        client.send('second!');
        client.send(Buffer.from([7, 8, 9]));
        await within(done, 5000, 'messages');
        assert.deepEqual(kept.map(([copy, , isBinary]) => [copy.toString('hex'), isBinary]),
          [[Buffer.from('first').toString('hex'), false], [Buffer.from('second!').toString('hex'), false], ['070809', true]]);
        assert.ok(kept.every(([, data]) => Buffer.isBuffer(data)));
        if (!zeroCopy) assert.deepEqual(kept.map(([, data]) => data.toString('hex')), kept.map(([copy]) => copy.toString('hex')));
        client.terminate();
      } finally {
        await server.stop();
      }
    }
  });

  test('send callbacks of one tick run in order, once each, after the frames were handed to the socket, before the next macrotask', async () => {
    const server = await ourServer();
    try {
      const connection = once(server.wss, 'connection');
      const client = new RealWS(server.url);
      const [ws] = await within(connection, 5000, 'connection');
      await once(client, 'open');
      const socket = ws._socket;
      const before = socket.bytesWritten + socket.writableLength;
      const calls = [];
      let handedOver = -1;
      for (let i = 0; i < 100; i++) {
        ws.send(`message ${i}`, (error) => {
          assert.equal(error, undefined);
          if (calls.length === 0) handedOver = socket.bytesWritten + socket.writableLength - before;
          calls.push(i);
        });
      }
      assert.deepEqual(calls, []);  // never synchronously
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(calls, Array.from({ length: 100 }, (_, i) => i));
      // 100 text frames: a 2-byte header each and the payloads.
      const bytes = Array.from({ length: 100 }, (_, i) => 2 + Buffer.byteLength(`message ${i}`)).reduce((a, b) => a + b);
      assert.equal(handedOver, bytes);
      client.terminate();
    } finally {
      await server.stop();
    }
  });

  test('send callbacks, ping/pong with callbacks and events, close(code, reason) with a Buffer reason', async () => {
    const server = await ourServer();
    try {
      const connection = once(server.wss, 'connection');
      const client = new RealWS(server.url);
      const [ws] = await within(connection, 5000, 'connection');
      await once(client, 'open');
      const order = [];
      await new Promise((resolve, reject) => ws.send('a', (error) => (error ? reject(error) : resolve())));
      await new Promise((resolve) => ws.send(Buffer.from('b'), { binary: false }, resolve));
      const pong = once(ws, 'pong');
      ws.ping('hi', undefined, () => order.push('ping cb'));
      const [payload] = await within(pong, 5000, 'pong');
      assert.equal(payload.toString(), 'hi');
      const ping = once(ws, 'ping');
      client.ping('there');
      assert.equal((await within(ping, 5000, 'ping'))[0].toString(), 'there');
      assert.deepEqual(order, ['ping cb']);
      const clientClosed = once(client, 'close');
      const closed = once(ws, 'close');
      ws.close(4000, 'done');
      assert.equal(ws.readyState, WebSocket.CLOSING);
      const [code, reason] = await within(closed, 5000, 'close');
      assert.equal(code, 4000);
      assert.ok(Buffer.isBuffer(reason));
      assert.equal(reason.toString(), 'done');
      const [clientCode, clientReason] = await clientClosed;
      assert.equal(clientCode, 4000);
      assert.equal(clientReason.toString(), 'done');
      const error = await new Promise((resolve) => ws.send('late', resolve));
      assert.match(error.message, /not open: readyState 3 \(CLOSED\)/);
    } finally {
      await server.stop();
    }
  });

  test('terminate() gives 1006; pause()/resume() hold messages', async () => {
    const server = await ourServer();
    try {
      const connection = once(server.wss, 'connection');
      const client = new RealWS(server.url);
      const [ws] = await connection;
      await once(client, 'open');
      ws.pause();
      assert.equal(ws.isPaused, true);
      let got = 0;
      ws.on('message', () => got++);
      client.send('x');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(got, 0);
      ws.resume();
      await within(once(ws, 'message'), 5000, 'message after resume');
      const closed = once(ws, 'close');
      ws.terminate();
      assert.equal((await closed)[0], 1006);
    } finally {
      await server.stop();
    }
  });
});

describe("engine.io's use of ws internals", () => {
  test('_sender.sendFrame sends a frame encoded once (socket.io broadcasts); other frames are refused', async () => {
    const server = await ourServer();
    try {
      const connection = once(server.wss, 'connection');
      const client = new RealWS(server.url);
      const [ws] = await within(connection, 5000, 'connection');
      await once(client, 'open');
      const frame = RealSender.frame(Buffer.from('4["tick",1]'), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
      const message = once(client, 'message');
      await new Promise((resolve, reject) => ws._sender.sendFrame(frame, (error) => (error ? reject(error) : resolve())));
      const [data, isBinary] = await within(message, 5000, 'pre-encoded message');
      assert.equal(data.toString(), '4["tick",1]');
      assert.equal(isBinary, false);
      const masked = RealSender.frame(Buffer.from('x'), { readOnly: false, mask: true, rsv1: false, opcode: 1, fin: true });
      const error = await new Promise((resolve) => ws._sender.sendFrame(masked, resolve));
      assert.match(error.message, /unmasked/);
      client.terminate();
    } finally {
      await server.stop();
    }
  });

  test('_sender.sendFrame: [header, payload] pairs, whole frames, 16-bit lengths, binary; uncompressed under permessage-deflate; one _sender', async () => {
    const server = await ourServer({ perMessageDeflate: { threshold: 0 } });
    try {
      const connection = once(server.wss, 'connection');
      // A raw client, to see the frames' bits as they arrive (RSV1: compressed, RFC 7692 §6).
      const socket = net.connect(server.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n');
      const [ws] = await within(connection, 5000, 'connection');
      assert.equal(ws.extensions, 'permessage-deflate');
      assert.equal(ws._sender, ws._sender);
      let received = Buffer.alloc(0);
      socket.on('data', (chunk) => { received = Buffer.concat([received, chunk]); });
      const long = Buffer.alloc(300, 0x61);
      const frames = [
        RealSender.frame(Buffer.from('4["a"]'), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }),
        [Buffer.concat(RealSender.frame(Buffer.from('4["b"]'), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }))],
        RealSender.frame(long, { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }),
        RealSender.frame(Buffer.from([1, 2, 3]), { readOnly: false, mask: false, rsv1: false, opcode: 2, fin: true }),
      ];
      // Cut anywhere, even inside the header.
      const whole = Buffer.concat(RealSender.frame(Buffer.from('4["c"]'), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true }));
      frames.push([whole.subarray(0, 1), whole.subarray(1, 5), whole.subarray(5)]);
      for (const frame of frames) {
        await new Promise((resolve, reject) => ws._sender.sendFrame(frame, (error) => (error ? reject(error) : resolve())));
      }
      const expected = Buffer.concat(frames.flat());
      const head = await within((async () => {
        while (received.indexOf('\r\n\r\n') < 0 || received.length - received.indexOf('\r\n\r\n') - 4 < expected.length) await once(socket, 'data');
        return received.indexOf('\r\n\r\n') + 4;
      })(), 5000, 'the frames');
      // Byte for byte the frames given: same headers (RSV1 clear), payloads as they were.
      assert.deepEqual(received.subarray(head), expected);
      // A header whose length disagrees with its payload is refused.
      const [header] = RealSender.frame(Buffer.from('abc'), { readOnly: false, mask: false, rsv1: false, opcode: 1, fin: true });
      const error = await new Promise((resolve) => ws._sender.sendFrame([header, Buffer.from('abcd')], resolve));
      assert.match(error.message, /unmasked/);
      socket.destroy();
    } finally {
      await server.stop();
    }
  });
});

describe('WebSocket as a client against a ws server', () => {
  test("open, binaryType 'nodebuffer' | 'arraybuffer' | 'fragments', url, protocol, extensions", async () => {
    const server = await realServer();
    server.wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    try {
      const ws = new WebSocket(`${server.url}/path?q=1`, 'chat');
      assert.equal(ws.readyState, WebSocket.CONNECTING);
      assert.equal(ws.url, `${server.url}/path?q=1`);
      assert.throws(() => ws.send('too early'), /CONNECTING/);
      await within(once(ws, 'open'), 5000, 'open');
      assert.equal(ws.protocol, 'chat');
      assert.equal(ws.extensions, '');
      for (const [type, check] of [
        ['nodebuffer', (data) => Buffer.isBuffer(data) && data.toString('hex') === '010203'],
        ['arraybuffer', (data) => data instanceof ArrayBuffer && Buffer.from(data).toString('hex') === '010203'],
        ['fragments', (data) => Array.isArray(data) && Buffer.concat(data).toString('hex') === '010203'],
      ]) {
        ws.binaryType = type;
        ws.send(new Uint8Array([1, 2, 3]));
        const [data, isBinary] = await within(once(ws, 'message'), 5000, type);
        assert.equal(isBinary, true);
        assert.ok(check(data), type);
      }
      ws.send('text');
      const [text, isBinary] = await once(ws, 'message');
      assert.equal(isBinary, false);
      assert.ok(Buffer.isBuffer(text));
      ws.close(1000, 'bye');
      const [code, reason] = await within(once(ws, 'close'), 5000, 'close');
      assert.equal(code, 1000);
      assert.equal(reason.toString(), 'bye');
      assert.equal(ws.readyState, WebSocket.CLOSED);
    } finally {
      await server.stop();
    }
  });

  test('EventTarget side: onopen/onmessage/onclose, addEventListener once and handleEvent, removeEventListener', async () => {
    const server = await realServer();
    server.wss.on('connection', (ws) => { ws.send('hello'); ws.send(Buffer.from([1])); });
    try {
      const ws = new WebSocket(server.url);
      const seen = [];
      ws.onopen = (event) => seen.push(`open:${event.type}:${event.target === ws}`);
      ws.onmessage = (event) => seen.push(`onmessage:${typeof event.data === 'string' ? event.data : 'binary'}`);
      ws.addEventListener('message', { handleEvent: (event) => seen.push(`once:${event.data}`) }, { once: true });
      const removed = () => seen.push('removed');
      ws.addEventListener('message', removed);
      ws.removeEventListener('message', removed);
      const closed = new Promise((resolve) => ws.addEventListener('close', resolve));
      await new Promise((resolve) => { ws.onmessage = ((previous) => (event) => { previous(event); if (seen.length >= 4) resolve(); })(ws.onmessage); });
      ws.close(1000, 'x');
      const event = await within(closed, 5000, 'close');
      assert.equal(event.code, 1000);
      assert.equal(event.reason, 'x');
      assert.equal(event.wasClean, true);
      assert.deepEqual(seen, ['open:open:true', 'once:hello', 'onmessage:hello', 'onmessage:binary']);
      assert.equal(typeof ws.onmessage, 'function');
      ws.onmessage = null;
      assert.equal(ws.onmessage, null);
    } finally {
      await server.stop();
    }
  });

  test("handshake refused: 'unexpected-response' when listened for, else 'error' then close 1006", async () => {
    const httpServer = http.createServer((req, res) => res.writeHead(403).end('no'));
    httpServer.listen(0, '127.0.0.1');
    await once(httpServer, 'listening');
    const url = `ws://127.0.0.1:${httpServer.address().port}`;
    try {
      const a = new WebSocket(url);
      const events = [];
      a.on('error', (error) => events.push(error.message));
      await within(new Promise((resolve) => a.on('close', (code) => resolve(events.push(code)))), 5000, 'close');
      assert.deepEqual(events, ['Unexpected server response: 403', 1006]);
      const b = new WebSocket(url);
      const [request, response] = await within(once(b, 'unexpected-response'), 5000, 'unexpected-response');
      assert.equal(response.statusCode, 403);
      assert.equal(typeof request.getHeader, 'function');
      b.on('error', () => {});
      b.terminate();
    } finally {
      httpServer.closeAllConnections();
      await new Promise((resolve) => httpServer.close(resolve));
    }
  });

  test('followRedirects with a redirect event; agent is used for the handshake; handshakeTimeout', async () => {
    const server = await realServer();
    const redirector = http.createServer((req, res) => res.writeHead(302, { Location: `${server.url}/landed` }).end());
    redirector.listen(0, '127.0.0.1');
    await once(redirector, 'listening');
    const silent = net.createServer((socket) => socket.resume()); // reads, so it sees the client's FIN
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const paths = [];
      server.wss.on('connection', (ws, req) => paths.push(req.url));
      const ws = new WebSocket(`ws://127.0.0.1:${redirector.address().port}/start`, { followRedirects: true });
      const redirects = [];
      ws.on('redirect', (url, request) => redirects.push([url, typeof request.setHeader]));
      await within(once(ws, 'open'), 5000, 'open after redirect');
      assert.deepEqual(redirects, [[`${server.url}/landed`, 'function']]);
      assert.deepEqual(paths, ['/landed']);
      ws.close();

      const agent = new http.Agent();
      let created = 0;
      const createConnection = agent.createConnection.bind(agent);
      agent.createConnection = (...args) => { created++; return createConnection(...args); };
      const viaAgent = new WebSocket(server.url, { agent });
      await within(once(viaAgent, 'open'), 5000, 'open via agent');
      assert.equal(created, 1);
      viaAgent.close();
      agent.destroy();

      const slow = new WebSocket(`ws://127.0.0.1:${silent.address().port}`, { handshakeTimeout: 100 });
      const errors = [];
      slow.on('error', (error) => errors.push(error.message));
      const code = await within(new Promise((resolve) => slow.on('close', resolve)), 5000, 'timeout');
      assert.equal(code, 1006);
      assert.deepEqual(errors, ['Opening handshake has timed out']);
    } finally {
      redirector.closeAllConnections();
      await new Promise((resolve) => redirector.close(resolve));
      await new Promise((resolve) => silent.close(resolve));
      await server.stop();
    }
  });

  test('closing while CONNECTING aborts with an error and close 1006', async () => {
    const server = await realServer();
    try {
      const ws = new WebSocket(server.url);
      const events = [];
      ws.on('error', (error) => events.push(error.message));
      const closed = new Promise((resolve) => ws.on('close', (code) => resolve(events.push(code))));
      ws.close();
      await within(closed, 5000, 'close');
      assert.deepEqual(events, ['WebSocket was closed before the connection was established', 1006]);
    } finally {
      await server.stop();
    }
  });
});

describe('TLS', () => {
  test('wss: our client (ca, servername via URL) against our server on an https.Server, and a ws client against it', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'wsframe-ws-tls-'));
    try {
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      if (made.status !== 0) {
        t.skip('openssl is not available to make a test certificate');
        return;
      }
      const cert = readFileSync(join(dir, 'cert.pem'));
      const httpsServer = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert });
      const wss = new WebSocketServer({ server: httpsServer });
      const secure = [];
      wss.on('connection', (ws, req) => {
        secure.push(req.socket.encrypted === true);
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      });
      httpsServer.listen(0, '127.0.0.1');
      await once(httpsServer, 'listening');
      try {
        const url = `wss://localhost:${httpsServer.address().port}/`;
        for (const Client of [WebSocket, RealWS]) {
          const client = new Client(url, { ca: cert });
          await within(once(client, 'open'), 5000, 'wss open');
          client.send('over tls');
          const [data] = await within(once(client, 'message'), 5000, 'wss echo');
          assert.equal(data.toString(), 'over tls');
          client.close();
          await once(client, 'close');
        }
        assert.deepEqual(secure, [true, true]);
        const untrusted = new WebSocket(url);
        const errors = [];
        untrusted.on('error', (error) => errors.push(error.code));
        await within(new Promise((resolve) => untrusted.on('close', resolve)), 5000, 'refused certificate');
        assert.deepEqual(errors, ['DEPTH_ZERO_SELF_SIGNED_CERT']);
      } finally {
        for (const client of wss.clients) client.terminate();
        httpsServer.closeAllConnections();
        await new Promise((resolve) => httpsServer.close(resolve));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('createWebSocketStream', () => {
  test('a Duplex: writes are messages, messages are reads, end() closes', async () => {
    const server = await ourServer();
    server.wss.on('connection', (ws) => {
      const duplex = createWebSocketStream(ws);
      duplex.pipe(duplex); // echo through the stream
    });
    try {
      const ws = new WebSocket(server.url);
      const duplex = createWebSocketStream(ws, { encoding: 'utf8' });
      duplex.write('one');
      duplex.write('two');
      const received = [];
      for await (const chunk of duplex) {
        received.push(chunk);
        if (received.join('') === 'onetwo') break;
      }
      assert.equal(received.join(''), 'onetwo');
      await within(once(ws, 'close'), 5000, 'close after destroy');
    } finally {
      await server.stop();
    }
  });
});
