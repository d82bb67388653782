// Memory that survives exhaustion and comes back (design: codec/core/decoder.ts).
// Messages are reassembled outside the shared WebAssembly memory, in owned
// buffers counted against a process-wide budget (Decoder.setMemoryBudget):
// past it, the connection that asks for more fails with 1013; no input makes
// push() throw; destroyed decoders give their memory back to the process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Decoder, Encoder, DEFAULT_MEMORY_BUDGET } from 'wsframe';
import { OP, MiB, buildFrame, patternBytes } from './support/frames.mjs';

const KEY = new Uint8Array([0x5a, 0xc3, 0x01, 0xfe]);

/** Records events; keeps messages as delivered (ownMessages, the default here) or copies them in the handler (recycling decoders). */
function recorderOf(options = {}) {
  const events = [];
  const own = options.ownMessages ?? true;
  const d = new Decoder({
    maxMessageSize: 64 * MiB,
    ...options,
    ownMessages: own,
    onMessage: (data, binary) => events.push(['message', binary, own ? data : Uint8Array.prototype.slice.call(data)]),
    onError: (e) => events.push(['error', e.closeCode, e.code]),
  });
  return { d, events };
}

const recorder = recorderOf;

/** Sets a budget for one test and restores the default after it. */
function withBudget(t, bytes) {
  Decoder.setMemoryBudget(bytes);
  t.after(() => Decoder.setMemoryBudget(DEFAULT_MEMORY_BUDGET));
}

test('the default budget is 1 GiB and the setter validates', () => {
  assert.equal(DEFAULT_MEMORY_BUDGET, 2 ** 30);
  assert.throws(() => Decoder.setMemoryBudget(-1), RangeError);
  assert.throws(() => Decoder.setMemoryBudget(Number.NaN), RangeError);
  assert.equal(Decoder.heldMessageBytes(), 0);
});

for (const ownMessages of [true, false]) test(`exhaustion (ownMessages ${ownMessages}): past the budget, the decoders asking for more fail with 1013; the others still decode; nothing throws`, (t) => {
  withBudget(t, 4 * MiB + 1024);
  const N = 10;
  const all = [];
  t.after(() => { for (const d of all) d.destroy(); });
  const recorder = (o = {}) => recorderOf({ ...o, ownMessages });
  // Every peer sends 1 MiB of a fragmented binary message in 64 KiB frames and stops there.
  const pieces = Array.from({ length: 16 }, (_, i) => buildFrame({ opcode: i === 0 ? OP.BINARY : OP.CONT, fin: false, payload: patternBytes(64 * 1024, i), mask: KEY }));
  const peers = Array.from({ length: N }, () => recorder());
  all.push(...peers.map((p) => p.d));
  for (let k = 0; k < pieces.length; k++) {
    for (const { d } of peers) assert.doesNotThrow(() => d.push(pieces[k].slice()));
  }
  const failed = peers.filter((p) => p.events.length > 0);
  const holding = peers.filter((p) => p.events.length === 0);
  // Buffers double from 64 KiB: each holding peer has exactly 1 MiB reserved, so four fit.
  assert.equal(holding.length, 4, `peers holding: ${holding.length}`);
  for (const p of failed) {
    assert.deepEqual(p.events, [['error', 1013, 'WS_ERR_MEMORY_BUDGET']]);
    assert.equal(p.d.state, 'failed');
    assert.equal(p.d.stats.lastErrorCode, 1013);
    assert.equal(p.d.stats.bufferedBytes, 0);
    assert.doesNotThrow(() => p.d.push(pieces[1].slice()));  // ignored after the error
  }
  assert.equal(Decoder.heldMessageBytes(), 4 * MiB);
  // The honest peers finish: content intact, budget back to zero.
  const last = buildFrame({ opcode: OP.CONT, payload: patternBytes(10, 99), mask: KEY });
  for (const p of holding) {
    p.d.push(last.slice());
    assert.equal(p.events.length, 1);
    const [kind, binary, data] = p.events[0];
    assert.equal(kind, 'message');
    assert.equal(binary, true);
    assert.equal(data.length, MiB + 10);
    const same = (a, b) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
    for (let k = 0; k < 16; k++) assert.ok(same(data.subarray(k * 65536, (k + 1) * 65536), patternBytes(64 * 1024, k)), `piece ${k}`);
    assert.ok(same(data.subarray(MiB), patternBytes(10, 99)));
    if (ownMessages) assert.equal(Decoder.isDecoderMemory(data), false, 'a reassembled message is owned');
  }
  assert.equal(Decoder.heldMessageBytes(), 0);
  // Room again: a new peer's message passes.
  const fresh = recorder();
  for (const piece of pieces) fresh.d.push(piece.slice());
  fresh.d.push(last.slice());
  assert.equal(fresh.events.length, 1);
  assert.equal(fresh.events[0][2].length, MiB + 10);
  for (const p of [...peers, fresh]) p.d.destroy();
  assert.equal(Decoder.heldMessageBytes(), 0);
});

