// Kept messages stay as they arrived (the "chat server" bug: a server keeping
// received messages in an array saw later ones overwrite earlier ones), at
// every layer that promises owned data: Decoder and Connection with
// ownMessages, the stream adapters, the Node WebSocket (default, owned
// Buffers) and wsframe/ws. And the other side of the option: without it,
// reassembly buffers are recycled (the same ArrayBuffer serves later messages).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import RealWS from 'ws';
import { Decoder, Connection, accept, createDecoderStream, createWebDecoderStream } from 'wsframe';
import { WebSocketServer } from 'wsframe/ws';
import { OP, buildFrame, patternBytes } from './support/frames.mjs';

const KEY = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const SIZES = [300_000, 70_000, 5_000, 150_000, 200, 90_000, 300_000];
const FRAMES_PER_MESSAGE = 3;
/** Push sizes, cycled: messages and frames straddle pushes in different places. */
const PUSHES = [7_000, 65_536, 1_000, 33_333];

/** Message i: SIZES[i] bytes of its own pattern. */
const messages = SIZES.map((n, i) => patternBytes(n, i + 1));

/** Each message as FRAMES_PER_MESSAGE masked binary frames (client to server). */
function wire() {
  const frames = [];
  for (const payload of messages) {
    const step = Math.ceil(payload.length / FRAMES_PER_MESSAGE);
    for (let at = 0, k = 0; at < payload.length; at += step, k++) {
      const end = Math.min(payload.length, at + step);
      frames.push(buildFrame({ opcode: k === 0 ? OP.BINARY : OP.CONT, fin: end === payload.length, payload: payload.subarray(at, end), mask: KEY }));
    }
  }
  return Buffer.concat(frames);
}

/** The wire cut into pushes of PUSHES sizes. */
function pushes() {
  const all = wire();
  const out = [];
  for (let at = 0, i = 0; at < all.length; i++) {
    const n = PUSHES[i % PUSHES.length];
    out.push(all.subarray(at, at + n));
    at += n;
  }
  return out;
}

const bytesOf = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

/** Every kept message equals what was sent (checked after all were delivered). */
function assertKept(kept, what) {
  assert.equal(kept.length, messages.length, `${what}: messages delivered`);
  for (let i = 0; i < messages.length; i++) {
    assert.equal(kept[i].byteLength, messages[i].length, `${what}: length of message ${i}`);
    assert.ok(bytesOf(kept[i]).equals(bytesOf(messages[i])), `${what}: message ${i} was overwritten or corrupted`);
  }
}

describe('Decoder', () => {
  test('ownMessages true: kept multi-frame messages of different sizes, split across pushes, are never overwritten', () => {
    const kept = [];
    const d = new Decoder({ ownMessages: true, onMessage: (data) => kept.push(data) });
    for (const chunk of pushes()) d.push(Uint8Array.from(chunk));
    d.destroy();
    assertKept(kept, 'Decoder ownMessages');
    for (const data of kept) assert.equal(Decoder.isDecoderMemory(data), false);
    assert.equal(new Set(kept.map((d) => d.buffer)).size, kept.length, 'each message has its own buffer');
  });

  test('default (ownMessages false): reassembly buffers are recycled across messages; each is right during its handler', () => {
    const copies = [];
    const buffers = [];
    const d = new Decoder({
      onMessage: (data) => {
        // (A message under 4 KiB may sit in a small owned Buffer that is never recycled.)
        if (data.length >= 4096) assert.equal(Decoder.isDecoderMemory(data), true, 'a recycled buffer is decoder memory');
        // slice() copies: the documented way to keep a view.
        copies.push(data.slice());
        buffers.push(data.buffer);
      },
    });
    for (const chunk of pushes()) d.push(Uint8Array.from(chunk));
    for (const chunk of pushes()) d.push(Uint8Array.from(chunk));
    d.destroy();
    assertKept(copies.slice(0, messages.length), 'copies, first pass');
    assertKept(copies.slice(messages.length), 'copies, second pass');
    // The second pass finds the buffers of the first one idle in the pool.
    const reused = buffers.slice(messages.length).filter((b) => buffers.slice(0, messages.length).includes(b)).length;
    assert.ok(reused >= messages.length - 1, `only ${reused} of ${messages.length} messages reused a buffer`);
    assert.ok(new Set(buffers).size < buffers.length, 'buffers reused');
  });

  test('ownMessages must be a boolean', () => {
    assert.throws(() => new Decoder({ ownMessages: 'yes' }), TypeError);
  });
});

describe('Connection', () => {
  const run = (ownMessages) => {
    const kept = [];
    const c = new Connection({ role: 'server', open: true, ownMessages, onWrite() {}, onShutdown() {}, onMessage: (data) => kept.push(ownMessages ? data : data.slice()) });
    for (const chunk of pushes()) c.push(Uint8Array.from(chunk));
    return kept;
  };
  test('ownMessages true passes through: kept messages are never overwritten', () => {
    assertKept(run(true), 'Connection ownMessages');
  });
  test('default: views, right during the handler', () => {
    assertKept(run(false), 'Connection copies');
  });
  test('default: a server echoing recycled views queues copies (frames written are intact after every message)', () => {
    const written = [];
    const c = new Connection({ role: 'server', open: true, onWrite: (chunks) => { written.push(...chunks); }, onShutdown() {}, onMessage: (data) => c.send(data) });
    for (const chunk of pushes()) c.push(Uint8Array.from(chunk));
    const echoed = [];
    // (Echoes are single frames: views of the input area, copied.)
    const client = new Decoder({ role: 'client', onMessage: (data) => echoed.push(Uint8Array.prototype.slice.call(data)) });
    client.push(Buffer.concat(written));
    client.destroy();
    assertKept(echoed, 'echoes');
  });
});

