// Chunk-boundary invariance: the events a Decoder emits never depend on how the byte stream is
// split into push() calls — every split point for small streams, random and targeted splits
// (inside the 2-byte header, the extended length and the mask key) for large ones.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { OP, MiB, arbCase, arbValidStream, buildFrame, buildFrames, headerLength, hex, messageFrames, patternBytes, patternText, splitAt } from './support/frames.mjs';
import { loadOurs, runOurs, formatEvents, repr } from './support/oracle.mjs';
import { checkProperty } from './support/prop.mjs';

const FILE = 'chunking.test.mjs';
const mod = await loadOurs();
const KEY = new Uint8Array([0xa1, 0x0b, 0xc4, 0x5e]);

const optsOf = (c) => ({ role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments });

/** Byte offsets strictly inside every frame header of a case (2-byte base, ext length, mask key). */
function headerCuts(c) {
  const cuts = [];
  let o = 0;
  for (const p of c.parts) {
    if (p.raw) {
      o += p.raw.length;
      continue;
    }
    const h = headerLength(p.spec);
    for (let i = 1; i < h; i++) cuts.push(o + i);
    o += buildFrame(p.spec).length;
  }
  return cuts;
}

function bytesOne(bytes) {
  const out = new Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes.subarray(i, i + 1);
  return out;
}

function compare(label, c, whole, chunks, extra = {}) {
  const got = runOurs(mod, chunks, { ...optsOf(c), ...extra }).events;
  if (!isDeepStrictEqual(got, whole)) {
    const sizes = chunks.map((x) => x.length);
    throw new Error(
      `${label}: events differ from the single-push decode\nchunk sizes: ${sizes.length > 40 ? sizes.slice(0, 40).join(',') + ',…' : sizes.join(',')}\nwhole:\n${formatEvents(whole)}\nchunked:\n${formatEvents(got)}`,
    );
  }
}

const SMALL = 400;

describe('chunk-boundary invariance', () => {
  test('small mixed streams (valid and invalid): every single split point, 1-byte pushes, header-internal splits', () => {
    let splits = 0;
    checkProperty('chunking-small', FILE, arbCase({ maxItems: 4, allowBig: false }).filter((c) => c.bytes.length <= SMALL), (c) => {
      const whole = runOurs(mod, [c.bytes], optsOf(c)).events;
      for (let i = 1; i < c.bytes.length; i++) {
        compare(`split at ${i}`, c, whole, [c.bytes.subarray(0, i), c.bytes.subarray(i)]);
        splits++;
      }
      compare('1-byte pushes', c, whole, bytesOne(c.bytes));
      compare('1-byte pushes, streaming mode (onFragment)', c, whole, bytesOne(c.bytes), { streaming: true });
      compare('cut inside every header', c, whole, splitAt(c.bytes, headerCuts(c)));
      // an empty push anywhere must be a no-op
      compare('with empty pushes', c, whole, [new Uint8Array(0), ...splitAt(c.bytes, [3, 3, 9]).flatMap((x) => [x, new Uint8Array(0)])]);
    }, { numRuns: 500 });
    console.log(`# chunking-small: ${splits} two-way splits checked`);
  });

  test('large streams (up to 70 KB frames): random splits plus splits inside headers, extended lengths and mask keys', () => {
    checkProperty(
      'chunking-large',
      FILE,
      fc.tuple(arbCase({ maxItems: 6, allowBig: true }), fc.array(fc.nat(), { minLength: 1, maxLength: 30 }), fc.nat({ max: 2 })),
      ([c, cuts, mode]) => {
        const whole = runOurs(mod, [c.bytes], optsOf(c)).events;
        const n = c.bytes.length + 1;
        const random = cuts.map((x) => x % n);
        compare('random splits', c, whole, splitAt(c.bytes, random));
        compare('random splits, streaming mode (onFragment)', c, whole, splitAt(c.bytes, random), { streaming: true });
        compare('random splits through readBuffer()/pushReadBuffer()', c, whole, splitAt(c.bytes, random), { viaReadBuffer: true });
        compare('header splits', c, whole, splitAt(c.bytes, mode === 0 ? headerCuts(c) : [...random, ...headerCuts(c).filter((_, i) => i % (mode + 1) === 0)]));
      },
      { numRuns: 300, describe: ([c, cuts]) => `options ${JSON.stringify(optsOf(c))} cuts ${JSON.stringify(cuts)}\nbytes (${c.bytes.length}) ${hex(c.bytes, 2048)}`, toRecord: ([c, cuts]) => ({ kind: 'differential', ...optsOf(c), cuts, hex: hex(c.bytes) }) },
    );
  });

  test('valid streams: fixed chunk sizes 1..17, 64 KiB and random sizes give identical events', () => {
    checkProperty('chunking-valid', FILE, fc.tuple(arbValidStream({ maxItems: 6, maxSize: 5000 }), fc.integer({ min: 1, max: 17 })), ([c, size]) => {
      const whole = runOurs(mod, [c.bytes], optsOf(c)).events;
      const cuts = [];
      for (let i = size; i < c.bytes.length; i += size) cuts.push(i);
      compare(`chunks of ${size}`, c, whole, splitAt(c.bytes, cuts));
      assert.ok(!whole.some((e) => e[0] === 'error'), `valid stream rejected:\n${formatEvents(whole)}`);
    }, { numRuns: 200, describe: ([c, size]) => `size ${size} options ${JSON.stringify(optsOf(c))}\nbytes ${hex(c.bytes, 2048)}` });
  });

  test('a zero-length control frame right after a control frame split across pushes is delivered in the same push', () => {
    // push 1: ping header + 1 of 2 payload bytes; push 2: last payload byte + an empty close / ping / pong
    for (const [op, ev] of [[OP.CLOSE, ['close', 1005, '']], [OP.PING, ['ping', '']], [OP.PONG, ['pong', '']]]) {
      for (const role of ['server', 'client']) {
        const mask = role === 'server' ? new Uint8Array(4) : null;
        const s = buildFrames([{ opcode: OP.PING, payload: new Uint8Array([0x61, 0x62]), mask }, { opcode: op, mask }]);
        const cut = s.length - (mask ? 7 : 3);
        assert.deepEqual(runOurs(mod, [s.subarray(0, cut), s.subarray(cut)], { role }).events, [['ping', '6162'], ev], `${role} ${hex(s.subarray(0, cut))} | ${hex(s.subarray(cut))}`);
      }
    }
  });

  test('every split inside a 64-bit-length masked header (14 bytes) and its payload start', () => {
    for (const len of [16, 64, 'min']) {
      const payload = patternBytes(len === 16 ? 60000 : 70000, 3);
      const f = buildFrame({ opcode: OP.BINARY, payload, mask: KEY, len });
      const expected = [['message', 'binary', repr(payload)]];
      for (let i = 1; i <= 20; i++) {
        for (let j = i; j <= 20; j += 3) {
          assert.deepEqual(runOurs(mod, splitAt(f, [i, j]), {}).events, expected, `len ${len} cuts ${i},${j}`);
        }
      }
    }
  });

  test('reference case: 4 MiB text in 4096 masked 1 KiB fragments at several chunkings', () => {
    const payload = patternText(4 * MiB, 11);
    const stream = buildFrames(messageFrames({ payload, splits: Array.from({ length: 4095 }, (_, i) => (i + 1) * 1024), mask: KEY }));
    const expected = [['message', 'text', repr(payload)]];
    for (const size of [7, 1000, 1024 + 6, 1024 + 7, 4096, 65536, 65536 + 13, stream.length]) {
      const cuts = [];
      for (let i = size; i < stream.length; i += size) cuts.push(i);
      assert.deepEqual(runOurs(mod, splitAt(stream, cuts), {}).events, expected, `chunk size ${size}`);
    }
  });
});

