// Many tiny fragments (the memory-exhaustion attack ws 8.21 had to patch), trickle and flood.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { OP, MiB, buildFrame, buildFrames, messageFrames, patternBytes, patternText } from './support/frames.mjs';
import { loadOurs, repr } from './support/oracle.mjs';

const mod = await loadOurs();
const { Decoder } = mod;
const KEY = new Uint8Array([0x11, 0x22, 0x33, 0x44]);
const mem = () => Decoder.memoryBytes();
const sha1 = (u8) => createHash('sha1').update(u8).digest('hex');

/** A message of `count` continuation frames of `size` bytes each (plus opening and closing frames). */
function manyFragments(count, size, { role = 'client', binary = true } = {}) {
  const mask = role === 'server' ? KEY : null;
  const one = (opcode, fin, payload) => buildFrame({ opcode, fin, payload, mask });
  const payloadOf = (i) => (size === 0 ? new Uint8Array(0) : new Uint8Array([0x41 + (i % 26)]));
  const first = one(binary ? OP.BINARY : OP.TEXT, false, payloadOf(0));
  const last = one(OP.CONT, true, payloadOf(count + 1));
  const contLen = one(OP.CONT, false, payloadOf(1)).length;
  const out = new Uint8Array(first.length + count * contLen + last.length);
  out.set(first, 0);
  let o = first.length;
  for (let i = 1; i <= count; i++) {
    out.set(one(OP.CONT, false, payloadOf(i)), o);
    o += contLen;
  }
  out.set(last, o);
  const message = new Uint8Array(size === 0 ? 0 : count + 2);
  if (size) for (let i = 0; i < count + 2; i++) message[i] = 0x41 + (i % 26);
  return { stream: out, message, frameOffsets: (i) => first.length + (i - 1) * contLen };
}

function decodeIn(stream, step, opts = {}) {
  const events = [];
  const d = new Decoder({
    role: 'client',
    ...opts,
    onMessage: (data, binary) => events.push(['message', binary ? 'binary' : 'text', repr(data)]),
    onError: (e) => events.push(['error', e.closeCode, e.code]),
  });
  for (let off = 0; off < stream.length; off += step) d.push(stream.subarray(off, off + step));
  return { d, events };
}

test('1,000,000 empty continuation frames in one message: memory flat, delivered once', () => {
  for (const role of ['client', 'server']) {
    const { stream } = manyFragments(1_000_000, 0, { role });
    decodeIn(manyFragments(1000, 0, { role }).stream, 65536, { role }).d.destroy(); // warm-up
    const m0 = mem();
    const { d, events } = decodeIn(stream, 65536, { role });
    assert.deepEqual(events, [['message', 'binary', '']]);
    assert.equal(mem(), m0, `${role}: WebAssembly memory grew with the number of empty fragments`);
    assert.equal(d.stats.frames, 1_000_002);
    assert.equal(d.stats.messages, 1);
    assert.equal(d.stats.bufferedBytes, 0);
    assert.ok(d.stats.peakBufferedBytes <= 16, `peak buffered ${d.stats.peakBufferedBytes} for an empty message`);
    d.destroy();
  }
});

test('1,000,000 one-byte continuation frames: memory growth bounded by the message itself', () => {
  const { stream, message } = manyFragments(1_000_000, 1, { role: 'client', binary: false });
  decodeIn(manyFragments(1000, 1).stream, 65536).d.destroy(); // warm-up
  const m0 = mem();
  const { d, events } = decodeIn(stream, 65536);
  assert.deepEqual(events, [['message', 'text', repr(message)]]);
  const grown = mem() - m0;
  assert.ok(grown <= message.length + 512 * 1024, `memory grew by ${grown} for a ${message.length}-byte message`);
  assert.equal(d.stats.peakBufferedBytes, message.length);
  assert.equal(d.stats.frames, 1_000_002);
  d.destroy();
  // a second identical message does not grow memory further
  const m1 = mem();
  decodeIn(stream, 65536).d.destroy();
  assert.equal(mem(), m1);
});

