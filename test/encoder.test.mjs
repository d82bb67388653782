// Encoder: exact bytes, both roles, zero-copy server output, masking, limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Encoder, Decoder } from 'wsframe';
import { fromHex, buildFrame, OP } from './support/frames.mjs';
import { decodeEvents } from './support/events.mjs';

const concat = (chunks) => Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length)));
/** A randomFill that repeats one 4-byte key: every frame gets that key. */
const fixedKey = (key) => (buf) => { for (let i = 0; i < buf.length; i++) buf[i] = key[i & 3]; };

test('seed wire log: the client close frame and the server close frame, byte for byte', () => {
  // Autobahn 9.4.3 wire log: TX 8882e17cf77ae294 (masked close 1000), RX 880203e8.
  const client = new Encoder({ role: 'client', randomFill: fixedKey([0xe1, 0x7c, 0xf7, 0x7a]) });
  assert.equal(concat(client.close(1000)).toString('hex'), '8882e17cf77ae294');
  const server = new Encoder({ role: 'server' });
  assert.equal(concat(server.close(1000)).toString('hex'), '880203e8');
  // And the decoders read them back.
  assert.deepEqual(decodeEvents(fromHex('8882e17cf77ae294'), { role: 'server' }), [{ type: 'close', code: 1000, reason: '' }]);
  assert.deepEqual(decodeEvents(fromHex('880203e8'), { role: 'client' }), [{ type: 'close', code: 1000, reason: '' }]);
});

test('server role: header bytes for each length encoding; a payload over 1 KiB is the caller\'s bytes (no copy), up to 1 KiB one copied chunk', () => {
  const e = new Encoder({ role: 'server' });
  for (const [len, header] of [[0, '8200'], [125, '827d'], [126, '827e007e'], [1024, '827e0400'], [1025, '827e0401'], [65535, '827effff'], [65536, '827f0000000000010000']]) {
    const data = new Uint8Array(len).fill(9);
    const out = e.message(data);
    const wire = concat(out);
    assert.equal(wire.subarray(0, header.length / 2).toString('hex'), header, `len ${len}`);
    assert.equal(wire.length, header.length / 2 + len);
    assert.ok(wire.subarray(header.length / 2).every((b) => b === 9));
    if (len > 1024) {
      assert.equal(out.length, 2);
      assert.equal(out[1].buffer, data.buffer, 'payload chunk aliases the caller\'s buffer');
      assert.equal(out[1].byteOffset, data.byteOffset);
      assert.equal(out[1].length, len);
    } else {
      assert.equal(out.length, 1, `len ${len}: header and payload in one chunk`);
      assert.notEqual(out[0].buffer, data.buffer, 'a copy, not the caller\'s buffer');
      data.fill(7);
      assert.ok(out[0].subarray(header.length / 2).every((b) => b === 9), 'the chunk keeps the bytes as they were at encoding');
    }
  }
  assert.equal(concat(e.message('Hello')).toString('hex'), '810548656c6c6f');
  assert.equal(concat(e.message('Hello', { binary: true })).toString('hex'), '820548656c6c6f');
  assert.equal(concat(e.message(new TextEncoder().encode('Hi'), { binary: false })).toString('hex'), '81024869');
});

test('writeSmallFrame writes what the test-side frame builder and WebAssembly\'s header writer write, for every length up to 1 KiB, at any offset', async () => {
  const { writeSmallFrame, SMALL_FRAME } = await import('../dist/core/encoder.js');
  assert.equal(SMALL_FRAME, 1024);
  const e = new Encoder({ role: 'server' });
  const target = new Uint8Array(4096).fill(0xee);
  for (let len = 0; len <= SMALL_FRAME; len += len < 140 ? 1 : 37) {
    const payload = new Uint8Array(len).map((_, i) => (i * 7 + len) & 0xff);
    // WebAssembly's writer: the last frame of a message of two len-byte fragments (continuation, FIN)
    const wasmLast = len === 0 ? null : concat(e.message(new Uint8Array([...payload, ...payload]), { binary: true, fragmentSize: len })).subarray(-(len + (len < 126 ? 2 : 4)));
    for (const [firstByte, opcode, fin] of [[0x82, OP.BINARY, true], [0x81, OP.TEXT, true], [0x80, OP.CONT, true], [0x02, OP.BINARY, false], [0xc1, OP.TEXT, true]]) {
      const want = buildFrame({ opcode, fin, rsv: (firstByte >> 4) & 7, payload });
      const at = 3 + (len % 5);
      const n = writeSmallFrame(target, at, firstByte, payload);
      assert.equal(n, want.length, `len ${len}`);
      assert.deepEqual(Buffer.from(target.subarray(at, at + n)), Buffer.from(want), `len ${len} first byte ${firstByte}`);
      if (firstByte === 0x80 && wasmLast !== null) assert.deepEqual(Buffer.from(target.subarray(at, at + n)), wasmLast, `len ${len}: WebAssembly's header`);
      assert.equal(target[at + n], 0xee, 'nothing written past the frame');
      assert.equal(target[at - 1], 0xee, 'nothing written before the frame');
      target.fill(0xee);
    }
  }
});

