// Interop with ws's own framing (Receiver/Sender) as the oracle, both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { Encoder } from 'wsframe';
import { decodeEvents } from './support/events.mjs';

const require = createRequire(import.meta.url);
const { Receiver, Sender } = require('ws');

function wsReceive(bytes, isServer) {
  const events = [];
  const r = new Receiver({ isServer, maxPayload: 0, binaryType: 'nodebuffer' });
  r.on('message', (data, isBinary) => events.push({ type: 'message', binary: isBinary, data: Buffer.from(data) }));
  r.on('ping', (data) => events.push({ type: 'ping', data: Buffer.from(data) }));
  r.on('pong', (data) => events.push({ type: 'pong', data: Buffer.from(data) }));
  r.on('conclude', (code, reason) => events.push({ type: 'close', code, reason: reason.toString() }));
  r.on('error', (e) => events.push({ type: 'error', message: e.message }));
  r.write(bytes);
  return events;
}

const cases = [
  { data: Buffer.alloc(0), binary: true },
  { data: 'Hello', binary: false },
  { data: randomBytes(125), binary: true },
  { data: randomBytes(126), binary: true },
  { data: randomBytes(65535), binary: true },
  { data: randomBytes(65536), binary: true },
  { data: randomBytes(1 << 20), binary: true },
  { data: 'κόσμε 𝄞 '.repeat(5000), binary: false },
];

test('our client Encoder → ws server Receiver', () => {
  for (const { data, binary } of cases) {
    for (const fragmentSize of [0, 1000]) {
      const e = new Encoder({ role: 'client' });
      const bytes = Buffer.concat([...e.message(data, { binary, fragmentSize }), ...e.ping('p'), ...e.close(4001, 'end')]);
      const events = wsReceive(bytes, true);
      const expected = Buffer.isBuffer(data) ? data : Buffer.from(data);
      assert.equal(events[0].type, 'message');
      assert.equal(events[0].binary, binary);
      assert.ok(events[0].data.equals(expected));
      assert.deepEqual(events.slice(1), [{ type: 'ping', data: Buffer.from('p') }, { type: 'close', code: 4001, reason: 'end' }]);
    }
  }
});

test('our server Encoder → ws client Receiver', () => {
  for (const { data, binary } of cases) {
    const e = new Encoder({ role: 'server' });
    const bytes = Buffer.concat([...e.message(data, { binary, fragmentSize: 4096 }), ...e.pong('q'), ...e.close()]);
    const events = wsReceive(bytes, false);
    assert.equal(events[0].binary, binary);
    assert.ok(events[0].data.equals(Buffer.isBuffer(data) ? data : Buffer.from(data)));
    assert.deepEqual(events.slice(1), [{ type: 'pong', data: Buffer.from('q') }, { type: 'close', code: 1005, reason: '' }]);
  }
});

function wsFrames(data, { binary, mask, fragment = 0 }) {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const out = [];
  const size = fragment || Math.max(buf.length, 1);
  for (let at = 0, i = 0; at < buf.length || i === 0; at += size, i++) {
    const piece = buf.subarray(at, at + size);
    out.push(...Sender.frame(piece, { fin: at + size >= buf.length, opcode: i === 0 ? (binary ? 2 : 1) : 0, mask, readOnly: true, rsv1: false }));
  }
  return Buffer.concat(out);
}

test('ws Sender frames (masked) → our server Decoder', () => {
  for (const { data, binary } of cases) {
    for (const fragment of [0, 777]) {
      const bytes = wsFrames(data, { binary, mask: true, fragment });
      const events = decodeEvents(bytes, { role: 'server' }, { chunk: 16384 });
      assert.equal(events.length, 1);
      assert.equal(events[0].binary, binary);
      assert.ok(events[0].data.equals(Buffer.isBuffer(data) ? data : Buffer.from(data)));
    }
  }
});

test('ws Sender frames (unmasked) → our client Decoder', () => {
  for (const { data, binary } of cases) {
    const bytes = wsFrames(data, { binary, mask: false, fragment: 500 });
    const events = decodeEvents(bytes, { role: 'client' }, { chunk: 3000 });
    assert.equal(events.length, 1);
    assert.ok(events[0].data.equals(Buffer.isBuffer(data) ? data : Buffer.from(data)));
  }
});
