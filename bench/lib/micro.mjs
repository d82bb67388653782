// Workloads 1–4: in-process micro-benchmarks (tinybench), each group measured
// side by side with the memcpy calibrator and ws's Receiver / Sender.frame.
import { createRequire } from 'node:module';
import {
  MiB, KiB, REF_SIZE, REF_FRAGMENT, randomBytes, buildStream, chunk, asciiText, multibyteText,
  multibyteShare, smallMessages, Checksum, checksumOf,
} from './streams.mjs';
import { measureInterleaved } from './measure.mjs';

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------- helpers

const toBuf = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

// The calibrator: a 4 MiB Uint8Array#set whose source and destination rotate
// through a 2 × 16 × 4 MiB ring, so every copy streams from and to DRAM — the
// memory-bandwidth floor (≈0.29 ms on the reference machine). An in-cache copy
// of the same size is ~3× faster; it is reported as an info row ('memcpy-hot').
// On this VM, pages left idle for a few seconds become slow to touch again
// (0.3 → 1.6 ms per 4 MiB after 15 s idle), so before each round (beforeAll)
// the whole ring is cycled twice, outside the timed region.
const RING = 16;
let ring = null;
export function memcpyTask(id = 'memcpy') {
  if (id === 'memcpy-hot') {
    const src = randomBytes(REF_SIZE, 98), dst = new Uint8Array(REF_SIZE);
    return { id, fn: () => { dst.set(src); if (dst[REF_SIZE - 1] !== src[REF_SIZE - 1]) throw new Error('memcpy'); } };
  }
  if (!ring) {
    const seed = randomBytes(REF_SIZE, 99);
    ring = { src: Array.from({ length: RING }, () => seed.slice()), dst: Array.from({ length: RING }, () => new Uint8Array(REF_SIZE).fill(1)), i: 0 };
  }
  const r = ring;
  return {
    id,
    beforeAll: () => { for (let k = 0; k < 2 * RING; k++) r.dst[k % RING].set(r.src[k % RING]); },
    fn: () => {
      const i = r.i = (r.i + 1) % RING;
      const dst = r.dst[i], src = r.src[i];
      dst.set(src);
      if (dst[REF_SIZE - 1] !== src[REF_SIZE - 1]) throw new Error('memcpy');
    },
  };
}

/** A wsframe Decoder wired to a message callback; errors are rethrown from push. */
function makeOurs(impl, onMessage, { ownMessages = false } = {}) {
  let err = null;
  const d = new impl.Decoder({
    role: 'server',
    ownMessages,
    maxMessageSize: 64 * MiB,
    onMessage,
    onPing() {}, onPong() {}, onClose() {},
    onError(e) { err = e; },
  });
  return {
    push(c) { d.push(c); if (err) { const e = err; err = null; throw e; } },
    destroy() { d.destroy(); },
  };
}

/** ws's Receiver as a server would run it (defaults except maxPayload). */
function makeWs(onMessage) {
  const { Receiver } = require('ws');
  const r = new Receiver({ isServer: true, maxPayload: 0, binaryType: 'nodebuffer' });
  let err = null;
  r.on('message', onMessage);
  r.on('error', (e) => { err = e; });
  return {
    push(c) { r.write(c); if (err) { const e = err; err = null; throw e; } },
    destroy() { r.removeAllListeners(); },
  };
}

/**
 * One decode task: `kind` 'ours'|'ws', the stream split into `chunkSize`
 * pieces, `deliver` 'view'|'copy'. Verifies once (checksum of delivered bytes,
 * input left intact or restored), then returns a tinybench task whose fn
 * asserts the message count each iteration.
 */
function decodeTask(id, { impl, kind, stream, chunkSize, expected, deliver = 'view' }) {
  const pristine = stream;
  const input = stream.slice(); // ws unmasks in place, so every run restores this copy first
  const chunks = chunk(input, chunkSize).map(kind === 'ws' ? toBuf : (x) => x);
  const wantMsgs = expected.messages;

  // --- verification pass (not timed)
  const sum = new Checksum();
  const dv = kind === 'ws'
    ? makeWs((data, isBinary) => sum.add(data, isBinary))
    : makeOurs(impl, (data, binary) => sum.add(deliver === 'copy' ? data.slice() : data, binary), { ownMessages: deliver === 'copy' });
  for (const c of chunks) dv.push(c);
  dv.destroy();
  if (!sum.equals(expected)) throw new Error(`${id}: delivered ${sum}, expected ${expected} — decoder output is wrong, refusing to time it`);
  const mutated = Buffer.compare(toBuf(input), toBuf(pristine)) !== 0;
  input.set(pristine);

  // --- timed task
  let count = 0, bytes = 0, keep = null;
  // An owned copy: what a user keeping the data does. It asks for owned
  // messages (ownMessages): reassembled ones then need no copy (README "View lifetime").
  const isView = typeof impl?.Decoder.isDecoderMemory === 'function' ? (data) => impl.Decoder.isDecoderMemory(data) : () => true;
  const d = kind === 'ws'
    ? makeWs((data) => { count++; bytes += data.length; })
    : deliver === 'copy'
      ? makeOurs(impl, (data) => { keep = isView(data) ? data.slice() : data; count++; bytes += keep.length; }, { ownMessages: true })
      : makeOurs(impl, (data) => { count++; bytes += data.length; });
  return {
    task: {
      id,
      beforeEach: () => { input.set(pristine); },
      fn: () => {
        count = 0;
        for (let i = 0; i < chunks.length; i++) d.push(chunks[i]);
        if (count !== wantMsgs) throw new Error(`${id}: ${count}/${wantMsgs} messages delivered synchronously`);
      },
    },
    mutatesInput: mutated,
    keepAlive: () => keep,
  };
}

