// Child process for test/memory-bounds.test.mjs (run with --expose-gc): drops 10,000 decoders
// mid-message per batch without destroy(), forces GC, lets FinalizationRegistry callbacks run,
// and prints the shared WebAssembly memory size after each batch as JSON.
import { OP, buildFrame, patternText } from './frames.mjs';
import { loadOurs } from './oracle.mjs';

const { Decoder } = await loadOurs();
const KEY = new Uint8Array([1, 2, 3, 4]);
const partial = buildFrame({ opcode: OP.TEXT, payload: patternText(1000, 1), mask: KEY }).subarray(0, 300);
const gc = globalThis.gc;
const tick = () => new Promise((resolve) => setImmediate(resolve));

async function collect() {
  if (!gc) return;
  for (let i = 0; i < 6; i++) {
    gc();
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function batch(n) {
  for (let i = 0; i < n; i++) {
    const d = new Decoder({});
    d.push(partial);
  }
}

const after = [];
for (let b = 0; b < 5; b++) {
  batch(10000);
  await collect();
  after.push(Decoder.memoryBytes());
}
console.log(JSON.stringify({ gc: typeof gc === 'function', after }));