test('client role: RFC 6455 §5.7 example "Hello" masked with 37 fa 21 3d', () => {
  const e = new Encoder({ role: 'client', randomFill: fixedKey([0x37, 0xfa, 0x21, 0x3d]) });
  assert.equal(concat(e.message('Hello')).toString('hex'), '818537fa213d7f9f4d5158');
  const big = new Uint8Array(300).map((_, i) => i);
  const out = concat(e.message(big, { fragmentSize: 100 }));
  // Three frames of 2+4+100 bytes; the first binary without FIN, the last continuation with FIN.
  assert.equal(out.length, 3 * 106);
  assert.deepEqual([out[0], out[106], out[212]], [0x02, 0x00, 0x80]);
  for (let f = 0; f < 3; f++) {
    for (let i = 0; i < 100; i++) assert.equal(out[f * 106 + 6 + i] ^ [0x37, 0xfa, 0x21, 0x3d][i & 3], (f * 100 + i) & 0xff);
  }
});

test('mask keys come from the pool, differ between frames, and the pool is refilled', () => {
  let fills = 0;
  const e = new Encoder({ role: 'client', randomFill: (buf) => { fills++; globalThis.crypto.getRandomValues(buf); } });
  const keys = new Set();
  for (let i = 0; i < 3000; i++) {
    const out = e.message(Uint8Array.of(1, 2, 3))[0];
    assert.equal(out[1], 0x83);
    keys.add(Buffer.from(out.subarray(2, 6)).toString('hex'));
  }
  assert.ok(keys.size > 2990, `keys vary (${keys.size} distinct)`);
  assert.ok(fills >= 2 && fills <= 4, `one fill per 1024 keys, got ${fills}`);
});

test('the reference message: 4 MiB with fragmentSize 1024 is exactly 4096 frames of the 9.4.3 case', () => {
  const payload = new Uint8Array(4 * 2 ** 20);
  for (let i = 0; i < payload.length; i += 4096) payload[i] = i >>> 12;
  for (const role of ['client', 'server']) {
    const out = concat(new Encoder({ role }).message(payload, { fragmentSize: 1024 }));
    const frameLen = (role === 'client' ? 8 : 4) + 1024;
    assert.equal(out.length, 4096 * frameLen);
    for (let f = 0; f < 4096; f++) {
      const at = f * frameLen;
      const b0 = f === 0 ? 0x02 : f === 4095 ? 0x80 : 0x00;
      assert.equal(out[at], b0, `frame ${f} b0`);
      assert.equal(out[at + 1], (role === 'client' ? 0x80 : 0) | 126);
      assert.equal((out[at + 2] << 8) | out[at + 3], 1024);
    }
    const events = decodeEvents(out, { role: role === 'client' ? 'server' : 'client' }, { chunk: 65536 });
    assert.equal(events.length, 1);
    assert.ok(events[0].data.equals(Buffer.from(payload)));
  }
});