test('maxFragments: 1000 fails the 1,000,000-fragment message with 1008 at the 1001st frame header, memory flat', () => {
  for (const size of [0, 1]) {
    const { stream, frameOffsets } = manyFragments(1_000_000, size);
    const m0 = mem();
    const { d, events } = decodeIn(stream, 65536, { maxFragments: 1000 });
    assert.deepEqual(events, [['error', 1008, 'WS_ERR_TOO_MANY_FRAGMENTS']]);
    assert.equal(d.state, 'failed');
    assert.equal(d.stats.lastErrorCode, 1008);
    assert.equal(mem(), m0);
    d.destroy();
    // exactly at the boundary: 1000 frames (first + 999 continuations) pass, the 1001st header fails
    const upTo = frameOffsets(1000); // start of continuation #1000 = frame #1001
    const probe = decodeIn(stream.subarray(0, upTo), 4096, { maxFragments: 1000 });
    assert.deepEqual(probe.events, [], 'first 1000 frames must be accepted');
    probe.d.push(stream.subarray(upTo, upTo + 2));
    assert.deepEqual(probe.events, [['error', 1008, 'WS_ERR_TOO_MANY_FRAGMENTS']], 'the 1001st frame header must fail');
    probe.d.destroy();
  }
  // a message of exactly maxFragments frames is fine
  const ok = buildFrames(messageFrames({ binary: true, payload: patternBytes(1000), splits: Array.from({ length: 999 }, (_, i) => i + 1) }));
  assert.deepEqual(decodeIn(ok, 777, { maxFragments: 1000 }).events, [['message', 'binary', repr(patternBytes(1000))]]);
});

test('trickle: a 4 MiB fragmented text message (1 KiB masked fragments) pushed 1 byte at a time', () => {
  const payload = patternText(4 * MiB, 21);
  const stream = buildFrames(messageFrames({ payload, splits: Array.from({ length: 4095 }, (_, i) => (i + 1) * 1024), mask: KEY }));
  const got = [];
  const d = new Decoder({
    role: 'server',
    onMessage: (data, binary) => got.push([binary, data.length, sha1(data)]),
    onError: (e) => got.push(['error', e.closeCode]),
  });
  for (let i = 0; i < stream.length; i++) d.push(stream.subarray(i, i + 1));
  assert.deepEqual(got, [[false, payload.length, sha1(payload)]]);
  assert.equal(d.stats.frames, 4096);
  assert.equal(d.stats.bytesIn, stream.length);
  d.destroy();
});

test('flood: 1,000,000 tiny frames in one push — no stack overflow, all delivered in order', () => {
  for (const role of ['server', 'client']) {
    const N = 1_000_000;
    const mask = role === 'server' ? KEY : null;
    const frameLen = buildFrame({ opcode: OP.BINARY, payload: new Uint8Array(4), mask }).length;
    const pingLen = buildFrame({ opcode: OP.PING, payload: new Uint8Array(2), mask }).length;
    const pings = Math.floor(N / 1000);
    const stream = new Uint8Array(N * frameLen + pings * pingLen);
    const payload = new Uint8Array(4);
    const dv = new DataView(payload.buffer);
    let o = 0;
    for (let i = 0; i < N; i++) {
      dv.setUint32(0, i);
      const f = buildFrame({ opcode: i % 3 ? OP.BINARY : OP.TEXT, payload: i % 3 ? payload : new Uint8Array([0x30 + (i % 10)]), mask });
      stream.set(f, o);
      o += f.length;
      if (i % 1000 === 999) {
        stream.set(buildFrame({ opcode: OP.PING, payload: new Uint8Array([i >> 8, i]), mask }), o);
        o += pingLen;
      }
    }
    const s = stream.subarray(0, o);
    let next = 0;
    let bad = null;
    let checksum = 0;
    let pingCount = 0;
    const d = new Decoder({
      role,
      onMessage: (data, binary) => {
        const i = next++;
        if (bad) return;
        if (i % 3) {
          if (!binary || data.length !== 4 || new DataView(data.buffer, data.byteOffset, 4).getUint32(0) !== i) bad = `message ${i}: ${Buffer.from(data).toString('hex')} ${binary}`;
        } else if (binary || data.length !== 1 || data[0] !== 0x30 + (i % 10)) bad = `text message ${i}`;
        checksum = (checksum * 31 + data.length + (data[0] ?? 0)) >>> 0;
      },
      onPing: (p) => {
        pingCount++;
        if (next % 1000 !== 0) bad ??= `ping out of order after message ${next}`;
      },
      onError: (e) => {
        bad ??= `error ${e.closeCode} ${e.code} after ${next} messages`;
      },
    });
    d.push(s);
    assert.equal(bad, null);
    assert.equal(next, N);
    assert.equal(pingCount, pings);
    let expect = 0;
    for (let i = 0; i < N; i++) expect = (expect * 31 + (i % 3 ? 4 : 1) + (i % 3 ? i >>> 24 : 0x30 + (i % 10))) >>> 0;
    assert.equal(checksum, expect);
    assert.equal(d.stats.messages, N);
    assert.equal(d.stats.frames, N + pings);
    assert.equal(d.stats.bytesIn, s.length);
    d.destroy();
  }
});
