// Every RFC 6455 receiving rule the Decoder enforces, with its exact close code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, ProtocolError, CloseCode } from 'wsframe';
import { buildFrame, buildFrames, closePayload, concat, OP } from './support/frames.mjs';
import { decodeEvents, errorOf } from './support/events.mjs';

const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
const masked = (f) => buildFrame({ mask: KEY, ...f });
const text = (s) => new TextEncoder().encode(s);

function expectError(bytes, closeCode, code, options = {}) {
  for (const chunk of [bytes.length, 1, 3]) {
    const events = decodeEvents(bytes, options, { chunk });
    const err = errorOf(events);
    assert.ok(err, `expected ${code} (chunk ${chunk}), got ${JSON.stringify(events)}`);
    assert.equal(err.closeCode, closeCode, `chunk ${chunk}: ${err.message}`);
    assert.equal(err.code, code);
    assert.equal(err.isProtocolError, true);
    assert.equal(events.at(-1), err, 'nothing is delivered after the error');
  }
}

test('reserved opcodes 3-7 and 0xB-0xF fail with 1002', () => {
  for (const opcode of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    expectError(masked({ opcode, payload: text('x') }), 1002, 'WS_ERR_INVALID_OPCODE');
  }
});

test('RSV bits without a negotiated extension fail with 1002', () => {
  expectError(masked({ opcode: OP.TEXT, rsv: 4, payload: text('a') }), 1002, 'WS_ERR_UNEXPECTED_RSV_1');
  expectError(masked({ opcode: OP.TEXT, rsv: 2, payload: text('a') }), 1002, 'WS_ERR_UNEXPECTED_RSV_2_3');
  expectError(masked({ opcode: OP.PING, rsv: 1 }), 1002, 'WS_ERR_UNEXPECTED_RSV_2_3');
});

test('mask bit wrong for the role fails with 1002', () => {
  expectError(buildFrame({ opcode: OP.BINARY, payload: text('abc') }), 1002, 'WS_ERR_EXPECTED_MASK', { role: 'server' });
  expectError(masked({ opcode: OP.BINARY, payload: text('abc') }), 1002, 'WS_ERR_UNEXPECTED_MASK', { role: 'client' });
});

