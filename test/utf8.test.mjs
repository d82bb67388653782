// The v128 UTF-8 validator against Node's own (buffer.isUtf8), on random
// input biased towards the bytes that matter, whole and split anywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { buildFrame, concat } from './support/frames.mjs';
import { decodeEvents } from './support/events.mjs';

const KEY = Uint8Array.of(1, 2, 3, 4);
const interesting = [0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff];
const validPieces = ['a', 'é', '߿', 'ࠀ', '€', '퟿', '', '￿', '𐀀', '𝄞', '􏿿'].map((s) => [...Buffer.from(s)]);

const arbBytes = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...validPieces) },
    { weight: 2, arbitrary: fc.constantFrom(...interesting).map((b) => [b]) },
    { weight: 3, arbitrary: fc.array(fc.constant(0x61), { minLength: 1, maxLength: 70 }) },
  ),
  { maxLength: 60 },
).map((parts) => Uint8Array.from(parts.flat()));

function accepts(payload, splits) {
  const cuts = [0, ...splits.filter((s) => s > 0 && s < payload.length).sort((a, b) => a - b), payload.length];
  const frames = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    frames.push(buildFrame({ opcode: i === 0 ? 1 : 0, fin: i + 2 === cuts.length, mask: KEY, payload: payload.subarray(cuts[i], cuts[i + 1]) }));
  }
  const events = decodeEvents(concat(frames), {}, { chunk: 1 + (splits[0] ?? 0) % 97 });
  assert.ok(events.length === 1, 'one event');
  return events[0].type === 'message';
}

test('validator agrees with buffer.isUtf8 on random input, whole and fragmented', () => {
  fc.assert(
    fc.property(arbBytes, fc.array(fc.nat(400), { maxLength: 4 }), (payload, splits) => {
      const expected = isUtf8(payload);
      assert.equal(accepts(payload, []), expected, `whole: ${Buffer.from(payload).toString('hex')}`);
      assert.equal(accepts(payload, splits), expected, `split at ${splits}: ${Buffer.from(payload).toString('hex')}`);
    }),
    { numRuns: 3000, seed: 6455 },
  );
});

test('each invalid byte pattern is caught at every offset of a 64-byte block', () => {
  const bad = [[0xc0, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xc2, 0x41], [0xe2, 0x82, 0x41], [0xf5, 0x80, 0x80, 0x80]];
  for (const seq of bad) {
    for (let at = 0; at < 140; at++) {
      const payload = new Uint8Array(200).fill(0x62);
      payload.set(seq, at);
      assert.equal(isUtf8(payload), false);
      assert.equal(accepts(payload, []), false, `${Buffer.from(seq).toString('hex')} at ${at}`);
    }
  }
  // A valid multi-byte character at every offset, including straddling 16/64-byte blocks.
  for (const ch of ['é', '€', '𝄞']) {
    for (let at = 0; at < 140; at++) {
      const payload = Buffer.concat([Buffer.alloc(at, 0x61), Buffer.from(ch), Buffer.alloc(150 - at, 0x61)]);
      assert.equal(accepts(payload, []), true, `${ch} at ${at}`);
      assert.equal(accepts(payload, [at + 1]), true, `${ch} at ${at} split inside`);
    }
  }
});