test('fragment(): a message streamed piece by piece', () => {
  for (const role of ['client', 'server']) {
    const e = new Encoder({ role });
    const chunks = [
      ...e.fragment('Hel', { fin: false }),
      ...e.ping('mid'),
      ...e.fragment(new TextEncoder().encode('lo'), { fin: false }),
      ...e.fragment('!', { fin: true }),
      ...e.fragment(Uint8Array.of(1, 2), { binary: true, fin: true }),
    ];
    const bytes = concat(chunks);
    const events = decodeEvents(bytes, { role: role === 'client' ? 'server' : 'client' });
    assert.deepEqual(events.map((ev) => [ev.type, ev.binary ?? null, ev.data.toString('hex')]), [
      ['ping', null, Buffer.from('mid').toString('hex')],
      ['message', false, Buffer.from('Hello!').toString('hex')],
      ['message', true, '0102'],
    ]);
  }
  const e = new Encoder();
  e.fragment('a', { fin: false });
  assert.throws(() => e.message('b'), /in progress/);
});

test('control frames: limits and close codes checked before anything is sent', () => {
  const e = new Encoder({ role: 'server' });
  assert.equal(concat(e.ping()).toString('hex'), '8900');
  assert.equal(concat(e.pong('ab')).toString('hex'), '8a026162');
  assert.equal(concat(e.close()).toString('hex'), '8800');
  assert.equal(concat(e.close(4000, 'bye')).toString('hex'), '88050fa0627965');
  assert.throws(() => e.ping(new Uint8Array(126)), RangeError);
  assert.throws(() => e.close(1000, 'x'.repeat(124)), RangeError);
  for (const bad of [1005, 1006, 1004, 1015, 999, 2000, 5000, 1000.5]) assert.throws(() => e.close(bad), RangeError, `code ${bad}`);
  assert.throws(() => e.close(undefined, 'reason'), TypeError);
});

test('returned chunks stay valid after later calls and after WebAssembly memory grows', () => {
  const e = new Encoder({ role: 'client', randomFill: fixedKey([1, 2, 3, 4]) });
  const first = e.message(new Uint8Array(200000).fill(5), { fragmentSize: 1000 });
  const copy = concat(first);
  // Grow the shared memory with a big message through a decoder.
  const big = concat(new Encoder({ role: 'client' }).message(new Uint8Array(8 * 2 ** 20), { fragmentSize: 65536 }));
  decodeEvents(big);
  e.message(new Uint8Array(200000).fill(6), { fragmentSize: 1000 });
  assert.ok(concat(first).equals(copy));
});

test('round trips in both directions at many sizes and fragment sizes', () => {
  for (const size of [0, 1, 3, 125, 126, 127, 1000, 65535, 65536, 65537, 200000, 1 << 20]) {
    const payload = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff);
    for (const fragmentSize of [0, 1000, 65536]) {
      if (fragmentSize !== 0 && size / fragmentSize > 2000) continue;
      for (const role of ['client', 'server']) {
        const bytes = concat(new Encoder({ role }).message(payload, { fragmentSize }));
        const events = decodeEvents(bytes, { role: role === 'client' ? 'server' : 'client' }, { chunk: 7919 });
        assert.equal(events.length, 1, `size ${size} frag ${fragmentSize} ${role}`);
        assert.ok(events[0].data.equals(Buffer.from(payload)), `size ${size} frag ${fragmentSize} ${role}`);
      }
    }
  }
});

test('large single frames (over the 128 KiB slice) are masked correctly across slices', () => {
  const payload = new Uint8Array(3 * 131072 + 77).map((_, i) => (i * 7) & 0xff);
  const bytes = concat(new Encoder({ role: 'client' }).message(payload, { fragmentSize: 200001 }));
  const events = decodeEvents(bytes, {}, { chunk: 65536 });
  assert.equal(events.length, 1);
  assert.ok(events[0].data.equals(Buffer.from(payload)));
});

test('text from a string with multi-byte characters, fragmented through code points', () => {
  const s = 'añ€𝄞'.repeat(1000);
  const bytes = concat(new Encoder({ role: 'client' }).message(s, { fragmentSize: 7 }));
  const events = decodeEvents(bytes);
  assert.equal(events.length, 1);
  assert.equal(events[0].binary, false);
  assert.equal(events[0].data.toString(), s);
});

