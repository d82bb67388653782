// The `arena` option (codec/core/arena.ts): a large message read straight
// into one shared region of WebAssembly memory, delivered and echoed from it.
// Every test compares bytes, and tells the arena's messages from the others
// by where they lie (a view of WebAssembly memory, not of a buffer of its own).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { Decoder, accept, connect } from 'wsframe';
import { OP, buildFrame, concat, patternBytes } from './support/frames.mjs';

const KEY = new Uint8Array([0x5a, 0x11, 0xc3, 0x08]);
const MiB = 2 ** 20;

/** A masked message in 1 KiB fragments (Autobahn 9.4's shape). */
function fragmented(payload, fragment = 1024) {
  const frames = [];
  for (let off = 0; off < payload.length || off === 0; off += fragment) {
    frames.push(buildFrame({ opcode: off === 0 ? OP.BINARY : OP.CONT, fin: off + fragment >= payload.length, payload: payload.subarray(off, off + fragment), mask: KEY }));
  }
  return concat(frames);
}

const inWasm = (view) => view.buffer.byteLength === Decoder.memoryBytes();
const FILLER = new Uint8Array(8 * MiB);

/** Feeds `bytes` the way the Node glue does: reads of at most `read` bytes into readBuffer(). */
function readInto(decoder, bytes, read = 64 * 1024) {
  for (let off = 0; off < bytes.length;) {
    const target = decoder.readBuffer();
    const n = Math.min(read, target.length, bytes.length - off);
    target.set(bytes.subarray(off, off + n));
    decoder.pushReadBuffer(n);
    off += n;
  }
}

/**
 * An echo server on 127.0.0.1 (zeroCopy, arena) following the documented
 * pattern: stop reading when send() says wait, resume on 'drain'. `seen` is
 * told of each message before its echo.
 */
