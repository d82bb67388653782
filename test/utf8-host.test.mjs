// UTF-8 validation shared with the host's validator (node:buffer isUtf8):
// WebAssembly keeps code point boundaries, leading ASCII and short runs, and
// hands long runs of complete code points to the host (EV_UTF8). These tests
// check that the split changes nothing observable: the same events, the same
// close codes, at the same push (fail-fast), with the host validator on and
// off, and that long runs really take the host path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { Decoder } from 'wsframe';
import { OP, buildFrame, concat, patternText } from './support/frames.mjs';

const host = await import(new URL('../dist/core/host.js', import.meta.url));

const KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
const utf8 = (s) => new Uint8Array(Buffer.from(s));

/** Runs `fn` with the host validator replaced (null: none); decoders created inside keep it. */
function withValidator(validator, fn) {
  host.setHostUtf8Validator(validator);
  try {
    return fn();
  } finally {
    host.setHostUtf8Validator(undefined);
  }
}

/** A validator that records each call (bytes checked, verdict) and asks node:buffer. */
function spyValidator() {
  const calls = [];
  const fn = (data) => {
    const ok = isUtf8(data);
    calls.push({ length: data.length, ok, bytes: Buffer.from(data) });
    return ok;
  };
  return { fn, calls };
}

/**
 * Pushes `pushes` (arrays of bytes) one by one into a new server decoder and
 * records every event with the index of the push it happened in.
 */
function run(pushes, options = {}) {
  const events = [];
  let at = -1;
  const d = new Decoder({
    role: 'server',
    maxMessageSize: 64 << 20,
    ...options,
    onMessage: (data, binary) => events.push({ at, type: 'message', binary, data: Buffer.from(data) }),
    ...(options.streaming ? { onFragment: (data, binary, fin) => events.push({ at, type: 'fragment', binary, fin, data: Buffer.from(data) }) } : {}),
    onPing: (p) => events.push({ at, type: 'ping', data: Buffer.from(p) }),
    onClose: (code, reason) => events.push({ at, type: 'close', code, reason }),
    onError: (e) => events.push({ at, type: 'error', closeCode: e.closeCode, code: e.code }),
  });
  for (at = 0; at < pushes.length; at++) d.push(pushes[at]);
  d.destroy();
  return events;
}

/** Both paths, which must agree; returns the events (host path). */
function bothPaths(pushes, options = {}) {
  const viaHost = run(pushes, options);
  const viaWasm = withValidator(null, () => run(pushes, options));
  assert.deepEqual(viaHost, viaWasm, 'host and WebAssembly validation disagree');
  return viaHost;
}

/** Frames of one text message cut at `cuts` (payload offsets), masked. */
function textFrames(payload, cuts = []) {
  const at = [0, ...cuts.filter((c) => c > 0 && c < payload.length).sort((a, b) => a - b), payload.length];
  const frames = [];
  for (let i = 0; i + 1 < at.length; i++) {
    frames.push(buildFrame({ fin: i + 2 === at.length, opcode: i === 0 ? OP.TEXT : OP.CONT, mask: KEY, payload: payload.subarray(at[i], at[i + 1]) }));
  }
  return frames;
}

/** Splits bytes at the given offsets. */
function splitBytes(bytes, offsets) {
  const out = [];
  let from = 0;
  for (const o of [...offsets.filter((x) => x > 0 && x < bytes.length).sort((a, b) => a - b), bytes.length]) {
    if (o > from) out.push(bytes.subarray(from, o));
    from = o;
  }
  return out;
}

/** Multi-byte text (2-, 3- and 4-byte code points, some ASCII) of exactly `size` bytes. */
const multiText = (size, seed = 3) => patternText(size, seed);

test('Node: the host validator is node:buffer isUtf8, found without importing node:* (none with WSFRAME_HOST_UTF8=0)', () => {
  assert.equal(host.hostUtf8Validator(), process.env.WSFRAME_HOST_UTF8 === '0' ? null : isUtf8);
});

test('long multi-byte runs take the host path, short and ASCII ones stay in WebAssembly', () => {
  const spy = spyValidator();
  withValidator(spy.fn, () => {
    const long = multiText(64 << 10);
    const events = run([concat(textFrames(long, [20000, 40000]))]);
    assert.deepEqual(events.map((e) => e.type), ['message']);
    assert.ok(events[0].data.equals(Buffer.from(long)));
    const checked = spy.calls.reduce((n, c) => n + c.length, 0);
    assert.ok(checked > long.length - 64, `host checked ${checked} of ${long.length} bytes`);
    spy.calls.length = 0;
    // ASCII, and short multi-byte messages: no host call.
    run([concat([...textFrames(new Uint8Array(1 << 20).fill(0x61), [1000, 300000]), ...textFrames(multiText(200))])]);
    assert.equal(spy.calls.length, 0);
  });
});

