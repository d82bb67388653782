#!/usr/bin/env node
// The floor of small pushes (issue 13, item 4): what 4096 pushes of 1 KiB
// cost any decoder that copies its input into WebAssembly memory, crosses
// into WebAssembly once per push, unmasks, and copies the payload out into
// the message it reassembles — measured with the decoder's own pieces
// (Uint8Array#set, one maskInto call per push) but no parsing, beside a DRAM
// memcpy of the 4 MiB and wsframe's Decoder on the same pushes.
//
//   node bench/push-floor.mjs [--chunk 1024] [--rounds 200]
//
// Prints medians in × memcpy. The gap between "floor" and "decoder" is the
// decoder's own per-push cost (parse, event table, dispatch).
import { parseArgs } from 'node:util';
import { Decoder, Encoder } from 'wsframe/codec';
import { getWasm, views, refreshViews } from '../dist/core/wasm.js';

const { values: a } = parseArgs({ options: { chunk: { type: 'string', default: '1024' }, rounds: { type: 'string', default: '200' } } });
const CHUNK = Number(a.chunk), ROUNDS = Number(a.rounds);
const SIZE = 4 << 20;
const payload = new Uint8Array(SIZE).map((_, i) => (i * 31) & 0xff);
// The reference case: 4096 masked 1 KiB frames; the floor loop uses the same bytes.
const wire = Buffer.concat(new Encoder({ role: 'client' }).message(payload, { binary: true, fragmentSize: 1024 }));
const pieces = [];
for (let p = 0; p < wire.length; p += CHUNK) pieces.push(wire.subarray(p, Math.min(wire.length, p + CHUNK)));

const w = getWasm();
const scratch = w.exports.heapAlloc(65536);
const srcs = Array.from({ length: 4 }, () => Buffer.from(payload));
const dsts = Array.from({ length: 4 }, () => Buffer.alloc(SIZE + 65536));
let k = 0;
const tasks = {
  memcpy: () => { k = (k + 1) & 3; dsts[k].set(srcs[(k + 2) & 3]); },
  floor: () => {
    // copy in, one crossing that unmasks in place, copy out into the message
    k = (k + 1) & 3;
    refreshViews();
    const u8 = views.u8, out = dsts[k];
    let o = 0;
    for (const piece of pieces) {
      u8.set(piece, scratch);
      w.exports.maskInto(scratch, scratch, piece.length, 0x5a5a5a5a);
      out.set(u8.subarray(scratch, scratch + piece.length), o);
      o += piece.length;
    }
  },
  decoder: (() => {
    const d = new Decoder({ role: 'server', maxMessageSize: 1 << 26, onMessage() {} });
    return () => { for (const piece of pieces) d.push(piece); };
  })(),
};
const times = Object.fromEntries(Object.keys(tasks).map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) for (const [n, f] of Object.entries(tasks)) { const t = performance.now(); f(); times[n].push(performance.now() - t); }
const median = (xs) => { const s = xs.slice(Math.floor(xs.length / 5)).sort((x, y) => x - y); return s[s.length >> 1]; };
const mc = median(times.memcpy);
console.log(`pushes of ${CHUNK} B, reference case (${pieces.length} pushes), medians of ${ROUNDS}:`);
console.log(`  memcpy 4 MiB            ${mc.toFixed(3)} ms  1.00 × memcpy`);
for (const n of ['floor', 'decoder']) {
  const label = n === 'floor' ? 'floor (copy in, mask, copy out)' : 'wsframe Decoder.push'.padEnd(31);
  const ms = median(times[n]);
  console.log(`  ${label} ${ms.toFixed(3)} ms  ${(ms / mc).toFixed(2)} × memcpy  ${((ms * 1e6) / pieces.length).toFixed(0)} ns per push`);
}