describe('stream adapters', () => {
  test('Node decoder stream: messages read after all pushes are intact', async () => {
    const kept = [];
    await pipeline(Readable.from(pushes().map((c) => Buffer.from(c))), createDecoderStream(), async function* (source) {
      for await (const event of source) if (event.type === 'message') kept.push(event.data);
    });
    assertKept(kept, 'createDecoderStream');
  });

  test('web decoder stream: messages read after all pushes are intact', async () => {
    const stream = new ReadableStream({
      start(controller) {
        for (const c of pushes()) controller.enqueue(Uint8Array.from(c));
        controller.close();
      },
    }).pipeThrough(createWebDecoderStream());
    const kept = [];
    // Read only once everything went through the decoder: the queue holds them all.
    const events = [];
    for await (const event of stream) events.push(event);
    for (const event of events) if (event.type === 'message') kept.push(event.data);
    assertKept(kept, 'createWebDecoderStream');
  });
});

/** A client (the ws package) sending each message as FRAMES_PER_MESSAGE frames, pausing between frames so they arrive in separate reads. */
async function sendFragmented(url) {
  const client = new RealWS(url);
  await once(client, 'open');
  for (const payload of messages) {
    const step = Math.ceil(payload.length / FRAMES_PER_MESSAGE);
    for (let at = 0; at < payload.length; at += step) {
      const end = Math.min(payload.length, at + step);
      client.send(payload.subarray(at, end), { binary: true, fin: end === payload.length });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  return client;
}

describe('Node WebSocket (accept)', () => {
  for (const readMode of ['onread', 'data']) {
    test(`default (owned Buffers), readMode ${readMode}: a server keeping messages in an array sees each as sent`, async (t) => {
      const kept = [];
      let done;
      const all = new Promise((resolve) => { done = resolve; });
      const server = http.createServer((req, res) => res.writeHead(404).end());
      server.on('upgrade', (req, socket, head) => {
        const ws = accept(req, socket, head, { readMode });
        ws.on('error', () => {});
        ws.on('message', (data) => {
          kept.push(data);
          if (kept.length === messages.length) done();
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const client = await sendFragmented(`ws://127.0.0.1:${server.address().port}`);
      t.after(() => { client.terminate(); server.close(); server.closeAllConnections?.(); });
      await all;
      assertKept(kept, `accept() ${readMode}`);
      for (const data of kept) assert.ok(Buffer.isBuffer(data));
    });
  }
});

describe('wsframe/ws', () => {
  for (const binaryType of ['nodebuffer', 'arraybuffer']) {
    test(`default, binaryType ${binaryType}: a server keeping messages in an array sees each as sent`, async (t) => {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await once(wss, 'listening');
      const kept = [];
      let done;
      const all = new Promise((resolve) => { done = resolve; });
      wss.on('connection', (ws) => {
        ws.binaryType = binaryType;
        ws.on('message', (data) => {
          kept.push(binaryType === 'arraybuffer' ? new Uint8Array(data) : data);
          if (kept.length === messages.length) done();
        });
      });
      const client = await sendFragmented(`ws://127.0.0.1:${wss.address().port}`);
      t.after(() => { client.terminate(); for (const c of wss.clients) c.terminate(); wss.close(); });
      await all;
      assertKept(kept, `wsframe/ws ${binaryType}`);
    });
  }
});

describe('the recycling pool grows with the decoders alive and shrinks when they go', () => {
  test('40 decoders finishing 1 MiB messages at once keep 40 idle buffers; destroying 30 trims the pool', async () => {
    const { poolStats } = await import('../dist/core/message-pool.js');
    const before = poolStats();
    const size = 1 << 20;
    const payload = patternBytes(size, 9);
    const first = buildFrame({ opcode: OP.BINARY, fin: false, payload: payload.subarray(0, size / 2), mask: KEY });
    const last = buildFrame({ opcode: OP.CONT, fin: true, payload: payload.subarray(size / 2), mask: KEY });
    let delivered = 0;
    const decoders = Array.from({ length: 40 }, () => new Decoder({
      role: 'server', onMessage(data) { assert.equal(data.length, size); delivered++; },
    }));
    // Every decoder holds an unfinished message (its own buffer), then all finish: 40 buffers go idle together.
    for (const d of decoders) d.push(first);
    for (const d of decoders) d.push(last);
    assert.equal(delivered, 40);
    const full = poolStats();
    assert.ok(full.buffers - before.buffers >= 40 - 16 + 1, `more idle buffers than the base cap of 16: ${before.buffers} -> ${full.buffers}`);
    for (const d of decoders.slice(10)) d.destroy();
    const trimmed = poolStats();
    // caps: 16 buffers / 128 MiB, plus 2 buffers / 8 MiB per recycling decoder alive, of which that share is held strongly
    assert.ok(trimmed.buffers <= 16 + 2 * 10, `caps fall with the decoders: ${trimmed.buffers} idle buffers`);
    assert.ok(trimmed.bytes <= (128 << 20) + 10 * (8 << 20), `idle bytes ${trimmed.bytes}`);
    assert.ok(trimmed.strongBuffers <= 2 * 10 && trimmed.strongBytes <= 10 * (8 << 20), `strong shares fall too: ${JSON.stringify(trimmed)}`);
    for (const d of decoders.slice(0, 10)) d.destroy();
    assert.ok(poolStats().buffers <= 16);
    assert.equal(poolStats().strongBuffers, 0, 'no decoder alive: nothing held strongly');
  });
});
