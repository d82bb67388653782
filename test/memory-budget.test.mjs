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

function recorder(options = {}) {
  const events = [];
  const d = new Decoder({
    maxMessageSize: 64 * MiB,
    ...options,
    onMessage: (data, binary) => events.push(['message', binary, data]),
    onError: (e) => events.push(['error', e.closeCode, e.code]),
  });
  return { d, events };
}

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

test('exhaustion: past the budget, the decoders asking for more fail with 1013; the others still decode; nothing throws', (t) => {
  withBudget(t, 4 * MiB + 1024);
  const N = 10;
  const all = [];
  t.after(() => { for (const d of all) d.destroy(); });
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
    assert.equal(Decoder.isDecoderMemory(data), false, 'a reassembled message is owned');
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

test('held messages do not grow WebAssembly memory; a message split across pushes is delivered owned, one frame whole in a push as a view', () => {
  const m0 = Decoder.memoryBytes();
  const big = patternBytes(8 * MiB, 5);
  const wire = Buffer.concat(new Encoder({ role: 'client' }).message(big));
  const views = [];
  const d = new Decoder({ onMessage: (data) => views.push([Decoder.isDecoderMemory(data), data.length, Buffer.compare(Buffer.from(data.buffer, data.byteOffset, data.length), big) === 0]) });
  for (let off = 0; off < wire.length; off += 64 * 1024) d.push(wire.subarray(off, off + 64 * 1024));
  d.push(buildFrame({ opcode: OP.BINARY, payload: new Uint8Array(100), mask: KEY }));
  assert.deepEqual(views[0], [false, 8 * MiB, true]);
  assert.deepEqual(views[1].slice(0, 2), [true, 100]);
  assert.ok(Decoder.memoryBytes() - m0 <= 2 * MiB, `WebAssembly memory grew by ${Decoder.memoryBytes() - m0} for an 8 MiB message`);
  d.destroy();
});

test('memory comes back: 8 decoders holding unfinished 60 MiB messages, destroyed: RSS returns (child process, --expose-gc)', (t) => {
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
});