describe('pushes from inside handlers', () => {
  test('a handler pushing into another decoder (nested, > 64 KiB) and into its own decoder (queued) keeps both streams exact', () => {
    const inner = patternBytes(300000, 12);
    const innerStream = buildFrames(messageFrames({ binary: true, payload: inner, splits: [100000, 200000], mask: KEY }));
    const outer = buildFrames([
      { opcode: OP.TEXT, payload: patternText(100, 1), mask: KEY },
      { opcode: OP.TEXT, payload: patternText(200, 2), mask: KEY },
      { opcode: OP.PING, payload: patternBytes(5), mask: KEY },
    ]);
    const innerEvents = [];
    const b = new mod.Decoder({ onMessage: (d, bin) => innerEvents.push(['message', bin ? 'binary' : 'text', repr(d)]) });
    const outerEvents = [];
    let reentered = false;
    const a = new mod.Decoder({
      onMessage: (d, bin) => {
        outerEvents.push(['message', bin ? 'binary' : 'text', repr(d)]);
        b.push(innerStream.subarray(0, 150000)); // nested push, invalidates d
        b.push(innerStream.subarray(150000));
        if (!reentered) {
          reentered = true;
          a.push(buildFrame({ opcode: OP.BINARY, payload: patternBytes(70000, 5), mask: KEY })); // queued behind the rest of this push
        }
      },
      onPing: (p) => outerEvents.push(['ping', repr(p)]),
    });
    a.push(outer);
    assert.deepEqual(outerEvents, [
      ['message', 'text', repr(patternText(100, 1))],
      ['message', 'text', repr(patternText(200, 2))],
      ['ping', repr(patternBytes(5))],
      ['message', 'binary', repr(patternBytes(70000, 5))],
    ]);
    assert.deepEqual(innerEvents, Array.from({ length: 3 }, () => ['message', 'binary', repr(inner)]));
    a.destroy();
    b.destroy();
  });
});