test('Decoder with onFragment and Encoder.fragment stream a message without buffering it', () => {
  const e = new Encoder({ role: 'client' });
  const pieces = [];
  const d = new Decoder({ role: 'server', onFragment: (data, binary, fin) => pieces.push([Buffer.from(data).toString(), binary, fin]) });
  for (const part of ['ab', 'cd', 'ef']) for (const c of e.fragment(part, { fin: part === 'ef' })) d.push(c);
  assert.deepEqual(pieces, [['ab', false, false], ['cd', false, false], ['ef', false, true]]);
  assert.equal(d.stats.peakBufferedBytes, 0, 'nothing was buffered');
  d.destroy();
});

test('generateMask (as in ws) is called once per frame, in frame order', () => {
  let n = 0;
  const e = new Encoder({ role: 'client', generateMask: (mask) => { n++; mask.set([n, n, n, n]); } });
  const out = concat(e.message(new Uint8Array(10), { fragmentSize: 4 }));
  // Frames of 4, 4, 2 bytes: keys 1, 2, 3.
  assert.deepEqual([out[2], out[12], out[22]], [1, 2, 3]);
  assert.equal(concat(e.ping())[2], 4);
  assert.equal(n, 4);
});

test('other byte containers are accepted: ArrayBuffer, DataView, Buffer; anything else is a TypeError', () => {
  const e = new Encoder({ role: 'server' });
  const ab = new TextEncoder().encode('abc').buffer;
  assert.equal(concat(e.message(ab)).toString('hex'), '8203616263');
  assert.equal(concat(e.message(new DataView(ab, 1))).toString('hex'), '82026263');
  assert.throws(() => e.message(42), TypeError);
  const got = [];
  const d = new Decoder({ role: 'client', onMessage: (m) => got.push(Buffer.from(m).toString()) });
  d.push(new Uint8Array([0x81, 0x02, 0x68, 0x69]).buffer);
  d.push(new DataView(new Uint8Array([0x81, 0x01, 0x21]).buffer));
  assert.deepEqual(got, ['hi', '!']);
  d.destroy();
});

test('client output: one chunk per call; recycle() gives large output back and the next message reuses it', () => {
  const e = new Encoder({ role: 'client' });
  const payload = new Uint8Array(1 << 20).map((_, i) => (i * 13) & 0xff);
  const first = e.message(payload, { fragmentSize: 1024 });
  assert.equal(first.length, 1, 'all frames of a call in one chunk');
  assert.equal(first[0].length, 1024 * (8 + 1024));
  // Not given back: the next output is other memory, and the first stays intact.
  const kept = Buffer.from(first[0]);
  const second = e.message(payload, { fragmentSize: 1024 });
  assert.notEqual(second[0].buffer, first[0].buffer);
  assert.ok(Buffer.from(first[0]).equals(kept));
  // Given back: the next message of that size is written into the same memory.
  e.recycle(second);
  const third = e.message(payload);
  assert.equal(third[0].buffer, second[0].buffer, 'recycled output reused');
  assert.equal(third[0].length, 10 + 4 + payload.length);
  const events = decodeEvents(concat(third), { role: 'server' }, { chunk: 65536 });
  assert.equal(events.length, 1);
  assert.ok(events[0].data.equals(Buffer.from(payload)));
  // Recycling twice, or recycling what no encoder lent, changes nothing.
  e.recycle(third);
  e.recycle(third);
  const foreign = new Uint8Array(1 << 20);
  e.recycle([foreign]);
  const a = e.message(payload), b = e.message(payload);
  assert.notEqual(a[0].buffer, b[0].buffer, 'one recycled buffer is handed out once');
  assert.notEqual(a[0].buffer, foreign.buffer);
  assert.notEqual(b[0].buffer, foreign.buffer);
});

test('encoders on the default random source share a key pool: no key repeats across encoders', () => {
  const encoders = [new Encoder({ role: 'client' }), new Encoder({ role: 'client' }), new Encoder({ role: 'client' })];
  const keys = new Set();
  let n = 0;
  // 20,000 keys: past the 16,384 keys of one 64 KiB pool, so it is refilled.
  for (let i = 0; i < 20000; i++) {
    const out = encoders[i % 3].message(Uint8Array.of(i & 0xff))[0];
    keys.add(Buffer.from(out.subarray(2, 6)).toString('hex'));
    n++;
  }
  // Random 32-bit keys: a handful of birthday collisions at most, never a run of reuse.
  assert.ok(keys.size > n - 20, `${keys.size} distinct keys of ${n}`);
});
