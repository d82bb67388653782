#!/usr/bin/env node
// One connection, many compressed messages (context takeover both ways): a
// server Connection inflates each client message and sends it back
// compressed; memory after every 100,000. Flat after warm-up = no growth.
//   node --expose-gc bench/deflate-steady.mjs [--rounds 6]
import zlib from 'node:zlib';
import { parseArgs } from 'node:util';
import { Connection, Encoder, PerMessageDeflate, resolvePerMessageDeflate, zlibProvider } from 'wsframe';

const { values: a } = parseArgs({ options: { rounds: { type: 'string', default: '6' } } });
const NONE = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined };
const session = new PerMessageDeflate('server', NONE, resolvePerMessageDeflate({ threshold: 0 }, true), zlibProvider());
let n = 0;
const conn = new Connection({ role: 'server', open: true, compression: session, onWrite() {}, onShutdown() {}, onMessage: (d) => { n++; conn.send(d, false); } });
// The client compresses each message alone (its frames are then valid in any order).
const msg = Buffer.from(JSON.stringify({ text: 'hello from a compressing client '.repeat(30) }));
const c = zlib.deflateRawSync(msg, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
const frame = Buffer.concat(new Encoder({ role: 'client' }).message(c.subarray(0, c.length - 4), { binary: false, rsv1: true }));
const gc = globalThis.gc ?? (() => {});
for (let k = 0; k < Number(a.rounds); k++) {
  for (let i = 0; i < 100_000; i++) conn.push(frame);
  gc();
  const m = process.memoryUsage();
  console.log(`${n} messages each way: rss ${(m.rss / 2 ** 20).toFixed(1)} MiB, heapUsed ${(m.heapUsed / 2 ** 20).toFixed(1)} MiB, external ${(m.external / 2 ** 20).toFixed(1)} MiB`);
}
conn.terminate();