test('an invalid byte in the middle of a large fragmented text message fails 1007 on the push that holds it, before the final fragment', () => {
  const size = 1 << 20, fragment = 64 << 10;
  for (const bad of [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80]]) {
    for (const near of [300_000, 300_001, 327_677, 524_285]) {
      const payload = multiText(size, near);
      // Put the bad bytes on a code point boundary and pad to the next one with ASCII.
      let offset = near;
      while ((payload[offset] & 0xc0) === 0x80) offset++;
      payload.set(bad, offset);
      let end = offset + bad.length;
      while (end < size && (payload[end] & 0xc0) === 0x80) payload[end++] = 0x41;
      assert.equal(isUtf8(payload), false);
      const cuts = [];
      for (let c = fragment; c < size; c += fragment) cuts.push(c);
      const frames = textFrames(payload, cuts);
      for (const pushes of [frames, splitBytes(concat(frames), Array.from({ length: 200 }, (_, i) => (i + 1) * 10007))]) {
        const events = run(pushes);
        assert.deepEqual(events.map((e) => e.type), ['error'], `${Buffer.from(bad).toString('hex')} at ${offset}`);
        assert.equal(events[0].closeCode, 1007);
        // The push holding the first bad byte (wire offset of payload byte `offset`).
        let wire = 0, holder = -1;
        const target = frameOffset(frames, offset);
        for (let i = 0; i < pushes.length; i++) {
          if (target >= wire && target < wire + pushes[i].length) { holder = i; break; }
          wire += pushes[i].length;
        }
        // Fails fast: on the push holding the bad byte, or (a sequence cut short) on the push that ends it.
        assert.ok(events[0].at >= holder && events[0].at <= holder + 1, `failed on push ${events[0].at}, bad byte in push ${holder}`);
        assert.ok(events[0].at < pushes.length - 1, 'before the final fragment');
        assert.deepEqual(withValidator(null, () => run(pushes)), events, 'same with WebAssembly alone');
      }
    }
  }
});

/** Wire offset of payload byte `offset` in masked frames (headers of 2+2+4 bytes here, or 2+8+4). */
function frameOffset(frames, offset) {
  let wire = 0, payload = 0;
  for (const f of frames) {
    const len7 = f[1] & 0x7f;
    const head = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + 4;
    const n = f.length - head;
    if (offset < payload + n) return wire + head + (offset - payload);
    wire += f.length;
    payload += n;
  }
  throw new RangeError('offset past the message');
}

test('a 4-byte code point split at every position, across pushes and across fragments, valid and invalid', () => {
  const ch = utf8('\u{1F600}');
  const bads = [
    Uint8Array.of(0xf0, 0x9f, 0x98, 0x41),   // cut short by ASCII
    Uint8Array.of(0xf0, 0x8f, 0xbf, 0xbf),   // overlong
    Uint8Array.of(0xf4, 0x90, 0x80, 0x80),   // > U+10FFFF
    Uint8Array.of(0xf5, 0x80, 0x80, 0x80),   // no such lead byte
  ];
  for (const lead of [300, 4096, 65533]) {
    const before = multiText(lead, lead);
    const after = multiText(3000, lead + 1);
    for (const seq of [ch, ...bads]) {
      const payload = concat([before, seq, after]);
      const valid = isUtf8(payload);
      for (let cut = 0; cut <= 4; cut++) {
        const at = lead + cut;
        // Cut between pushes (one frame), between fragments (one push), and both.
        const one = concat(textFrames(payload));
        const shapes = [
          splitBytes(one, [frameOffset(textFrames(payload), Math.min(at, payload.length - 1))]),
          [concat(textFrames(payload, [at]))],
          textFrames(payload, [at]),
          textFrames(payload, [at - 1, at, at + 1].filter((c) => c > 0)),
        ];
        for (const pushes of shapes) {
          const events = bothPaths(pushes);
          if (valid) {
            assert.deepEqual(events.map((e) => e.type), ['message'], `cut ${cut} of ${Buffer.from(seq).toString('hex')}`);
            assert.ok(events[0].data.equals(Buffer.from(payload)));
          } else {
            assert.deepEqual(events.map((e) => [e.type, e.closeCode]), [['error', 1007]], `cut ${cut} of ${Buffer.from(seq).toString('hex')}`);
          }
          // Streaming mode too.
          const streamed = bothPaths(pushes, { streaming: true });
          assert.equal(streamed.at(-1).type, valid ? 'fragment' : 'error');
        }
      }
    }
  }
});