async function arenaEchoServer(seen = () => {}) {
  const server = http.createServer();
  trackUpgrades(server);
  server.on('upgrade', (request, socket, head) => {
    const ws = accept(request, socket, head, { zeroCopy: true, arena: true });
    ws.on('drain', () => ws.resume());
    ws.on('message', (data, binary) => {
      seen(data);
      if (!ws.send(data, { binary })) ws.pause();
    });
    ws.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/** Upgraded sockets are the server's no longer (closeAllConnections misses them): kept here to be destroyed. */
function trackUpgrades(server) {
  server.upgraded = new Set();
  server.on('upgrade', (_request, socket) => server.upgraded.add(socket));
}

/** Ends everything the server had, upgraded sockets included, on success or failure. */
async function stopServer(server) {
  for (const socket of server.upgraded ?? []) socket.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

/**
 * A raw socket through the opening handshake (so that it can stop halfway
 * through a message): `frames()` is everything received after the 101 response.
 */
async function rawPeer(port) {
  const net = await import('node:net');
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  let received = Buffer.alloc(0);
  socket.on('data', (chunk) => { received = Buffer.concat([received, chunk]); });
  const frames = () => {
    const end = received.indexOf('\r\n\r\n');
    return end < 0 ? Buffer.alloc(0) : received.subarray(end + 4);
  };
  return { socket, frames };
}

/** Resolves once `ready()` holds, checking every 5 ms; throws after 20 s (a failing run must end, not poll on). */
async function until(ready, what = 'the echo') {
  const deadline = Date.now() + 20_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${what} did not arrive in 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function recorder() {
  const got = [];
  return {
    got,
    onMessage(data) { got.push({ bytes: Buffer.from(data), wasm: inWasm(data) }); },
    onPing(data) { got.push({ ping: Buffer.from(data).toString() }); },
    onError(error) { got.push({ error: error.closeCode }); },
  };
}

test('arena: from the second large message on, messages are reassembled in WebAssembly memory, bytes intact, pings in between delivered', () => {
  const sink = recorder();
  const decoder = new Decoder({ role: 'server', arena: true }, sink);
  const payloads = [patternBytes(2 * MiB, 1), patternBytes(2 * MiB, 2), patternBytes(2 * MiB + 777, 3)];
  const ping = buildFrame({ opcode: OP.PING, payload: new Uint8Array([0x68, 0x69]), mask: KEY });
  const second = fragmented(payloads[1]);
  // A ping between two fragments of the second message (§5.4: control frames may be injected).
  const cut = 8 + 1024 + (8 + 1024) * 100;
  readInto(decoder, fragmented(payloads[0]));
  readInto(decoder, concat([second.subarray(0, cut), ping, second.subarray(cut)]), 50_000);
  readInto(decoder, fragmented(payloads[2]), 100_003);
  const messages = sink.got.filter((e) => e.bytes);
  assert.equal(messages.length, 3);
  for (let i = 0; i < 3; i++) assert.ok(messages[i].bytes.equals(Buffer.from(payloads[i])), `message ${i} intact`);
  assert.deepEqual(messages.map((m) => m.wasm), [false, true, true]);
  assert.deepEqual(sink.got[1], { ping: 'hi' });
  decoder.destroy();
});

test('arena: one message at a time; a second decoder reassembles as usual meanwhile, and a message past the arena moves out of it', () => {
  const a = recorder();
  const b = recorder();
  const da = new Decoder({ role: 'server', arena: true }, a);
  const db = new Decoder({ role: 'server', arena: true }, b);
  const small = patternBytes(1 * MiB + 5, 7);
  readInto(da, fragmented(small));
  readInto(db, fragmented(small));
  // Both now expect large messages; interleave their reads: the first to start holds the arena.
  const pa = patternBytes(3 * MiB, 8);
  const pb = patternBytes(3 * MiB, 9);
  const sa = fragmented(pa);
  const sb = fragmented(pb);
  for (let off = 0; off < sa.length; off += 65_536) {
    readInto(da, sa.subarray(off, off + 65_536));
    readInto(db, sb.subarray(off, off + 65_536));
  }
  assert.ok(a.got[1].bytes.equals(Buffer.from(pa)));
  assert.ok(b.got[1].bytes.equals(Buffer.from(pb)));
  assert.deepEqual([a.got[1].wasm, b.got[1].wasm], [true, false]);
  // Past the arena's 8 MiB: the message leaves it for a buffer of its own, intact.
  const big = patternBytes(12 * MiB + 3, 10);
  readInto(da, fragmented(big), 1 << 20);
  assert.ok(a.got[2].bytes.equals(Buffer.from(big)));
  assert.equal(a.got[2].wasm, false);
  da.destroy();
  db.destroy();
});

test('arena: a decoder destroyed mid-message frees the arena for the next one; without the option nothing lands in it', () => {
  const payload = patternBytes(2 * MiB, 11);
  const stream = fragmented(payload);
  const a = recorder();
  const da = new Decoder({ role: 'server', arena: true }, a);
  readInto(da, stream);
  readInto(da, stream.subarray(0, stream.length >> 1));  // the second message, half read, in the arena
  da.destroy();
  const b = recorder();
  const db = new Decoder({ role: 'server', arena: true }, b);
  readInto(db, stream);
  readInto(db, stream);
  assert.deepEqual(b.got.map((m) => m.wasm), [false, true]);
  assert.ok(b.got[1].bytes.equals(Buffer.from(payload)));
  db.destroy();
  const c = recorder();
  const dc = new Decoder({ role: 'server' }, c);
  readInto(dc, stream);
  readInto(dc, stream);
  assert.deepEqual(c.got.map((m) => m.wasm), [false, false]);
  dc.destroy();
  // ownMessages wins: owned messages never come from the arena.
  const d = recorder();
  const dd = new Decoder({ role: 'server', arena: true, ownMessages: true }, d);
  readInto(dd, stream);
  readInto(dd, stream);
  assert.deepEqual(d.got.map((m) => m.wasm), [false, false]);
  dd.destroy();
});

test('arena over real sockets: an echo server (zeroCopy, arena) returns every large message intact, also while echoes queue behind a client that stops reading', { timeout: 30_000 }, async () => {
  const server = http.createServer();
  trackUpgrades(server);
  server.on('upgrade', (request, socket, head) => {
    const ws = accept(request, socket, head, { zeroCopy: true, arena: true });
    let grown = false;
    let count = 0;
    ws.on('message', (data, binary) => {
      // The fifth message (the client is not reading by then) is preceded by
      // 8 MiB of other data that the kernel cannot take all of, so the echo
      // has to wait in the socket. This server sends whatever send() says
      // (allowed: it queues).
      if (++count === 5) ws.send(FILLER);
      const waiting = ws.bufferedAmount > 0;
      ws.send(data, { binary });
      if (waiting && !grown) {
        // The echo waits behind earlier ones in the socket: grow WebAssembly
        // memory now (which detaches every view of it). A queued view of the
        // arena would lose its bytes; the echo must have been copied.
        grown = true;
        const before = Decoder.memoryBytes();
        const decoders = Array.from({ length: 40_000 }, () => new Decoder());
        for (const d of decoders) d.destroy();
        assert.ok(Decoder.memoryBytes() > before, 'WebAssembly memory grew');
      }
    });
    ws.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const client = connect(`ws://127.0.0.1:${server.address().port}`);
    const echoes = [];
    client.on('message', (data) => {
      if (data.length !== FILLER.length) echoes.push(Buffer.from(data));
    });
    await once(client, 'open');
    const payloads = Array.from({ length: 8 }, (_, i) => patternBytes(3 * MiB + i, 20 + i));
    for (const [i, payload] of payloads.entries()) {
      // Messages 4-5 go out while the client does not read: the server's writes queue up.
      if (i === 4) client.pause();
      client.send(payload, { fragmentSize: 1024 });
      if (i === 5) setTimeout(() => client.resume(), 300);
      if (i < 4 || i > 5) await until(() => echoes.length > i, `echo ${i}`);
    }
    await until(() => echoes.length === payloads.length, 'every echo');
    for (const [i, payload] of payloads.entries()) assert.ok(echoes[i].equals(Buffer.from(payload)), `echo ${i} intact`);
    client.close();
    await once(client, 'close');
  } finally {
    await stopServer(server);
  }
});

test('arena over real sockets: a connection opened while another reassembles in the arena reads into the shared area, and both get their echoes intact', { timeout: 30_000 }, async () => {
  const server = await arenaEchoServer();
  const port = server.address().port;
  try {
    // Peer A: a raw socket, so that it can stop halfway through a message.
    const a = await rawPeer(port);
    const first = patternBytes(2 * MiB, 31);
    const second = patternBytes(2 * MiB, 32);
    const echoed = (n) => a.frames().length >= n * (2 * MiB + 10);
    a.socket.write(fragmented(first));
    await until(() => echoed(1));
    const stream = fragmented(second);
    a.socket.write(stream.subarray(0, stream.length >> 1));  // half of a message now sits in the arena
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Peer B connects and talks meanwhile.
    const b = connect(`ws://127.0.0.1:${port}`);
    await once(b, 'open');
    const small = patternBytes(100_000, 33);
    b.send(small, { fragmentSize: 1000 });
    const [echo] = await once(b, 'message');
    assert.ok(Buffer.from(echo).equals(Buffer.from(small)), "B's echo intact");
    a.socket.write(stream.subarray(stream.length >> 1));
    await until(() => echoed(2));
    const frames = a.frames();
    assert.ok(frames.subarray(10, 10 + 2 * MiB).equals(Buffer.from(first)), "A's first echo intact");
    assert.ok(frames.subarray(2 * MiB + 20, 4 * MiB + 20).equals(Buffer.from(second)), "A's second echo intact");
    a.socket.destroy();
    b.close();
  } finally {
    await stopServer(server);
  }
});

test('arena over real sockets: a small message reassembled in the arena and echoed (copied into the write batch) leaves it free for a later large one', { timeout: 30_000 }, async () => {
  const fromArena = [];
  const server = await arenaEchoServer((data) => fromArena.push(inWasm(data)));
  try {
    const peer = await rawPeer(server.address().port);
    const frameLength = (n) => n + (n < 126 ? 2 : n < 65536 ? 4 : 10);
    let expected = 0;
    const echoOf = async (stream, size, pause = false) => {
      expected += frameLength(size);
      if (pause) {
        // The first fragment alone, then the rest: the message starts without its size known.
        peer.socket.write(stream.subarray(0, 8 + 1024));
        await new Promise((resolve) => setTimeout(resolve, 50));
        peer.socket.write(stream.subarray(8 + 1024));
      } else {
        peer.socket.write(stream);
      }
      await until(() => peer.frames().length >= expected);
    };
    const large = patternBytes(2 * MiB, 41);
    const small = patternBytes(3000, 42);
    // large; large (arena); small, split across reads (arena); large (the 3000-byte hint: not); large (arena again).
    await echoOf(fragmented(large), large.length);
    await echoOf(fragmented(large), large.length);
    await echoOf(fragmented(small), small.length, true);
    await echoOf(fragmented(large), large.length);
    await echoOf(fragmented(large), large.length);
    assert.deepEqual(fromArena, [false, true, true, false, true]);
    const frames = peer.frames();
    let at = 0;
    for (const payload of [large, large, small, large, large]) {
      at += frameLength(payload.length) - payload.length;
      assert.ok(frames.subarray(at, at + payload.length).equals(Buffer.from(payload)));
      at += payload.length;
    }
    peer.socket.destroy();
  } finally {
    await stopServer(server);
  }
});