// ---------------------------------------------------------------- workload 1

export function refMessage() {
  return [{ payload: randomBytes(REF_SIZE, 42), opcode: 2 }];
}

let refCache = null;
export function refStream() {
  if (!refCache) {
    const msgs = refMessage();
    refCache = { msgs, stream: buildStream(msgs, { fragmentSize: REF_FRAGMENT, masked: true }), expected: checksumOf(msgs) };
  }
  return refCache;
}

const W1_CHUNKS = [['64k', 64 * KiB, '64 KiB chunks'], ['1k', 1 * KiB, '1 KiB chunks'], ['whole', Infinity, 'one push']];

export async function w1(ctx, { only = null } = {}) {
  const { impl } = ctx;
  const { stream, expected } = refStream();
  const ours = ctx.coreLabel;
  const specs = [];
  for (const [k, size, label] of W1_CHUNKS) {
    // 1 KiB pushes: 4,128 calls into WebAssembly and as many piece appends per
    // operation, so GC and scheduling move it more than the gate's 10 %: on a
    // quiet machine, eight runs in one hour spread from 3.5 to 5.2 × memcpy
    // (×ws likewise). Gated with the loopback rows' wider limit.
    specs.push({ id: `w1.ours.view.${k}`, kind: 'ours', chunkSize: size, label: `decode ref, ${label}, view (${ours})`, vs: `w1.ws.${k}`, targets: [{ xMemcpy: 1.5 }, { speedup: 5 }], ...(k === '1k' ? { noisy: true } : {}) });
  }
  specs.push({ id: 'w1.ours.copy.64k', kind: 'ours', chunkSize: 64 * KiB, deliver: 'copy', label: `decode ref, 64 KiB chunks, owned copy (${ours})`, vs: 'w1.ws.64k', targets: [{ xMemcpy: 3 }] });
  for (const [k, size, label] of W1_CHUNKS) {
    specs.push({ id: `w1.ws.${k}`, kind: 'ws', chunkSize: size, label: `decode ref, ${label} (ws+bufferutil)` });
  }
  return runDecodeGroup(ctx, 'w1', specs.filter((s) => !only || only(s)), { stream, expected, bytes: REF_SIZE, messages: 1 });
}

/** Re-measurement (bench:check) may ask for some rows only: ctx.onlyIds. */
const wanted = (ctx, id) => !ctx.onlyIds || ctx.onlyIds.has(id);

async function runDecodeGroup(ctx, group, specs, { stream, expected, bytes, messages }) {
  specs = specs.filter((s) => wanted(ctx, s.id));
  if (!specs.length) return [];
  const built = specs.map((s) => ({ s, ...decodeTask(s.id, { impl: ctx.impl, kind: s.kind, stream, chunkSize: s.chunkSize, expected, deliver: s.deliver }) }));
  const extra = group === 'w1' && !ctx.onlyIds ? [memcpyTask('memcpy-hot')] : [];
  const m = await measureInterleaved([memcpyTask(), ...extra, ...built.map((b) => b.task)], ctx.micro);
  const memcpy = m.get('memcpy');
  const rows = built.map(({ s, mutatesInput }) => ({
    id: s.id, group, label: s.label, impl: s.kind === 'ws' ? 'ws' : ctx.coreName,
    ...pick(m.get(s.id)), memcpyMs: memcpy.median, bytes, messages,
    vs: s.vs, targets: s.targets ?? [], gated: s.kind !== 'ws', ...(s.noisy ? { noisy: true } : {}),
    note: [s.kind !== 'ws' && mutatesInput ? 'MUTATES INPUT' : null, s.note].filter(Boolean).join('; ') || undefined,
  }));
  return (group === 'w1' && !ctx.onlyIds ? [
    { id: 'w1.memcpy', group, label: 'memcpy 4 MiB, Uint8Array#set, DRAM→DRAM (the calibrator)', impl: 'memcpy', ...pick(memcpy), memcpyMs: memcpy.median, bytes: REF_SIZE, messages: 0, targets: [], gated: false },
    { id: 'w1.memcpy-hot', group, label: 'memcpy 4 MiB, Uint8Array#set, in cache (info)', impl: 'memcpy', ...pick(m.get('memcpy-hot')), memcpyMs: memcpy.median, bytes: REF_SIZE, messages: 0, targets: [], gated: false },
  ] : []).concat(rows);
}

