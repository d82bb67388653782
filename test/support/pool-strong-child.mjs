// Run with --expose-gc by test/message-pool.test.mjs. The message pool holds
// each recycling decoder's share of large idle buffers strongly, so a garbage
// collection (which a busy server's own traffic causes) does not drop them;
// small buffers, the part past the shares, and buffers idle through two
// aging periods (loosenIdleBuffers) are held weakly and collected. Prints one
// JSON line of findings; the test asserts on them.
import { Decoder } from 'wsframe';
import { poolStats, loosenIdleBuffers, returnBuffer } from '../../dist/core/message-pool.js';
import { buildFrame, patternBytes, OP } from './frames.mjs';

const MiB = 2 ** 20;
const KEY = new Uint8Array([0x0a, 0x0b, 0x0c, 0x0d]);
const gc = () => { for (let i = 0; i < 3; i++) globalThis.gc(); };
const tick = () => new Promise((resolve) => setTimeout(resolve, 10));

/** A `size`-byte message in two masked frames: reassembled in a pool buffer. */
function twoFrames(size, seed) {
  const payload = patternBytes(size, seed);
  return [
    buildFrame({ opcode: OP.BINARY, fin: false, payload: payload.subarray(0, size >> 1), mask: KEY }),
    buildFrame({ opcode: OP.CONT, fin: true, payload: payload.subarray(size >> 1), mask: KEY }),
  ];
}

const out = {};
const buffers = []; // WeakRefs to every delivered message's ArrayBuffer
const delivered = new Map(); // decoder index → byteLength of the last delivered message's buffer
const decoders = Array.from({ length: 4 }, (_, i) => new Decoder({
  role: 'server', maxMessageSize: 64 * MiB,
  onMessage(data) { buffers.push(new WeakRef(data.buffer)); delivered.set(i, data.buffer.byteLength); },
}));

// 1. Four decoders finish 4 MiB messages at once: four large buffers go idle, held strongly.
const big = twoFrames(4 * MiB, 1);
for (const d of decoders) d.push(big[0]);
for (const d of decoders) d.push(big[1]);
out.afterBig = poolStats();
await tick();
gc();
out.bigAliveAfterGc = buffers.filter((r) => r.deref() !== undefined).length;

// 2. A message after small ones (no size hint) takes an idle large buffer instead of a doubling run of fresh ones.
const fresh = new Decoder({ role: 'server', onMessage(data) { out.noHintBuffer = data.buffer.byteLength; out.noHintBytesOk = data[0] === patternBytes(200_000, 2)[0]; } });
for (const f of twoFrames(200_000, 2)) fresh.push(f);
fresh.destroy();

// 3. Small buffers (under 1 MiB) are held weakly from the start; large ones past the shares too.
const smallRefs = [];
const strongBefore = poolStats().strongBuffers;
/** Returns `count` new buffers of `bytes` to the pool; WeakRefs to them go into `refs` (no other reference is left). */
function giveBack(count, bytes, refs) {
  for (let i = 0; i < count; i++) {
    const b = new Uint8Array(bytes);
    refs.push(new WeakRef(b));
    returnBuffer(b);
  }
}
giveBack(3, 256 * 1024, smallRefs);
out.smallStrongAdded = poolStats().strongBuffers - strongBefore;
await tick();
gc();
out.smallAliveAfterGc = smallRefs.filter((r) => r.deref() !== undefined).length;
// 4 decoders alive: shares of 8 buffers / 32 MiB. Twelve more 4 MiB buffers: the pool holds 8 strongly.
const extraRefs = [];
giveBack(12, 4 * MiB, extraRefs);
out.withExtra = poolStats();
await tick();
gc();
out.extraAliveAfterGc = extraRefs.filter((r) => r.deref() !== undefined).length;

// 4. Aging: idle through two loosenIdleBuffers() periods, the large buffers become weak and a GC takes them.
loosenIdleBuffers();
out.afterOnePeriod = poolStats();
loosenIdleBuffers();
out.afterTwoPeriods = poolStats();
await tick();
gc();
out.bigAliveAfterAging = buffers.slice(0, 4).filter((r) => r.deref() !== undefined).length;

// 5. Decoders gone: nothing strong.
for (const d of decoders) d.destroy();
out.afterDestroy = poolStats();
console.log(JSON.stringify(out));
