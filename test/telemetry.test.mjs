// decoder.stats = { frames, messages, bytesIn, bufferedBytes, peakBufferedBytes, lastErrorCode }:
// exact values on small known streams, whole and byte by byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OP, buildFrame, buildFrames, closePayload, concat, messageFrames, patternBytes, utf8 } from './support/frames.mjs';
import { loadOurs } from './support/oracle.mjs';

const { Decoder } = await loadOurs();
const KEY = new Uint8Array([1, 2, 3, 4]);

const STREAM = buildFrames([
  { opcode: OP.TEXT, payload: utf8('hello'), mask: KEY },
  { opcode: OP.BINARY, payload: patternBytes(300), mask: KEY },
  { opcode: OP.PING, payload: utf8('p'), mask: KEY },
  ...messageFrames({ payload: utf8('fragmented'), splits: [3, 6], mask: KEY }),
  { opcode: OP.CLOSE, payload: closePayload(1000, 'bye'), mask: KEY },
]);
const FRAMES = 7;
const MESSAGES = 3;

test('fresh decoder: all zero', () => {
  const d = new Decoder();
  assert.deepEqual(d.stats, { frames: 0, messages: 0, bytesIn: 0, bufferedBytes: 0, peakBufferedBytes: 0, lastErrorCode: 0 });
  d.destroy();
});

test('a known stream pushed whole: exact counters', () => {
  const d = new Decoder();
  d.push(STREAM);
  assert.equal(d.state, 'closed');
  assert.deepEqual(d.stats, { frames: FRAMES, messages: MESSAGES, bytesIn: STREAM.length, bufferedBytes: 0, peakBufferedBytes: 'fragmented'.length, lastErrorCode: 0 });
  d.push(STREAM); // ignored after close
  assert.equal(d.stats.bytesIn, STREAM.length);
  d.destroy();
});

test('the same stream 1 byte at a time: same counters; bytesIn exact at every step; peak never below current', () => {
  const d = new Decoder();
  let peakSeen = 0;
  // expected buffered bytes after each 1-byte push: carried header bytes + payload bytes of the
  // incomplete frame/message (+ earlier fragments of the message)
  for (let i = 0; i < STREAM.length; i++) {
    d.push(STREAM.subarray(i, i + 1));
    const st = d.stats;
    peakSeen = Math.max(peakSeen, st.bufferedBytes);
    assert.equal(st.bytesIn, i + 1);
    assert.ok(st.peakBufferedBytes >= st.bufferedBytes, `after byte ${i}: peakBufferedBytes ${st.peakBufferedBytes} < bufferedBytes ${st.bufferedBytes}`);
  }
  const st = d.stats;
  assert.equal(st.frames, FRAMES);
  assert.equal(st.messages, MESSAGES);
  assert.equal(st.bufferedBytes, 0);
  assert.ok(st.peakBufferedBytes >= peakSeen);
  assert.ok(st.peakBufferedBytes <= 300 + 14, `peak ${st.peakBufferedBytes}`);
  d.destroy();
});

test('partial frames: bufferedBytes counts the carried header and payload bytes', () => {
  const f = buildFrame({ opcode: OP.BINARY, payload: patternBytes(10), mask: KEY }); // 2 + 4 + 10
  const d = new Decoder();
  d.push(f.subarray(0, 1));
  assert.equal(d.stats.bufferedBytes, 1, 'one header byte');
  assert.ok(d.stats.peakBufferedBytes >= 1, `peakBufferedBytes ${d.stats.peakBufferedBytes} after holding 1 header byte`);
  d.push(f.subarray(1, 6));
  assert.equal(d.stats.bufferedBytes, 0, 'a complete header is consumed, nothing of the payload yet');
  d.push(f.subarray(6, 9));
  assert.equal(d.stats.bufferedBytes, 3);
  assert.ok(d.stats.peakBufferedBytes >= 3);
  assert.equal(d.stats.messages, 0);
  d.push(f.subarray(9));
  assert.equal(d.stats.bufferedBytes, 0);
  assert.equal(d.stats.peakBufferedBytes, 10);
  assert.deepEqual([d.stats.frames, d.stats.messages, d.stats.bytesIn], [1, 1, f.length]);
  d.destroy();
});

test('partial control frame: its bytes are counted while held', () => {
  const f = buildFrame({ opcode: OP.PING, payload: patternBytes(100), mask: KEY });
  const d = new Decoder();
  d.push(f.subarray(0, 6 + 40));
  assert.equal(d.stats.bufferedBytes, 40);
  assert.ok(d.stats.peakBufferedBytes >= 40, `peakBufferedBytes ${d.stats.peakBufferedBytes} while 40 bytes of a ping are held`);
  d.push(f.subarray(46));
  assert.equal(d.stats.bufferedBytes, 0);
  d.destroy();
});

test('errors: lastErrorCode per rule; counters stop at the error', () => {
  const good = buildFrame({ opcode: OP.TEXT, payload: utf8('ok'), mask: KEY });
  const cases = [
    [buildFrame({ opcode: 3, mask: KEY }), 1002],
    [buildFrame({ opcode: OP.TEXT, payload: new Uint8Array([0xff]), mask: KEY }), 1007],
    [buildFrame({ opcode: OP.BINARY, declared: 2n ** 40n, len: 64, mask: KEY }), 1009],
    [buildFrame({ opcode: OP.CLOSE, payload: closePayload(1005), mask: KEY }), 1002],
  ];
  for (const [bad, code] of cases) {
    const d = new Decoder();
    const s = concat([good, bad, good]);
    d.push(s);
    assert.equal(d.state, 'failed');
    const st = d.stats;
    assert.equal(st.lastErrorCode, code);
    assert.equal(st.messages, 1);
    assert.ok(st.frames === 1 || st.frames === 2, `frames ${st.frames}`); // the bad frame's header may count
    assert.equal(st.bytesIn, s.length, 'bytes pushed');
    d.push(good);
    assert.deepEqual(d.stats, st, 'no counter moves after the error');
    d.destroy();
    assert.equal(d.stats.lastErrorCode, code, 'lastErrorCode survives destroy()');
  }
  const d = new Decoder({ maxFragments: 2 });
  d.push(buildFrames(messageFrames({ binary: true, payload: patternBytes(9), splits: [3, 6], mask: KEY })));
  assert.equal(d.stats.lastErrorCode, 1008);
  d.destroy();
});

test('streaming mode (onFragment): nothing is buffered for data; counters exact', () => {
  const payload = patternBytes(200000, 2);
  const s = buildFrames(messageFrames({ binary: true, payload, splits: [70000], mask: KEY }));
  let got = 0;
  const d = new Decoder({ onFragment: (data) => (got += data.length) });
  for (let off = 0; off < s.length; off += 999) {
    d.push(s.subarray(off, off + 999));
    assert.ok(d.stats.bufferedBytes <= 14, `buffered ${d.stats.bufferedBytes} in streaming mode`);
  }
  assert.equal(got, payload.length);
  assert.deepEqual(d.stats, { frames: 2, messages: 1, bytesIn: s.length, bufferedBytes: 0, peakBufferedBytes: d.stats.peakBufferedBytes, lastErrorCode: 0 });
  assert.ok(d.stats.peakBufferedBytes <= 14);
  d.destroy();
});