const pick = (r) => ({ medianMs: r.median, madMs: r.mad, meanMs: r.mean, samples: r.n });

// ---------------------------------------------------------------- workload 2

export async function w2(ctx) {
  const ascii = asciiText(REF_SIZE, 3);
  const multi = multibyteText(REF_SIZE, 5);
  const share = Math.round(multibyteShare(multi) * 100);
  const out = [];
  for (const [k, payload, label, limit] of [['ascii', ascii, 'ASCII', 2], ['multibyte', multi, 'multi-byte', 3]]) {
    const msgs = [{ payload, opcode: 1 }];
    const stream = buildStream(msgs, { fragmentSize: REF_FRAGMENT, masked: true, seed: 13 });
    const expected = checksumOf(msgs);
    const specs = [
      { id: `w2.ours.${k}`, note: k === 'multibyte' ? `${share}% of bytes in multi-byte sequences` : undefined, kind: 'ours', chunkSize: 64 * KiB, label: `decode 4 MiB text, ${label} (${ctx.coreLabel})`, vs: `w2.ws.${k}`, targets: [{ xMemcpy: limit }] },
      { id: `w2.ws.${k}`, kind: 'ws', chunkSize: 64 * KiB, label: `decode 4 MiB text, ${label} (ws)` },
    ];
    out.push(...await runDecodeGroup(ctx, 'w2', specs, { stream, expected, bytes: REF_SIZE, messages: 1 }));
  }
  return out;
}

// ---------------------------------------------------------------- workload 3

export async function w3(ctx) {
  const N = 100_000, SIZE = 32;
  const out = [];
  for (const [k, text, label] of [['bin32', false, 'binary'], ['text32', true, 'ASCII text']]) {
    const msgs = smallMessages(N, SIZE, text, text ? 17 : 19);
    const stream = buildStream(msgs, { masked: true, seed: 23 });
    const expected = checksumOf(msgs);
    const specs = [
      { id: `w3.ours.${k}`, kind: 'ours', chunkSize: 64 * KiB, label: `decode 100k × 32 B ${label} frames (${ctx.coreLabel})`, vs: `w3.ws.${k}`, targets: [{ speedup: 5 }] },
      { id: `w3.ws.${k}`, kind: 'ws', chunkSize: 64 * KiB, label: `decode 100k × 32 B ${label} frames (ws)` },
    ];
    out.push(...await runDecodeGroup(ctx, 'w3', specs, { stream, expected, bytes: N * SIZE, messages: N }));
  }
  return out;
}

// ---------------------------------------------------------------- workload 4

/** Concatenate an encoder's output and decode it with ws's Receiver (independent check). */
function verifyEncoded(id, parts, payload, role) {
  const { Receiver } = require('ws');
  const r = new Receiver({ isServer: role === 'client', maxPayload: 0, binaryType: 'nodebuffer' });
  const sum = new Checksum();
  let err = null;
  r.on('message', (d, b) => sum.add(d, b));
  r.on('error', (e) => { err = e; });
  r.write(Buffer.concat(parts.map(toBuf)));
  if (err) throw new Error(`${id}: ws rejects the encoder's output: ${err.message}`);
  const want = new Checksum().add(payload, true);
  if (!sum.equals(want)) throw new Error(`${id}: encoded stream decodes to ${sum}, expected ${want}`);
}

function wsFrames(Sender, src, frag, mask, readOnly) {
  const out = [];
  const n = Number.isFinite(frag) ? Math.ceil(src.length / frag) : 1;
  const step = Number.isFinite(frag) ? frag : src.length;
  for (let i = 0; i < n; i++) {
    const part = src.subarray(i * step, Math.min(src.length, (i + 1) * step));
    const list = Sender.frame(part, { fin: i === n - 1, opcode: i === 0 ? 2 : 0, mask, readOnly, rsv1: false });
    for (let j = 0; j < list.length; j++) out.push(list[j]);
  }
  return out;
}

