#!/usr/bin/env node
// How permessage-deflate should drive zlib, measured (README, "permessage-deflate"):
// compress then inflate every message on one persistent pair of raw streams
// (context takeover), three ways:
//   sync-handle  the stream's native handle driven synchronously (what wsframe does);
//   async        the documented stream API: write() + flush(Z_SYNC_FLUSH, cb) per message (what ws does);
//   sync-dict    the documented one-shot deflateRawSync/inflateRawSync, with the last
//                32 KiB as `dictionary` standing for the window (fresh native state each call).
// Workloads: 2,000 JSON messages of ~1 KiB, and 4 MiB of text and of random bytes (x4).
//   node bench/deflate-sync-async.mjs
import zlib from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { zlibProvider } from 'wsframe';

const { Z_SYNC_FLUSH } = zlib.constants;
const WINDOW = 32 * 1024;

function syncHandle(list) {
  const p = zlibProvider();
  const d = p.createDeflater({ windowBits: 15, level: -1, memLevel: 8 });
  const i = p.createInflater({ windowBits: 15 });
  let out = 0;
  for (const m of list) {
    const c = d.deflate(m);
    i.inflate(c, (chunk) => { out += chunk.length; return true; });
  }
  d.close();
  i.close();
  return out;
}

async function asyncStream(list) {
  const d = zlib.createDeflateRaw({ windowBits: 15 });
  const i = zlib.createInflateRaw({ windowBits: 15 });
  const run = (s, data) => new Promise((resolve) => {
    const parts = [];
    const on = (b) => parts.push(b);
    s.on('data', on);
    s.write(data);
    s.flush(Z_SYNC_FLUSH, () => { s.off('data', on); resolve(Buffer.concat(parts)); });
  });
  let out = 0;
  for (const m of list) out += (await run(i, await run(d, m))).length;
  d.close();
  i.close();
  return out;
}

function syncDictionary(list) {
  let history = Buffer.alloc(0);
  let out = 0;
  for (const m of list) {
    const options = { windowBits: 15, finishFlush: Z_SYNC_FLUSH, ...(history.length ? { dictionary: history } : {}) };
    const c = zlib.deflateRawSync(m, options);
    out += zlib.inflateRawSync(c, options).length;
    history = Buffer.concat([history, m]);
    if (history.length > WINDOW) history = history.subarray(history.length - WINDOW);
  }
  return out;
}

const chat = Array.from({ length: 2000 }, (_, i) => Buffer.from(JSON.stringify({
  type: 'chat', id: i, room: `room-${i % 12}`, user: `user${i % 97}`, text: `message ${i}: ` + 'the quick brown fox jumps over the lazy dog; '.repeat(18), ts: 1_700_000_000_000 + i,
})));
const text = Buffer.alloc(4 * 2 ** 20);
for (let i = 0; i < text.length; i++) text[i] = 'BAsd7&jh23'.charCodeAt(i % 10);
const random = randomBytes(4 * 2 ** 20);
const workloads = [['chat 2,000 x ~1 KiB', chat], ['4 MiB text x4', [text, text, text, text]], ['4 MiB random x4', [random, random, random, random]]];

async function time(fn, list) {
  const xs = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    await fn(list);
    xs.push(performance.now() - t0);
  }
  xs.sort((a, b) => a - b);
  return xs[3];
}

const rows = [];
for (const [name, list] of workloads) {
  const bytes = list.reduce((s, m) => s + m.length, 0);
  for (const [how, fn] of [['sync-handle', syncHandle], ['async', asyncStream], ['sync-dict', syncDictionary]]) {
    const ms = await time(fn, list);
    rows.push({ workload: name, how, ms: +ms.toFixed(1), usPerMessage: +((ms * 1000) / list.length).toFixed(1), MBps: +(bytes / ms / 1000).toFixed(0) });
  }
}
console.table(rows);
