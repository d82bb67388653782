// Child process for workload 6 (memory): run with --expose-gc.
//   node --expose-gc mem-child.mjs ours|ws
// Decodes the reference case once in a fresh process (64 KiB chunks, view
// delivery) and prints JSON: idle floor, peak and (peak-floor)/message size,
// where "memory" = process.memoryUsage().arrayBuffers + Decoder.memoryBytes()
// (WASM linear memory is not included in arrayBuffers, so the sum is exact).
import { createRequire } from 'node:module';
import { loadImpl } from './impl.mjs';
import { refStream } from './micro.mjs';
import { chunk, KiB, REF_SIZE, Checksum } from './streams.mjs';

const require = createRequire(import.meta.url);
const which = process.argv[2];
const impl = await loadImpl();
const { stream, expected } = refStream();
const chunks = chunk(stream, 64 * KiB);
const wasm = which === 'ours' ? impl.memoryBytes : () => 0;
const mem = () => process.memoryUsage().arrayBuffers + wasm();
let peak = 0;
const sample = () => { const v = mem(); if (v > peak) peak = v; };
const sum = new Checksum();
let push;
if (which === 'ours') {
  const d = new impl.Decoder({ role: 'server', maxMessageSize: 64 * 2 ** 20, onMessage(data, bin) { sample(); sum.add(data, bin); }, onError(e) { throw e; } });
  push = (c) => d.push(c);
} else {
  const { Receiver } = require('ws');
  const r = new Receiver({ isServer: true, maxPayload: 0, binaryType: 'nodebuffer' });
  r.on('message', (data, bin) => { sample(); sum.add(data, bin); });
  push = (c) => r.write(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
}
globalThis.gc(); globalThis.gc();
const floor = mem();
const wasmBefore = wasm();
peak = floor;
for (const c of chunks) { push(c); sample(); }
if (!sum.equals(expected)) throw new Error(`memory run delivered ${sum}, expected ${expected}`);
process.stdout.write(JSON.stringify({ floor, peak, ratio: (peak - floor) / REF_SIZE, wasmBefore, wasmAfter: wasm() }) + '\n');