test('destroy(), a close frame or a protocol error mid-message give the budget back', (t) => {
  withBudget(t, 8 * MiB);
  const first = buildFrame({ opcode: OP.TEXT, fin: false, payload: new TextEncoder().encode('x'.repeat(100000)), mask: KEY });
  const close = buildFrame({ opcode: OP.CLOSE, payload: new Uint8Array([0x03, 0xe8]), mask: KEY });
  const bad = buildFrame({ opcode: OP.BINARY, payload: new Uint8Array(3), mask: KEY });  // a new message inside one: 1002
  for (const end of ['destroy', 'close', 'error']) {
    const closes = [];
    const { d, events } = recorder({ onClose: (code) => closes.push(code) });
    d.push(first);
    assert.ok(Decoder.heldMessageBytes() >= 100000, `${end}: held ${Decoder.heldMessageBytes()}`);
    assert.equal(d.stats.bufferedBytes, 100000);
    if (end === 'destroy') d.destroy();
    else d.push(end === 'close' ? close : bad);
    assert.equal(Decoder.heldMessageBytes(), 0, end);
    if (end === 'error') assert.deepEqual(events, [['error', 1002, 'WS_ERR_EXPECTED_CONTINUATION']]);
    d.destroy();
  }
});

test('maxMessageSize: Infinity never throws: a 2^62-byte frame fails with 1013 at the budget, memory stays bounded', (t) => {
  withBudget(t, 8 * MiB);
  const m0 = Decoder.memoryBytes();
  for (const declared of [2n ** 62n, 2n ** 40n, 2n ** 32n + 5n]) {
    const { d, events } = recorder({ maxMessageSize: Infinity });
    d.push(buildFrame({ opcode: OP.BINARY, declared, mask: KEY }));
    const chunk = patternBytes(256 * 1024, 3);
    let pushed = 0;
    while (events.length === 0 && pushed < 64 * MiB) {
      assert.doesNotThrow(() => d.push(chunk));
      pushed += chunk.length;
    }
    assert.deepEqual(events, [['error', 1013, 'WS_ERR_MEMORY_BUDGET']], `declared ${declared}`);
    assert.ok(pushed <= 8 * MiB + chunk.length, `failed only after ${pushed} bytes`);
    assert.equal(Decoder.heldMessageBytes(), 0);
    d.destroy();
  }
  assert.ok(Decoder.memoryBytes() - m0 <= 2 * MiB, `WebAssembly memory grew by ${Decoder.memoryBytes() - m0}`);
});

test('held messages do not grow WebAssembly memory; a message split across pushes is a recycled view by default, owned with ownMessages; one frame whole in a push is a view', () => {
  const m0 = Decoder.memoryBytes();
  const big = patternBytes(8 * MiB, 5);
  const wire = Buffer.concat(new Encoder({ role: 'client' }).message(big));
  for (const ownMessages of [false, true]) {
    const views = [];
    const d = new Decoder({ ownMessages, onMessage: (data) => views.push([Decoder.isDecoderMemory(data), data.length, Buffer.compare(Buffer.from(data.buffer, data.byteOffset, data.length), big) === 0]) });
    for (let off = 0; off < wire.length; off += 64 * 1024) d.push(wire.subarray(off, off + 64 * 1024));
    assert.equal(Decoder.heldMessageBytes(), 0, 'a delivered message (pooled or owned) holds no budget');
    d.push(buildFrame({ opcode: OP.BINARY, payload: new Uint8Array(100), mask: KEY }));
    assert.deepEqual(views[0], [!ownMessages, 8 * MiB, true]);
    assert.deepEqual(views[1].slice(0, 2), [true, 100]);
    d.destroy();
  }
  assert.ok(Decoder.memoryBytes() - m0 <= 2 * MiB, `WebAssembly memory grew by ${Decoder.memoryBytes() - m0} for an 8 MiB message`);
});

