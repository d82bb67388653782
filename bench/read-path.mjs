// What wsframe's decoder adds to a server's reads on the 9.4.3 message, in
// process (no kernel, no loopback noise): the stream (4 MiB as masked
// fragments) fed through readBuffer()/pushReadBuffer() in READ-byte reads,
// as the Node adapter's `onread` does, with the arena (as `npm run echo`),
// against the same reads' copies alone (the stand-in for the kernel's copy
// into the read buffer). Prints µs per message, medians of 15 × 20 messages.
//
//   node bench/read-path.mjs [READ bytes, default 220000] [--fragment BYTES, default 1024]
import { Decoder } from '../dist/core/index.js';
import { randomBytes, buildStream, REF_SIZE, REF_FRAGMENT } from './lib/streams.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args[i + 1]) : fallback; };
const READ = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--fragment') ?? 220_000);
const FRAGMENT = option('fragment', REF_FRAGMENT);

const payload = randomBytes(REF_SIZE, 55);
const stream = buildStream([{ payload, opcode: 2 }], { fragmentSize: FRAGMENT, masked: true });
let delivered = 0;
const decoder = new Decoder({ role: 'server', arena: true, maxMessageSize: 64 << 20 }, { onMessage(data) { delivered += data.length; } });

function throughDecoder() {
  for (let at = 0; at < stream.length;) {
    const target = decoder.readBuffer();
    const n = Math.min(READ, stream.length - at, target.length);
    target.set(stream.subarray(at, at + n));
    decoder.pushReadBuffer(n);
    at += n;
  }
}
const scratch = new Uint8Array(8 << 20);
function copiesOnly() {
  for (let at = 0, o = 0; at < stream.length;) {
    const n = Math.min(READ, stream.length - at);
    scratch.set(stream.subarray(at, at + n), o);
    o = (o + n) % (4 << 20);
    at += n;
  }
}
const perMessage = (f, n) => { const t = process.hrtime.bigint(); for (let i = 0; i < n; i++) f(); return Number(process.hrtime.bigint() - t) / 1e3 / n; };
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];

for (let i = 0; i < 30; i++) { throughDecoder(); copiesOnly(); }
const withDecoder = [], copies = [];
for (let r = 0; r < 15; r++) { withDecoder.push(perMessage(throughDecoder, 20)); copies.push(perMessage(copiesOnly, 20)); }
if (delivered !== 330 * REF_SIZE) throw new Error(`delivered ${delivered / REF_SIZE} messages, expected 330`);
const d = median(withDecoder), c = median(copies);
console.log(`${FRAGMENT >= REF_SIZE ? 'one frame' : `${FRAGMENT}-byte fragments`}, reads of ${READ} B: ` +
  `decoder ${d.toFixed(0)} µs per message, the copies alone ${c.toFixed(0)} µs, the decoder adds ${(d - c).toFixed(0)} µs`);