export async function w4(ctx) {
  const { Sender } = require('ws');
  const pristine = toBuf(randomBytes(REF_SIZE, 77));
  const src = Buffer.from(pristine); // ws with readOnly:false masks this in place
  let specs = [];
  for (const [shape, frag, label] of [['frag', REF_FRAGMENT, '4096 × 1 KiB frags'], ['one', Infinity, 'one frame']]) {
    for (const role of ['client', 'server']) {
      const enc = new ctx.impl.Encoder({ role });
      const opts = Number.isFinite(frag) ? { binary: true, fragmentSize: frag } : { binary: true };
      specs.push({
        id: `w4.ours.${role}.${shape}`, label: `encode 4 MiB, ${label}, ${role} (${ctx.coreLabel})`,
        vs: `w4.ws.${role}.${shape}`, targets: [{ xMemcpy: role === 'client' ? 1.5 : 0.5 }], gated: true, impl: ctx.coreName,
        run: () => enc.message(pristine, opts), verify: true,
        // Server fragments are 8,192 small chunks (headers and payload views) in
        // 67 µs: the row moves with young-generation collections, 0.25-0.50 ×
        // memcpy over single runs on 2026-12-01; gated with the noisy rows' margin.
        ...(role === 'server' && shape === 'frag' ? { noisy: true } : {}),
        // A writer gives client output back once written (the Node WebSocket does): Encoder#recycle.
        done: (parts) => enc.recycle?.(parts),
      });
      const mask = role === 'client';
      specs.push({
        id: `w4.ws.${role}.${shape}`, label: `encode 4 MiB, ${label}, ${role} (ws${mask ? ', readOnly:false' : ''})`,
        impl: 'ws', gated: false, targets: [],
        run: () => wsFrames(Sender, src, frag, mask, false), restore: mask,
      });
    }
  }
  specs.push({
    id: 'w4.ws.client.frag.ro', label: 'encode 4 MiB, 4096 × 1 KiB frags, client (ws, readOnly:true)',
    impl: 'ws', gated: false, targets: [], note: 'info: copy + mask, what WebSocket#send does with a Buffer',
    run: () => wsFrames(Sender, src, REF_FRAGMENT, true, true),
  });

  const tasks = [memcpyTask()];
  specs = specs.filter((s) => wanted(ctx, s.id));
  for (const s of specs) {
    // verify every encoder once on a fresh copy of the source
    src.set(pristine);
    const parts = s.run();
    verifyEncoded(s.id, parts, pristine, s.id.includes('.client.') ? 'client' : 'server');
    src.set(pristine);
    let sink = 0;
    tasks.push({
      id: s.id,
      beforeEach: s.restore ? () => { src.set(pristine); } : undefined,
      fn: () => {
        const parts = s.run();
        let n = 0;
        for (let i = 0; i < parts.length; i++) n += parts[i].length;
        if (n < REF_SIZE) throw new Error(`${s.id}: short output`);
        sink += n;
        s.done?.(parts);
      },
    });
  }
  const m = await measureInterleaved(tasks, ctx.micro);
  const memcpy = m.get('memcpy');
  return specs.map((s) => ({
    id: s.id, group: 'w4', label: s.label, impl: s.impl, ...pick(m.get(s.id)), memcpyMs: memcpy.median,
    bytes: REF_SIZE, messages: 1, vs: s.vs, targets: s.targets, gated: s.gated, note: s.note, ...(s.noisy ? { noisy: true } : {}),
  }));
}

// ------------------------------------------------- ws without bufferutil (child)

/** Run inside a child with WS_NO_BUFFER_UTIL=1: ws rows only, own memcpy. */
export async function wsNoBufferutil(ctx) {
  const { stream, expected } = refStream();
  const rows = await runDecodeGroup(ctx, 'w1', [{ id: 'w1.ws-nobu.64k', kind: 'ws', chunkSize: 64 * KiB, label: 'decode ref, 64 KiB chunks (ws, WS_NO_BUFFER_UTIL=1)' }], { stream, expected, bytes: REF_SIZE, messages: 1 });
  const { Sender } = require('ws');
  const src = toBuf(randomBytes(REF_SIZE, 77));
  const pristine = Buffer.from(src);
  verifyEncoded('w4.ws-nobu', wsFrames(Sender, src, REF_FRAGMENT, true, false), pristine, 'client');
  const m = await measureInterleaved([memcpyTask(), {
    id: 'w4.ws-nobu.client.frag', beforeEach: () => { src.set(pristine); },
    fn: () => { if (wsFrames(Sender, src, REF_FRAGMENT, true, false).length !== 8192) throw new Error('ws frames'); },
  }], ctx.micro);
  rows.push({
    id: 'w4.ws-nobu.client.frag', group: 'w4', label: 'encode 4 MiB, 4096 × 1 KiB frags, client (ws, WS_NO_BUFFER_UTIL=1)', impl: 'ws',
    ...pick(m.get('w4.ws-nobu.client.frag')), memcpyMs: m.get('memcpy').median, bytes: REF_SIZE, messages: 1, targets: [], gated: false,
  });
  return rows.filter((r) => !r.id.startsWith('w1.memcpy'));
}
