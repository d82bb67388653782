// Node glue over real sockets on 127.0.0.1: accept() on an http.Server, connect()
// as a client, raw sockets as misbehaving peers, and the two Autobahn CLIs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import https from 'node:https';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { accept, connect, acceptKey, Decoder, Encoder } from 'wsframe';

const KEY = 'CdXadOGPvokB44LLa5ng1Q==';
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the value of `promise`, or rejects after `ms` (so no test can hang). */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

/** An http.Server on 127.0.0.1:0 calling accept(); `onSocket(ws)` defaults to an echo. */
async function startServer(options = {}, onSocket = (ws) => ws.on('message', (data, binary) => ws.send(data, { binary }))) {
  const server = http.createServer((req, res) => res.writeHead(404).end());
  const accepted = [];
  const waiting = [];
  server.on('upgrade', (req, socket, head) => {
    const ws = accept(req, socket, head, options);
    if (ws === null) return;
    ws.path = req.url;
    ws.on('error', () => {});
    ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason })));
    onSocket(ws);
    accepted.push(ws);
    waiting.shift()?.(ws);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    next: () => within(new Promise((resolve) => (accepted.length > waiting.length ? resolve(accepted[waiting.length]) : waiting.push(resolve))), 5000, 'server connection'),
    accepted,
    async close() {
      for (const ws of accepted) ws.terminate();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** connect() resolving on 'open', with a `closed` promise attached. */
async function open(url, options) {
  const ws = connect(url, options);
  ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason })));
  const opened = new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  await within(opened, 5000, 'open');
  ws.on('error', () => {});
  return ws;
}