test('recycling decoders: a message takes an idle pooled buffer and holds its whole capacity in the budget until delivered; idle buffers hold none', (t) => {
  withBudget(t, DEFAULT_MEMORY_BUDGET);
  const lens = [];
  const buffers = [];
  const d = new Decoder({ onMessage: (data) => { lens.push(data.length); buffers.push(data.buffer); } });
  t.after(() => d.destroy());
  // 20 MiB: larger than any buffer earlier tests left idle, so the one it ends in is the only candidate below.
  d.push(buildFrame({ opcode: OP.BINARY, fin: false, payload: patternBytes(10 * MiB, 1), mask: KEY }));
  d.push(buildFrame({ opcode: OP.CONT, payload: patternBytes(10 * MiB, 2), mask: KEY }));
  assert.equal(Decoder.heldMessageBytes(), 0);
  const capacity = buffers[0].byteLength;
  assert.ok(capacity >= 20 * MiB && capacity <= 40 * MiB, `capacity ${capacity}`);
  // The next message starts with the last one's size (20 MiB): the idle buffer is taken.
  d.push(buildFrame({ opcode: OP.BINARY, fin: false, payload: patternBytes(1000, 3), mask: KEY }));
  assert.equal(Decoder.heldMessageBytes(), capacity, 'the pooled buffer counts while the message is incomplete');
  d.push(buildFrame({ opcode: OP.CONT, payload: patternBytes(10, 4), mask: KEY }));
  assert.equal(Decoder.heldMessageBytes(), 0);
  assert.deepEqual(lens, [20 * MiB, 1010]);
  assert.ok(buffers[1] === buffers[0], 'the second message reused the first one\'s buffer');
  // A budget too small for an idle buffer: the message gets a buffer of what it needs, or fails with 1013.
  Decoder.setMemoryBudget(2000);
  d.push(buildFrame({ opcode: OP.BINARY, fin: false, payload: patternBytes(1000, 3), mask: KEY }));
  assert.equal(Decoder.heldMessageBytes(), 1000);
  assert.equal(d.state, 'open');
  d.push(buildFrame({ opcode: OP.CONT, fin: false, payload: patternBytes(1500, 3), mask: KEY }));
  assert.equal(d.state, 'failed');
  assert.equal(d.stats.lastErrorCode, 1013);
  assert.equal(Decoder.heldMessageBytes(), 0);
});

test('memory comes back: 8 decoders holding unfinished 60 MiB messages, destroyed: RSS returns; recycled buffers are collected too (child process, --expose-gc)', (t) => {
  const child = fileURLToPath(new URL('./support/memory-return-child.mjs', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', child], { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, `child failed (${r.status} ${r.signal})\n${r.stdout}\n${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1));
  const mb = (n) => `${(n / MiB).toFixed(0)} MiB`;
  t.diagnostic(`RSS before ${mb(res.before.rss)}, holding ${mb(res.held.rss)}, after ${mb(res.after.rss)}; WebAssembly ${mb(res.before.wasm)} → ${mb(res.held.wasm)} → ${mb(res.after.wasm)}`);
  assert.equal(res.errors, 0);
  assert.equal(res.held.buffered, 8 * 60 * MiB, 'each decoder holds its 60 MiB');
  assert.ok(res.held.rss >= res.before.rss + 8 * 50 * MiB, 'the held bytes were really resident');
  assert.equal(res.after.budget, 0);
  assert.ok(res.after.rss < 2 * res.before.rss + 64 * MiB, `RSS did not come back: ${mb(res.before.rss)} → ${mb(res.after.rss)}`);
  assert.ok(res.held.wasm - res.before.wasm <= 4 * MiB, `WebAssembly memory grew by ${mb(res.held.wasm - res.before.wasm)} while messages were held`);
  t.diagnostic(`recycled phase: ${res.recycled.messages} messages of 40 MiB, RSS after GC ${mb(res.recycled.rss)}`);
  assert.equal(res.recycled.messages, 4);
  assert.ok(res.recycled.reused, 'a later message reused a recycled buffer');
  assert.equal(res.recycled.alive, 0, 'recycled buffers outlived their decoders and a GC (the pool must hold them weakly)');
});
