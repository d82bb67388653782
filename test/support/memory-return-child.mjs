// Run with --expose-gc by test/memory-budget.test.mjs: 8 decoders each hold an
// unfinished 60 MiB fragmented message, then are destroyed; prints RSS and
// WebAssembly memory before, while held, and after a GC, as one JSON line.
import { Decoder } from 'wsframe';
import { buildFrame, OP } from './frames.mjs';

const MiB = 2 ** 20;
const KEY = new Uint8Array([0x11, 0x22, 0x33, 0x44]);
const N = 8;
const HELD = 60 * MiB;
const gc = () => { for (let i = 0; i < 3; i++) globalThis.gc(); };
const rss = () => process.memoryUsage().rss;

// One 1 MiB masked non-final frame, pushed 60 times (each push a new frame): the message never ends.
const frame = buildFrame({ opcode: OP.BINARY, fin: false, payload: new Uint8Array(MiB).fill(0x5a), mask: KEY });
const cont = buildFrame({ opcode: OP.CONT, fin: false, payload: new Uint8Array(MiB).fill(0x5a), mask: KEY });

// Warm up: the shared instance and one small message, so set-up is not counted.
const warm = new Decoder({ maxMessageSize: 128 * MiB });
warm.push(frame.slice());
warm.destroy();
gc();
const before = { rss: rss(), wasm: Decoder.memoryBytes() };

let errors = 0;
const decoders = [];
for (let i = 0; i < N; i++) {
  const d = new Decoder({ maxMessageSize: 128 * MiB, onError: () => { errors++; }, onMessage: () => { errors++; } });
  d.push(frame.slice());
  for (let k = 1; k < HELD / MiB; k++) d.push(cont.slice());
  decoders.push(d);
}
const held = { rss: rss(), wasm: Decoder.memoryBytes(), buffered: decoders.reduce((a, d) => a + d.stats.bufferedBytes, 0), budget: Decoder.heldMessageBytes() };
for (const d of decoders) d.destroy();
decoders.length = 0;
gc();
await new Promise((r) => setTimeout(r, 50));
gc();
const after = { rss: rss(), wasm: Decoder.memoryBytes(), budget: Decoder.heldMessageBytes() };

// Recycled buffers (decoders without ownMessages): messages completed and
// delivered as views go back to the process-wide pool, held only weakly, so
// that after the decoders are destroyed a GC takes them too.
const last = buildFrame({ opcode: OP.CONT, fin: true, payload: new Uint8Array(MiB).fill(0x5a), mask: KEY });
const refs = [];
for (let i = 0; i < 2; i++) {
  const d = new Decoder({ maxMessageSize: 128 * MiB, onError: () => { errors++; }, onMessage: (data) => { refs.push(new WeakRef(data.buffer)); } });
  for (let m = 0; m < 2; m++) {
    d.push(frame.slice());
    for (let k = 2; k < 40; k++) d.push(cont.slice());
    d.push(last.slice());
  }
  d.destroy();
}
const recycled = { messages: refs.length, reused: new Set(refs.map((r) => r.deref())).size < refs.length };
await new Promise((r) => setTimeout(r, 0));
gc();
await new Promise((r) => setTimeout(r, 50));
gc();
recycled.alive = refs.filter((r) => r.deref() !== undefined).length;
recycled.rss = rss();
console.log(JSON.stringify({ before, held, after, recycled, errors }));