/** Parses unmasked server frames (enough for the tests: no fragmentation of control frames). */
function parseFrames(buffer) {
  const frames = [];
  let offset = 0;
  while (buffer.length - offset >= 2) {
    let length = buffer[offset + 1] & 0x7f;
    let header = 2;
    if (length === 126) [length, header] = [buffer.readUInt16BE(offset + 2), 4];
    else if (length === 127) [length, header] = [Number(buffer.readBigUInt64BE(offset + 2)), 10];
    if (buffer.length - offset < header + length) break;
    const payload = buffer.subarray(offset + header, offset + header + length);
    const opcode = buffer[offset] & 0x0f;
    frames.push({ opcode, fin: (buffer[offset] & 0x80) !== 0, payload, code: opcode === 8 && length >= 2 ? payload.readUInt16BE(0) : undefined });
    offset += header + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

/** A raw TCP client that does the opening handshake by hand and collects server frames. */
async function rawClient(port, { request, extra = Buffer.alloc(0) } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const head =
    request ??
    `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
  socket.write(Buffer.concat([Buffer.from(head), extra]));
  const peer = { socket, response: '', frames: [], ended: false };
  let pending = Buffer.alloc(0);
  let inHead = true;
  const changed = new Set();
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    if (inHead) {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      peer.response = pending.subarray(0, end + 4).toString('latin1');
      pending = pending.subarray(end + 4);
      inHead = false;
      if (!peer.response.startsWith('HTTP/1.1 101')) {
        peer.response += pending.toString('latin1');
        pending = Buffer.alloc(0);
      }
    }
    if (!inHead && peer.response.startsWith('HTTP/1.1 101')) {
      const { frames, rest } = parseFrames(pending);
      peer.frames.push(...frames);
      pending = Buffer.from(rest);
    }
    for (const notify of changed) notify();
  });
  socket.on('error', () => {});
  peer.closed = new Promise((resolve) => socket.on('close', resolve));
  peer.waitFrame = (predicate, what = 'frame') =>
    within(
      new Promise((resolve) => {
        const check = () => {
          const frame = peer.frames.find(predicate);
          if (frame) {
            changed.delete(check);
            resolve(frame);
          }
        };
        changed.add(check);
        check();
      }),
      5000,
      what,
    );
  const client = new Encoder({ role: 'client' });
  peer.send = (chunks) => socket.write(Buffer.concat(chunks));
  peer.encoder = client;
  return peer;
}

const clientFrames = (build) => Buffer.concat(build(new Encoder({ role: 'client' })));

describe('accept() + connect(): round trips', () => {
  for (const serverReadMode of ['data', 'onread']) {
    for (const clientReadMode of ['data', 'onread']) {
      test(`echo, server reads via ${serverReadMode}, client via ${clientReadMode}: sizes 0 B..1 MiB, text and binary`, async () => {
        const server = await startServer({ readMode: serverReadMode });
        try {
          const ws = await open(server.url, { readMode: clientReadMode });
          assert.equal(ws.readyState, 1);
          const received = [];
          ws.on('message', (data, binary) => received.push({ data: Buffer.from(data), binary }));
          const sizes = [0, 1, 125, 126, 65535, 65536, 1 << 20];
          const sent = [];
          for (const size of sizes) {
            const binary = Buffer.alloc(size);
            for (let i = 0; i < size; i++) binary[i] = (i * 31 + size) & 0xff;
            sent.push({ data: binary, binary: true }, { data: Buffer.from('é'.repeat(size >> 1)), binary: false });
          }
          for (const { data, binary } of sent) ws.send(binary ? data : data.toString(), { binary });
          await within(new Promise((resolve) => ws.on('message', () => received.length === sent.length && resolve())), 10000, 'echoes');
          for (let i = 0; i < sent.length; i++) {
            assert.equal(received[i].binary, sent[i].binary, `message ${i} type`);
            assert.ok(received[i].data.equals(sent[i].data), `message ${i} bytes`);
          }
          ws.close(1000, 'done');
          assert.deepEqual(await within(ws.closed, 5000, 'client close'), { code: 1000, reason: 'done' });
          assert.deepEqual(await within(server.accepted[0].closed, 5000, 'server close'), { code: 1000, reason: 'done' });
          assert.equal(ws.readyState, 3);
        } finally {
          await server.close();
        }
      });
    }
  }

  test("'message' data is an owned Buffer by default and a decoder view with zeroCopy: true", async () => {
    const server = await startServer();
    try {
      for (const zeroCopy of [undefined, false, true]) {
        const ws = await open(server.url, zeroCopy === undefined ? {} : { zeroCopy });
        ws.send(Buffer.from('abc'));
        const [data, binary] = await within(once(ws, 'message'), 5000, 'message');
        assert.equal(binary, true);
        if (zeroCopy !== true) {
          assert.ok(Buffer.isBuffer(data));
          assert.equal(Decoder.isDecoderMemory(data), false);
          assert.equal(data.toString(), 'abc');
        } else {
          assert.equal(Decoder.isDecoderMemory(data), true);
        }
        ws.terminate();
        await within(ws.closed, 5000, 'close');
      }
    } finally {
      await server.close();
    }
  });

  test('sub-protocol: first client preference the server supports; protocol on both sides', async () => {
    const server = await startServer({ protocols: ['v2', 'v1'] });
    try {
      const ws = await open(server.url, { protocols: ['v1', 'v2'] });
      assert.equal(ws.protocol, 'v1');
      assert.equal((await server.next()).protocol, 'v1');
      ws.close();
      assert.deepEqual(await within(ws.closed, 5000, 'close'), { code: 1005, reason: '' });
    } finally {
      await server.close();
    }
  });

  test('server-initiated close: the client sees code and reason; the server drops TCP', async () => {
    const server = await startServer({}, () => {});
    try {
      const ws = await open(server.url, { closeTimeout: 60_000 });
      const conn = await server.next();
      const started = Date.now();
      conn.close(1001, 'going away');
      assert.equal(conn.readyState, 2);
      assert.deepEqual(await within(ws.closed, 5000, 'client close'), { code: 1001, reason: 'going away' });
      assert.deepEqual(await within(conn.closed, 5000, 'server close'), { code: 1001, reason: 'going away' });
      assert.ok(Date.now() - started < 5000, 'no timer involved');
    } finally {
      await server.close();
    }
  });

  test('ping and pong events; auto-pong answers the ping', async () => {
    const server = await startServer();
    try {
      const ws = await open(server.url);
      const conn = await server.next();
      // Payloads are views valid only inside the listener: read them there.
      const serverPing = new Promise((resolve) => conn.once('ping', (payload) => resolve(Buffer.from(payload).toString())));
      const pong = new Promise((resolve) => ws.once('pong', (payload) => resolve(Buffer.from(payload).toString())));
      ws.ping('are you there');
      assert.equal(await within(pong, 5000, 'pong'), 'are you there');
      assert.equal(await within(serverPing, 5000, 'ping'), 'are you there');
      ws.terminate();
    } finally {
      await server.close();
    }
  });

  test('back-pressure: send() returns false, bufferedAmount grows, drain follows', async () => {
    const server = await startServer({}, () => {});
    try {
      const peer = await rawClient(server.port);
      const conn = await server.next();
      peer.socket.pause();
      const chunk = Buffer.alloc(1 << 20, 1);
      // The kernel absorbs the first megabytes; then our socket buffer fills.
      let result = true;
      for (let i = 0; i < 64 && conn.bufferedAmount === 0; i++) result = conn.send(chunk);
      assert.equal(result, false);
      assert.ok(conn.bufferedAmount > 0);
      const drained = once(conn, 'drain');
      peer.socket.resume();
      await within(drained, 10000, 'drain');
      peer.socket.destroy();
      assert.equal((await within(conn.closed, 5000, 'close')).code, 1006);
    } finally {
      await server.close();
    }
  });

  test("a false from small sends is answered by 'drain' when a large send took the tick's bytes to the socket", async () => {
    const server = await startServer({}, () => {});
    try {
      const client = connect(server.url);
      let received = 0;
      client.on('message', () => received++);
      await once(client, 'open');
      const conn = await server.next();
      let falses = 0;
      let drains = 0;
      conn.on('drain', () => drains++);
      // 40 × 1 KiB in one tick pass the 16 KiB mark in the batch (false), then
      // one 128 KiB frame is written through with them: the socket takes it all.
      for (let i = 0; i < 40; i++) if (!conn.send(Buffer.alloc(1024, i))) falses++;
      assert.ok(falses > 0, 'the batch passed the mark');
      conn.send(Buffer.alloc(128 * 1024, 7));
      await within(once(conn, 'drain'), 2000, "'drain'");
      await delay(50);
      assert.equal(drains, 1);
      assert.equal(conn.bufferedAmount, 0);
      while (received < 41) await delay(10);
      client.close();
    } finally {
      await server.close();
    }
  });

  test('large sends go to the socket at once, small ones at the end of the tick: the peer gets them all in send order', async () => {
    const server = await startServer({}, () => {});
    try {
      const client = connect(server.url);
      const received = [];
      const all = new Promise((resolve) => client.on('message', (data) => {
        received.push(Buffer.from(data));
        if (received.length === 40) resolve();
      }));
      await once(client, 'open');
      const conn = await server.next();
      const sent = [];
      let falses = 0;
      let drains = 0;
      conn.on('drain', () => drains++);
      // One tick: small frames (batched), 64 KiB - 1 (batched alone), 64 KiB and 1 MiB (written through).
      for (let i = 0; i < 40; i++) {
        const size = [10, 65_535, 65_536, 1 << 20, 3][i % 5];
        const message = Buffer.alloc(size, i + 1);
        message.writeUInt8(i, 0);
        sent.push(message);
        if (!conn.send(message)) falses++;
      }
      await within(all, 10000, 'all messages');
      assert.deepEqual(received.map((m) => [m[0], m.length]), sent.map((m) => [m[0], m.length]));
      for (let i = 0; i < 40; i++) assert.ok(received[i].equals(sent[i]), `message ${i} intact`);
      await delay(50);
      assert.equal(drains, falses > 0 ? 1 : 0, 'one drain for the sends that returned false');
      client.close();
    } finally {
      await server.close();
    }
  });
});

describe('pause() / resume()', () => {
  for (const readMode of ['data', 'onread']) {
    test(`server reading via ${readMode}: no message while paused, all of them after resume`, async () => {
      const got = [];
      const server = await startServer({ readMode }, (ws) => {
        ws.pause();
        ws.on('message', (data) => got.push(Buffer.from(data).toString()));
      });
      try {
        const ws = await open(server.url);
        await server.next();
        for (const text of ['a', 'b', 'c']) ws.send(text);
        await delay(100);
        assert.deepEqual(got, []);
        server.accepted[0].resume();
        await within(new Promise((resolve) => server.accepted[0].on('message', () => got.length === 3 && resolve())), 5000, 'messages');
        assert.deepEqual(got, ['a', 'b', 'c']);
        ws.terminate();
      } finally {
        await server.close();
      }
    });
  }
});

describe('wss:// (TLS)', () => {
  test('connect() over tls to an https.Server + accept(), both client read modes', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'wsframe-tls-'));
    try {
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      if (made.status !== 0) {
        t.skip('openssl is not available to make a test certificate');
        return;
      }
      const cert = readFileSync(join(dir, 'cert.pem'));
      const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert });
      server.on('upgrade', (req, socket, head) => {
        const ws = accept(req, socket, head);
        ws.on('message', (data, binary) => ws.send(data, { binary }));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        for (const readMode of ['data', 'onread']) {
          const ws = await open(`wss://localhost:${server.address().port}/`, { readMode, tls: { ca: cert } });
          const payload = Buffer.alloc(3 << 20, 5);
          const echoed = new Promise((resolve) => ws.once('message', (data, binary) => resolve(binary && Buffer.from(data).equals(payload))));
          ws.send(payload);
          assert.equal(await within(echoed, 10000, 'echo'), true);
          ws.close(1000, 'tls bye');
          assert.deepEqual(await within(ws.closed, 5000, 'close'), { code: 1000, reason: 'tls bye' });
        }
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('accept(): bad requests', () => {
  const cases = [
    ['wrong version', 'Sec-WebSocket-Version: 8', 426, /\r\nSec-WebSocket-Version: 13\r\n/],
    ['a 15-byte key', `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.alloc(15).toString('base64')}`, 400, /Key/],
  ];
  for (const [what, lines, status, pattern] of cases) {
    test(`${what} -> ${status}, socket destroyed, accept() returns null`, async () => {
      const server = await startServer({}, () => {});
      try {
        const socket = net.connect(server.port, '127.0.0.1');
        let response = '';
        socket.on('data', (d) => (response += d));
        socket.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${lines}\r\n\r\n`);
        await within(once(socket, 'close'), 5000, 'server drops the socket');
        assert.match(response, new RegExp(`^HTTP/1.1 ${status} `));
        assert.match(response, pattern);
        assert.equal(server.accepted.length, 0);
      } finally {
        await server.close();
      }
    });
  }
});

describe('accept(): raw peers', () => {
  test('bytes that arrive with the request head (head) are decoded', async () => {
    const server = await startServer();
    try {
      const peer = await rawClient(server.port, { extra: clientFrames((e) => e.message('early')) });
      const frame = await peer.waitFrame((f) => f.opcode === 1, 'echo');
      assert.ok(peer.response.includes(`\r\nSec-WebSocket-Accept: ${acceptKey(KEY)}\r\n`), peer.response);
      assert.equal(frame.payload.toString(), 'early');
      peer.socket.destroy();
    } finally {
      await server.close();
    }
  });

  test('protocol error: messages before the bad frame are echoed first, then close 1002 and TCP drop', async () => {
    const server = await startServer();
    try {
      const peer = await rawClient(server.port);
      const conn = await server.next();
      const errors = [];
      conn.on('error', (error) => errors.push(error));
      peer.socket.write(
        Buffer.concat([
          clientFrames((e) => e.message('first')),
          clientFrames((e) => e.ping(Buffer.from('p'))),
          Buffer.from([0x83, 0x80, 1, 2, 3, 4]), // reserved opcode 0x3
        ]),
      );
      await within(peer.closed, 5000, 'server drops TCP');
      assert.deepEqual(
        peer.frames.map((f) => [f.opcode, f.opcode === 8 ? f.code : f.payload.toString()]),
        [[1, 'first'], [10, 'p'], [8, 1002]],
      );
      assert.equal((await within(conn.closed, 5000, 'close')).code, 1002);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].closeCode, 1002);
    } finally {
      await server.close();
    }
  });

  test('a peer that vanishes mid-frame: close 1006 once', async () => {
    const server = await startServer();
    try {
      const peer = await rawClient(server.port);
      const conn = await server.next();
      let closes = 0;
      conn.on('close', () => closes++);
      peer.socket.write(clientFrames((e) => e.message(Buffer.alloc(1000))).subarray(0, 500));
      await delay(5);
      peer.socket.destroy();
      assert.equal((await within(conn.closed, 5000, 'close')).code, 1006);
      await delay(10);
      assert.equal(closes, 1);
      assert.equal(conn.readyState, 3);
    } finally {
      await server.close();
    }
  });

  test('close timeout: a peer that never answers our close is dropped with 1006', async () => {
    const server = await startServer({ closeTimeout: 100 }, () => {});
    try {
      const peer = await rawClient(server.port);
      const conn = await server.next();
      conn.close(1000);
      const frame = await peer.waitFrame((f) => f.opcode === 8, 'close frame');
      assert.equal(frame.code, 1000);
      assert.equal((await within(conn.closed, 5000, 'close')).code, 1006);
      await within(peer.closed, 5000, 'TCP dropped');
    } finally {
      await server.close();
    }
  });

  test('idle timeout: a silent peer gets close 1001', async () => {
    const server = await startServer({ idleTimeout: 100, closeTimeout: 100 }, () => {});
    try {
      const peer = await rawClient(server.port);
      const frame = await peer.waitFrame((f) => f.opcode === 8, 'close frame');
      assert.equal(frame.code, 1001);
      await within(peer.closed, 5000, 'TCP dropped');
    } finally {
      await server.close();
    }
  });
});

describe('connect(): handshake and failures', () => {
  /** A TCP server answering the upgrade with `respond(key)`. */
  async function rawServer(respond) {
    const server = net.createServer((socket) => {
      let request = '';
      socket.on('error', () => {});
      socket.on('data', (d) => {
        request += d;
        if (!request.includes('\r\n\r\n')) return;
        const key = /Sec-WebSocket-Key: (\S+)/i.exec(request)?.[1] ?? '';
        respond(socket, key, request);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { server, url: `ws://127.0.0.1:${server.address().port}/path?q=1`, close: () => new Promise((r) => server.close(r)) };
  }

  test('frames in the same packet as the 101 are delivered after open; request head is well formed', async () => {
    let seenRequest = '';
    const raw = await rawServer((socket, key, request) => {
      seenRequest = request;
      const frames = Buffer.concat(new Encoder({ role: 'server' }).message('hello'));
      socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`), frames]));
    });
    try {
      const ws = connect(raw.url);
      const events = [];
      ws.on('open', () => events.push('open'));
      ws.on('message', (data) => events.push(Buffer.from(data).toString()));
      const { code } = await within(new Promise((resolve) => ws.on('close', (code) => resolve({ code }))), 5000, 'close');
      assert.deepEqual(events, ['open', 'hello']);
      assert.equal(code, 1006);
      assert.match(seenRequest, /^GET \/path\?q=1 HTTP\/1\.1\r\n/);
      assert.match(seenRequest, /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
      assert.match(seenRequest, /\r\nSec-WebSocket-Version: 13\r\n/);
    } finally {
      await raw.close();
    }
  });

  for (const [what, response] of [
    ['a wrong Sec-WebSocket-Accept', () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n'],
    ['a 404', () => 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'],
  ]) {
    test(`${what}: 'error' then 'close' 1006, never 'open'`, async () => {
      const raw = await rawServer((socket) => socket.write(response()));
      try {
        const ws = connect(raw.url);
        const events = [];
        ws.on('open', () => events.push('open'));
        ws.on('error', (error) => events.push(`error: ${error.message}`));
        const code = await within(new Promise((resolve) => ws.on('close', resolve)), 5000, 'close');
        assert.equal(code, 1006);
        assert.equal(events.length, 1);
        assert.match(events[0], /^error: /);
        assert.equal(ws.readyState, 3);
      } finally {
        await raw.close();
      }
    });
  }

  test('connection refused: error then close 1006', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address();
    await new Promise((r) => probe.close(r));
    const ws = connect(`ws://127.0.0.1:${port}`);
    const errors = [];
    ws.on('error', (error) => errors.push(error.code));
    const code = await within(new Promise((resolve) => ws.on('close', resolve)), 5000, 'close');
    assert.equal(code, 1006);
    assert.deepEqual(errors, ['ECONNREFUSED']);
  });

  test('no error listener: failures do not throw', async () => {
    const raw = await rawServer((socket) => socket.destroy());
    try {
      const ws = connect(raw.url);
      const [code] = await within(once(ws, 'close'), 5000, 'close');
      assert.equal(code, 1006);
    } finally {
      await raw.close();
    }
  });
});

describe('CLIs', () => {
  const distCli = (name) => fileURLToPath(new URL(`../dist/cli/${name}.js`, import.meta.url));

  test('echo: prints listening, echoes text as text and binary as binary, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [distCli('echo'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      await within(new Promise((resolve) => child.stdout.on('data', () => output.includes('listening') && resolve())), 5000, 'listening');
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(output)[1]);
      const ws = await open(`ws://127.0.0.1:${port}`);
      const got = [];
      ws.on('message', (data, binary) => got.push([Buffer.from(data).toString('hex'), binary]));
      ws.send('tëxt');
      ws.send(Buffer.from([0, 1, 2]));
      ws.send(Buffer.alloc(3 << 20, 7), { fragmentSize: 1000 });
      await within(new Promise((resolve) => ws.on('message', () => got.length === 3 && resolve())), 10000, 'echoes');
      assert.deepEqual(got.slice(0, 2), [[Buffer.from('tëxt').toString('hex'), false], ['000102', true]]);
      assert.equal(got[2][0].length, 2 * (3 << 20));
      ws.close(1000);
      assert.equal((await within(ws.closed, 5000, 'close')).code, 1000);
      child.kill('SIGTERM');
      const [exitCode] = await within(once(child, 'exit'), 5000, 'exit');
      assert.equal(exitCode, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('testee-client: drives a fake fuzzingserver (getCaseCount, runCase, updateReports)', async () => {
    const paths = [];
    const echoes = [];
    const server = await startServer({}, (ws) => {
      const path = ws.path;
      paths.push(path);
      if (path === '/getCaseCount') {
        ws.send('2');
        ws.close(1000);
      } else if (path.startsWith('/runCase')) {
        ws.send('text case');
        ws.send(Buffer.from([1, 2, 3]));
        let n = 0;
        ws.on('message', (data, binary) => {
          echoes.push([path, Buffer.from(data).toString('hex'), binary]);
          if (++n === 2) ws.close(1000);
        });
      } else {
        ws.close(1000);
      }
    });
    const child = spawn(process.execPath, [distCli('testee-client'), '--url', server.url, '--agent', 'wsframe-test'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [exitCode] = await within(once(child, 'exit'), 10000, 'testee-client exit');
      assert.equal(exitCode, 0);
      assert.deepEqual(paths, ['/getCaseCount', '/runCase?case=1&agent=wsframe-test', '/runCase?case=2&agent=wsframe-test', '/updateReports?agent=wsframe-test']);
      assert.deepEqual(echoes, [
        ['/runCase?case=1&agent=wsframe-test', Buffer.from('text case').toString('hex'), false],
        ['/runCase?case=1&agent=wsframe-test', '010203', true],
        ['/runCase?case=2&agent=wsframe-test', Buffer.from('text case').toString('hex'), false],
        ['/runCase?case=2&agent=wsframe-test', '010203', true],
      ]);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await server.close();
    }
  });
});