test('control frames over 125 bytes or fragmented fail with 1002', () => {
  expectError(masked({ opcode: OP.PING, payload: new Uint8Array(126) }), 1002, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH');
  expectError(masked({ opcode: OP.PONG, payload: new Uint8Array(126), len: 16 }), 1002, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH');
  expectError(masked({ opcode: OP.PING, fin: false, payload: text('p') }), 1002, 'WS_ERR_EXPECTED_FIN');
  expectError(masked({ opcode: OP.CLOSE, fin: false, payload: closePayload(1000) }), 1002, 'WS_ERR_EXPECTED_FIN');
});

test('a 125-byte ping, the largest allowed, is delivered', () => {
  const events = decodeEvents(masked({ opcode: OP.PING, payload: new Uint8Array(125).fill(7) }));
  assert.deepEqual(events.map((e) => [e.type, e.data.length]), [['ping', 125]]);
});

test('continuation without a started message fails with 1002', () => {
  expectError(masked({ opcode: OP.CONT, payload: text('x') }), 1002, 'WS_ERR_UNEXPECTED_CONTINUATION');
  // After a complete message, a continuation is again unexpected.
  const bytes = buildFrames([{ opcode: OP.TEXT, mask: KEY, payload: text('ok') }, { opcode: OP.CONT, mask: KEY, payload: text('x') }]);
  const events = decodeEvents(bytes);
  assert.equal(events[0].type, 'message');
  assert.equal(errorOf(events).code, 'WS_ERR_UNEXPECTED_CONTINUATION');
});

test('a new data frame inside a fragmented message fails with 1002', () => {
  const bytes = buildFrames([
    { opcode: OP.TEXT, fin: false, mask: KEY, payload: text('a') },
    { opcode: OP.BINARY, mask: KEY, payload: text('b') },
  ]);
  expectError(bytes, 1002, 'WS_ERR_EXPECTED_CONTINUATION');
});

test('64-bit length with the most significant bit set fails with 1002 (RFC 6455 §5.2)', () => {
  const bytes = buildFrame({ opcode: OP.BINARY, mask: KEY, len: 64, declared: 2n ** 63n + 5n });
  expectError(bytes, 1002, 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH');
});

test('close payload of 1 byte fails with 1002', () => {
  expectError(masked({ opcode: OP.CLOSE, payload: Uint8Array.of(3) }), 1002, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH');
});

test('invalid close codes fail with 1002, valid ones are delivered (RFC 6455 §7.4)', () => {
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    expectError(masked({ opcode: OP.CLOSE, payload: closePayload(code) }), 1002, 'WS_ERR_INVALID_CLOSE_CODE');
  }
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]) {
    const events = decodeEvents(masked({ opcode: OP.CLOSE, payload: closePayload(code, 'why') }));
    assert.deepEqual(events, [{ type: 'close', code, reason: 'why' }]);
  }
});

test('a close frame without a body reports 1005 and ends the stream', () => {
  const bytes = buildFrames([{ opcode: OP.CLOSE, mask: KEY }, { opcode: OP.TEXT, mask: KEY, payload: text('ignored') }]);
  for (const chunk of [bytes.length, 1]) {
    assert.deepEqual(decodeEvents(bytes, {}, { chunk }), [{ type: 'close', code: 1005, reason: '' }]);
  }
});

test('invalid UTF-8 in a close reason fails with 1007', () => {
  expectError(masked({ opcode: OP.CLOSE, payload: closePayload(1000, Uint8Array.of(0xce, 0xba, 0xe1, 0xbd)) }), 1007, 'WS_ERR_INVALID_UTF8');
  expectError(masked({ opcode: OP.CLOSE, payload: closePayload(1000, Uint8Array.of(0xed, 0xa0, 0x80)) }), 1007, 'WS_ERR_INVALID_UTF8');
});

test('invalid UTF-8 in text fails with 1007: overlong, surrogate, > U+10FFFF, truncated, stray continuation', () => {
  const bad = [
    [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf0, 0x80, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
    [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xff], [0x80], [0x41, 0xbf], [0xe2, 0x82], [0xf0, 0x9f, 0x98],
  ];
  for (const seq of bad) {
    for (const pad of [0, 20, 40]) {
      const payload = new Uint8Array([...new Array(pad).fill(0x61), ...seq]);
      expectError(masked({ opcode: OP.TEXT, payload }), 1007, 'WS_ERR_INVALID_UTF8');
    }
  }
  // Binary payloads are not validated.
  const events = decodeEvents(masked({ opcode: OP.BINARY, payload: Uint8Array.of(0xff, 0xfe) }));
  assert.deepEqual(events.map((e) => e.type), ['message']);
});

test('valid UTF-8 edge cases are accepted, in one frame and split at every byte across fragments', () => {
  const samples = ['', 'a', '\u0080', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{10ffff}', 'κόσμε', 'a€𝄞b'.repeat(9)];
  for (const s of samples) {
    const bytes = text(s);
    assert.deepEqual(decodeEvents(masked({ opcode: OP.TEXT, payload: bytes })).map((e) => e.data?.toString()), [s]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const frames = buildFrames([
        { opcode: OP.TEXT, fin: false, mask: KEY, payload: bytes.subarray(0, cut) },
        { opcode: OP.CONT, mask: KEY, payload: bytes.subarray(cut) },
      ]);
      const events = decodeEvents(frames, {}, { chunk: 1 + (cut % 5) });
      assert.deepEqual(events.map((e) => [e.type, e.data?.toString()]), [['message', s]], `cut ${cut} of ${JSON.stringify(s)}`);
    }
  }
});

test('UTF-8 fails fast: a bad byte in the first fragment fails before the message ends', () => {
  // The first fragment alone, message unfinished: the error is already reported.
  const first = masked({ opcode: OP.TEXT, fin: false, payload: new Uint8Array([...text('hello'), 0xf5, ...text('world')]) });
  assert.equal(errorOf(decodeEvents(first)).closeCode, 1007);
  // Even within one frame whose rest has not arrived yet.
  const frame = masked({ opcode: OP.TEXT, payload: new Uint8Array([...text('héllo'), 0xc0, 0x80, ...new Array(1000).fill(0x61)]) });
  const partial = frame.subarray(0, 20);
  assert.equal(errorOf(decodeEvents(partial)).closeCode, 1007);
  // A sequence that can still be completed is not an error yet.
  const open = masked({ opcode: OP.TEXT, fin: false, payload: Uint8Array.of(0x61, 0xf0, 0x9f) });
  assert.deepEqual(decodeEvents(open), []);
  // ... but it is when the message ends there.
  expectError(masked({ opcode: OP.TEXT, payload: Uint8Array.of(0x61, 0xf0, 0x9f) }), 1007, 'WS_ERR_INVALID_UTF8');
});

test('messages too big fail with 1009 from the header, before the payload arrives', () => {
  // One frame past the limit: only its header is pushed.
  const header = buildFrame({ opcode: OP.BINARY, mask: KEY, len: 64, declared: 2 ** 40 }).subarray(0, 14);
  const before = Decoder.memoryBytes();
  expectError(header, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  assert.equal(Decoder.memoryBytes(), before, 'memory did not grow');
  // Fragments adding up past the limit.
  const frames = buildFrames([
    { opcode: OP.BINARY, fin: false, mask: KEY, payload: new Uint8Array(600) },
    { opcode: OP.CONT, fin: false, mask: KEY, payload: new Uint8Array(400) },
    { opcode: OP.CONT, mask: KEY, payload: new Uint8Array(25) },
  ]);
  expectError(frames, 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', { maxMessageSize: 1024 });
  assert.deepEqual(decodeEvents(frames, { maxMessageSize: 1025 }).map((e) => [e.type, e.data.length]), [['message', 1025]]);
  // Exactly at the limit is fine; one byte over is not.
  assert.equal(decodeEvents(masked({ opcode: OP.TEXT, payload: new Uint8Array(100).fill(0x61) }), { maxMessageSize: 100 })[0].type, 'message');
  expectError(masked({ opcode: OP.TEXT, payload: new Uint8Array(101).fill(0x61) }), 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', { maxMessageSize: 100 });
});

test('the fragment cap is opt-in and fails with 1008', () => {
  const frames = [];
  for (let i = 0; i < 20; i++) frames.push({ opcode: i === 0 ? OP.BINARY : OP.CONT, fin: i === 19, mask: KEY, payload: Uint8Array.of(i) });
  const bytes = buildFrames(frames);
  assert.deepEqual(decodeEvents(bytes).map((e) => [e.type, e.data.length]), [['message', 20]]);
  assert.deepEqual(decodeEvents(bytes, { maxFragments: 20 }).map((e) => e.type), ['message']);
  expectError(bytes, 1008, 'WS_ERR_TOO_MANY_FRAGMENTS', { maxFragments: 19 });
});

test('control frames interleaved in a fragmented message are delivered in wire order', () => {
  const bytes = buildFrames([
    { opcode: OP.TEXT, fin: false, mask: KEY, payload: text('Hel') },
    { opcode: OP.PING, mask: KEY, payload: text('p1') },
    { opcode: OP.CONT, fin: false, mask: KEY, payload: text('lo, ') },
    { opcode: OP.PONG, mask: KEY, payload: text('p2') },
    { opcode: OP.CONT, mask: KEY, payload: text('world') },
    { opcode: OP.CLOSE, mask: KEY, payload: closePayload(1000, 'done') },
  ]);
  for (const chunk of [bytes.length, 1, 2, 5, 7]) {
    const got = decodeEvents(bytes, {}, { chunk }).map((e) => [e.type, e.data?.toString() ?? e.code]);
    assert.deepEqual(got, [['ping', 'p1'], ['pong', 'p2'], ['message', 'Hello, world'], ['close', 1000]], `chunk ${chunk}`);
  }
});

test('messages before a bad frame in the same chunk are delivered first, in order', () => {
  const bytes = buildFrames([
    { opcode: OP.TEXT, mask: KEY, payload: text('one') },
    { opcode: OP.BINARY, fin: false, mask: KEY, payload: text('tw') },
    { opcode: OP.PING, mask: KEY, payload: text('ping') },
    { opcode: OP.CONT, mask: KEY, payload: text('o') },
    { opcode: 0x3, mask: KEY },
    { opcode: OP.TEXT, mask: KEY, payload: text('never') },
  ]);
  const got = decodeEvents(bytes).map((e) => e.type === 'error' ? ['error', e.closeCode] : [e.type, e.data.toString()]);
  assert.deepEqual(got, [['message', 'one'], ['ping', 'ping'], ['message', 'two'], ['error', 1002]]);
});

test('after an error or a close, input is ignored and push never throws', () => {
  let errors = 0, messages = 0;
  const d = new Decoder({ onError: () => errors++, onMessage: () => messages++ });
  d.push(masked({ opcode: 0x3 }));
  assert.equal(d.state, 'failed');
  d.push(masked({ opcode: OP.TEXT, payload: text('x') }));
  assert.equal(errors, 1);
  assert.equal(messages, 0);
  assert.equal(d.stats.lastErrorCode, 1002);
  d.destroy();
  assert.equal(d.state, 'destroyed');
  d.push(Uint8Array.of(1, 2, 3));
});

test('ProtocolError carries closeCode, a stable code and a message naming the rule', () => {
  let error;
  const d = new Decoder({ onError: (e) => { error = e; } });
  d.push(masked({ opcode: OP.PING, fin: false }));
  assert.ok(error instanceof ProtocolError);
  assert.ok(error instanceof Error);
  assert.equal(error.closeCode, CloseCode.ProtocolError);
  assert.equal(error.code, 'WS_ERR_EXPECTED_FIN');
  assert.match(error.message, /fragmented/);
  d.destroy();
});

test('client role reads unmasked server frames', () => {
  const bytes = buildFrames([{ opcode: OP.TEXT, payload: text('hi') }, { opcode: OP.CLOSE, payload: closePayload(1001) }]);
  assert.deepEqual(decodeEvents(bytes, { role: 'client' }, { chunk: 1 }).map((e) => e.code ?? e.data.toString()), ['hi', 1001]);
});

test('non-minimal length encodings are accepted (the minimal-length rule binds senders)', () => {
  const bytes = buildFrames([
    { opcode: OP.TEXT, mask: KEY, len: 16, payload: text('short') },
    { opcode: OP.BINARY, mask: KEY, len: 64, payload: text('tiny') },
  ]);
  assert.deepEqual(decodeEvents(bytes).map((e) => e.data.toString()), ['short', 'tiny']);
});

test('streaming mode hands over pieces of one huge frame as they arrive', () => {
  const payload = new Uint8Array(300000).map((_, i) => i & 0xff);
  const bytes = masked({ opcode: OP.BINARY, payload });
  const events = decodeEvents(bytes, { streaming: true }, { chunk: 65536 });
  assert.ok(events.length >= 4, 'delivered in several pieces');
  assert.ok(events.every((e) => e.type === 'fragment' && e.binary));
  assert.deepEqual(events.map((e) => e.fin), [...new Array(events.length - 1).fill(false), true]);
  assert.deepEqual(Buffer.concat(events.map((e) => e.data)), Buffer.from(payload));
  // Limits and fail-fast UTF-8 still apply.
  const big = buildFrame({ opcode: OP.BINARY, mask: KEY, len: 64, declared: 10_000_000 }).subarray(0, 14);
  assert.equal(errorOf(decodeEvents(big, { streaming: true, maxMessageSize: 1_000_000 })).closeCode, 1009);
  const badText = masked({ opcode: OP.TEXT, payload: new Uint8Array([...text('ok'), 0xff, ...new Array(100000).fill(0x61)]) });
  const ev = decodeEvents(badText.subarray(0, 40), { streaming: true });
  assert.deepEqual(ev.map((e) => e.type), ['error']);
  assert.equal(ev[0].closeCode, 1007);
});

test('streaming mode: fragmented text across frames with a split code point', () => {
  const bytes = buildFrames([
    { opcode: OP.TEXT, fin: false, mask: KEY, payload: Uint8Array.of(0x61, 0xe2) },
    { opcode: OP.PING, mask: KEY },
    { opcode: OP.CONT, fin: false, mask: KEY, payload: Uint8Array.of(0x82) },
    { opcode: OP.CONT, mask: KEY, payload: Uint8Array.of(0xac, 0x62) },
  ]);
  const events = decodeEvents(bytes, { streaming: true }, { chunk: 3 });
  assert.equal(Buffer.concat(events.filter((e) => e.type === 'fragment').map((e) => e.data)).toString(), 'a€b');
  assert.equal(events.filter((e) => e.type === 'fragment').at(-1).fin, true);
  assert.ok(events.some((e) => e.type === 'ping'));
  assert.ok(events.filter((e) => e.type === 'fragment').every((e) => e.binary === false));
});

test('regressions found by the fuzzers', () => {
  // A 2^32-byte length is not truncated to its low 32 bits (it is over the limit: 1009, never an empty message).
  const huge = buildFrame({ opcode: OP.BINARY, mask: KEY, len: 64, declared: 2 ** 32 }).subarray(0, 14);
  assert.deepEqual(decodeEvents(huge, { maxMessageSize: 2 ** 33 }, { chunk: 10 }), []);
  assert.equal(errorOf(decodeEvents(huge)).closeCode, 1009);
  // A close reason starting with U+FEFF keeps it.
  const bom = masked({ opcode: OP.CLOSE, payload: closePayload(1000, Uint8Array.of(0xef, 0xbb, 0xbf)) });
  assert.deepEqual(decodeEvents(bom), [{ type: 'close', code: 1000, reason: '\ufeff' }]);
  // A zero-length frame right after a control frame split across pushes is delivered in that push.
  const bytes = buildFrames([{ opcode: OP.PING, mask: KEY, payload: text('ab') }, { opcode: OP.PING, mask: KEY }]);
  assert.deepEqual(decodeEvents(bytes, {}, { splits: [7] }).map((e) => [e.type, e.data.toString()]), [['ping', 'ab'], ['ping', '']]);
  // ... and a final empty continuation right after a completed reassembled message.
  const frames = buildFrames([
    { opcode: OP.BINARY, fin: false, mask: KEY, payload: text('x') },
    { opcode: OP.CONT, mask: KEY, payload: text('y') },
    { opcode: OP.TEXT, fin: false, mask: KEY, payload: text('z') },
    { opcode: OP.CONT, mask: KEY },
  ]);
  assert.deepEqual(decodeEvents(frames).map((e) => e.data.toString()), ['xy', 'z']);
});

test('a decoder that fails or closes mid-message gives its buffers back at once', () => {
  const d = new Decoder({ onError: () => {} });
  d.push(masked({ opcode: OP.BINARY, fin: false, payload: new Uint8Array(100000) }));
  assert.ok(d.stats.bufferedBytes >= 100000);
  d.push(masked({ opcode: 0x3 }));
  assert.equal(d.state, 'failed');
  assert.equal(d.stats.bufferedBytes, 0);
  const c = new Decoder({ onClose: () => {} });
  c.push(concat([masked({ opcode: OP.TEXT, fin: false, payload: text('partial') }), masked({ opcode: OP.CLOSE })]));
  assert.equal(c.state, 'closed');
  assert.equal(c.stats.bufferedBytes, 0);
  d.destroy();
  c.destroy();
});

test('handlers as a second argument: methods called on that object; missing ones ignored; onFragment chooses streaming', () => {
  class Sink {
    messages = [];
    pings = 0;
    onMessage(data, binary) { this.messages.push([Buffer.from(data).toString(), binary]); }
    onPing() { this.pings++; }
  }
  const ping = buildFrame({ fin: true, opcode: OP.PING, payload: text('p') });
  const hi = buildFrame({ fin: true, opcode: OP.TEXT, payload: text('hi') });
  const pong = buildFrame({ fin: true, opcode: OP.PONG, payload: text('q') });
  const first = buildFrame({ fin: false, opcode: OP.BINARY, payload: text('ab') });
  const last = buildFrame({ fin: true, opcode: OP.CONT, payload: text('c') });
  // A partial handler object: its methods still see its fields; the pong (no onPong) is ignored.
  const sink = new Sink();
  const d = new Decoder({ role: 'client' }, sink);
  d.push(concat([ping, hi, pong, first, last]));
  assert.deepEqual(sink.messages, [['hi', false], ['abc', true]]);
  assert.equal(sink.pings, 1);
  d.destroy();
  // With onFragment the decoder streams: pieces, not a reassembled message.
  const pieces = [];
  const streaming = new Decoder({ role: 'client' }, { onFragment(data, binary, fin) { pieces.push([Buffer.from(data).toString(), binary, fin]); } });
  streaming.push(concat([first, last]));
  assert.deepEqual(pieces, [['ab', true, false], ['c', true, true]]);
  streaming.destroy();
});