test('overlong, surrogate and > U+10FFFF sequences inside long runs are rejected by the host path', () => {
  const bads = [[0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
    [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf7, 0xbf, 0xbf, 0xbf], [0xfe], [0xff]];
  for (const bad of bads) {
    for (const where of ['whole', 'fragmented', 'streamed']) {
      const payload = concat([multiText(5000, bad.length), Uint8Array.from(bad), multiText(5000, bad[0])]);
      const frames = where === 'whole' ? textFrames(payload) : textFrames(payload, [2500, 7500]);
      const spy = spyValidator();
      const events = withValidator(spy.fn, () => run([concat(frames)], { streaming: where === 'streamed' }));
      const label = `${Buffer.from(bad).toString('hex')} ${where}`;
      // Streamed, the first fragment (valid) is delivered before the one holding the bad bytes fails.
      assert.deepEqual(events.map((e) => [e.type, e.closeCode]), [...(where === 'streamed' ? [['fragment', undefined]] : []), ['error', 1007]], label);
      const rejected = spy.calls.filter((c) => !c.ok);
      assert.equal(rejected.length, 1, `${label}: the host rejected the run`);
      assert.ok(rejected[0].bytes.includes(Buffer.from(bad)), `${label}: the bad bytes were in the run the host saw`);
      assert.deepEqual(withValidator(null, () => run([concat(frames)], { streaming: where === 'streamed' })), events, label);
    }
  }
});

test('close reasons are still validated (RFC 6455 §5.5.1), with and without the host validator', () => {
  const close = (reason) => buildFrame({ opcode: OP.CLOSE, mask: KEY, payload: concat([Uint8Array.of(0x03, 0xe8), reason]) });
  assert.deepEqual(bothPaths([close(utf8('bye \u{1F600}'))]).map((e) => [e.type, e.code ?? e.closeCode]), [['close', 1000]]);
  assert.deepEqual(bothPaths([close(Uint8Array.of(0x62, 0xed, 0xa0, 0x80))]).map((e) => [e.type, e.closeCode]), [['error', 1007]]);
});

test('an error after invalid text in the same push reports the text first (1007), as frame-by-frame validation does', () => {
  const payload = multiText(20000, 9);
  payload.set([0xed, 0xa0, 0x80], 10000);
  // First fragment (invalid), then a frame that breaks the rules: a new text frame inside the message (1002).
  const stream = concat([textFrames(payload, [15000])[0], buildFrame({ opcode: OP.TEXT, mask: KEY, payload: utf8('x') })]);
  assert.deepEqual(bothPaths([stream]).map((e) => [e.type, e.closeCode]), [['error', 1007]]);
  // Valid text before the broken frame: the protocol error (1002) stands.
  const good = multiText(20000, 9);
  const stream2 = concat([textFrames(good, [15000])[0], buildFrame({ opcode: OP.TEXT, mask: KEY, payload: utf8('x') })]);
  assert.deepEqual(bothPaths([stream2]).map((e) => [e.type, e.closeCode]), [['error', 1002]]);
  // A ping between fragments: the run before it is reported (and checked) first.
  const ping = buildFrame({ opcode: OP.PING, mask: KEY, payload: utf8('p') });
  const frames = textFrames(payload, [5000, 15000]);
  assert.deepEqual(bothPaths([concat([frames[0], ping, frames[1], ping, frames[2]])]).map((e) => [e.type, e.closeCode]), [['ping', undefined], ['error', 1007]]);
});

// Random text biased towards the bytes that matter, long enough to reach the host.
const interesting = [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff];
const validPieces = ['é', '€', '퟿', '', '𐀀', '😀', '􏿿'].map((s) => [...Buffer.from(s)]);
const arbText = fc.tuple(
  fc.array(fc.oneof(
    { weight: 24, arbitrary: fc.constantFrom(...validPieces) },
    { weight: 1, arbitrary: fc.constantFrom(...interesting).map((b) => [b]) },
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => new Array(n).fill(0x61)) },
  ), { maxLength: 300, size: 'max' }),
  fc.boolean(),
).map(([parts, clean]) => {
  const bytes = parts.flat();
  // Half the cases valid: invalid bytes replaced by ASCII.
  return Uint8Array.from(clean ? [...Buffer.from(Buffer.from(bytes).toString('utf8').replace(/\uFFFD/g, 'a'))] : bytes);
});

test('random text, random fragments and pushes: host and WebAssembly paths give the same events at the same pushes', () => {
  const badFrame = buildFrame({ opcode: 0x3, mask: KEY, payload: new Uint8Array(0) });  // reserved opcode: 1002
  fc.assert(
    fc.property(arbText, fc.array(fc.nat(6000), { maxLength: 5 }), fc.array(fc.nat(8000), { maxLength: 6 }), fc.boolean(), fc.constantFrom('none', 'after', 'inside'),
      (payload, fragCuts, pushCuts, streaming, error) => {
        let frames = textFrames(payload, fragCuts);
        // 'inside': the message's last frame is replaced by a broken one, so the error follows unfinished text.
        if (error === 'inside' && frames.length > 1) frames = [...frames.slice(0, -1), badFrame];
        else if (error !== 'none') frames = [...frames, badFrame];
        else frames = [...frames, buildFrame({ opcode: OP.TEXT, mask: KEY, payload: utf8('ok') })];
        const events = bothPaths(splitBytes(concat(frames), pushCuts), { streaming });
        const errors = events.filter((e) => e.type === 'error');
        assert.ok(errors.length <= 1);
        if (errors.length === 1) assert.ok([1002, 1007].includes(errors[0].closeCode));
        if (error === 'none') {
          assert.deepEqual(errors.map((e) => e.closeCode), isUtf8(payload) ? [] : [1007]);
          if (!streaming && isUtf8(payload)) assert.ok(events[0].data.equals(Buffer.from(payload)));
        } else if (error === 'after' && isUtf8(payload)) {
          assert.deepEqual(errors.map((e) => e.closeCode), [1002]);
        }
      }),
    { numRuns: 1000, seed: 13_2026 },
  );
});
