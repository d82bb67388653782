// The reference workload (Autobahn case 9.4.3): a 4 MiB binary message sent as
// 4096 masked 1 KiB fragments, decoded at many chunkings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Decoder } from 'wsframe';
import { buildFrame, patternBytes, concat } from './support/frames.mjs';

const MiB = 2 ** 20;

/** `size` bytes as fragments of `fragment` bytes, each masked with its own key. */
function fragmented(payload, fragment) {
  const frames = [];
  for (let at = 0, i = 0; at < payload.length; at += fragment, i++) {
    const last = at + fragment >= payload.length;
    const key = Uint8Array.of(i & 0xff, (i * 7) & 0xff, 0xa5, (i >> 8) & 0xff);
    frames.push(buildFrame({ opcode: i === 0 ? 2 : 0, fin: last, mask: key, payload: payload.subarray(at, at + fragment) }));
  }
  return concat(frames);
}

function decodeDigest(wire, pushes) {
  const digests = [];
  const d = new Decoder({
    role: 'server',
    onMessage: (data, binary) => digests.push([binary, data.length, createHash('sha256').update(data).digest('hex')]),
    onError: (e) => digests.push(['error', e.code]),
  });
  pushes(d, wire);
  d.destroy();
  return digests;
}

const payload = patternBytes(4 * MiB, 9403);
const wire = fragmented(payload, 1024);
const expected = [[true, 4 * MiB, createHash('sha256').update(payload).digest('hex')]];

test('reference stream is 4096 frames of 1032 bytes', () => {
  assert.equal(wire.length, 4096 * (8 + 1024));
});

for (const chunk of [65536, 1024, 1000, 1031, 1033, 4099, 1 << 20, 4 * MiB + 32768]) {
  test(`reference case decoded from ${chunk}-byte chunks`, () => {
    assert.deepEqual(decodeDigest(wire, (d, w) => { for (let i = 0; i < w.length; i += chunk) d.push(w.subarray(i, i + chunk)); }), expected);
  });
}

test('reference case with every chunk split inside a header, its length or its mask key', () => {
  // Frame k starts at k*1032; its header is bytes 0..7 (2 header, 2 length, 4 key).
  for (const offset of [1, 2, 3, 4, 5, 6, 7]) {
    const cuts = [];
    for (let f = 0; f < 4096; f += 3) cuts.push(f * 1032 + offset);
    const got = decodeDigest(wire, (d, w) => {
      let from = 0;
      for (const at of [...cuts, w.length]) { d.push(w.subarray(from, at)); from = at; }
    });
    assert.deepEqual(got, expected, `split at header offset ${offset}`);
  }
});

test('a smaller fragmented message pushed one byte at a time', () => {
  const small = patternBytes(64 * 1024, 7);
  const bytes = fragmented(small, 1024);
  const got = decodeDigest(bytes, (d, w) => { for (let i = 0; i < w.length; i++) d.push(w.subarray(i, i + 1)); });
  assert.deepEqual(got, [[true, small.length, createHash('sha256').update(small).digest('hex')]]);
});

test('the same decoder decodes the reference message repeatedly without growing memory', () => {
  const seen = [];
  const d = new Decoder({ role: 'server', onMessage: (data) => seen.push(data.length) });
  const feed = () => { for (let i = 0; i < wire.length; i += 65536) d.push(wire.subarray(i, i + 65536)); };
  feed();
  const after1 = Decoder.memoryBytes();
  for (let i = 0; i < 5; i++) feed();
  assert.equal(Decoder.memoryBytes(), after1, 'steady state: freed buffers are reused');
  assert.deepEqual(seen, new Array(6).fill(4 * MiB));
  assert.equal(d.stats.bufferedBytes, 0);
  d.destroy();
});
