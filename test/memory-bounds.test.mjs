// Memory bounds under hostile input, measured from the shared WebAssembly memory
// (Decoder.memoryBytes(), which can only grow) and the process's arrayBuffers.
//
// WebAssembly memory cannot shrink, so "flat" means: after a warm-up that reaches the steady
// state, further rounds of the same (or smaller) work do not grow it at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { OP, MiB, buildFrame, buildFrames, messageFrames, patternBytes, patternText, splitAt, hex } from './support/frames.mjs';
import { loadOurs, repr } from './support/oracle.mjs';

const mod = await loadOurs();
const { Decoder } = mod;
const KEY = new Uint8Array([0x5a, 0xc3, 0x01, 0xfe]);
const mem = () => Decoder.memoryBytes();
const ab = () => process.memoryUsage().arrayBuffers;
const sha1 = (u8) => createHash('sha1').update(u8).digest('hex');

function recorder(extra = {}) {
  const events = [];
  const d = new Decoder({
    role: 'server',
    ...extra,
    onMessage: (data, binary) => events.push(['message', binary ? 'binary' : 'text', repr(data)]),
    onPing: (p) => events.push(['ping', repr(p)]),
    onClose: (code, reason) => events.push(['close', code, reason]),
    onError: (e) => events.push(['error', e.closeCode, e.code]),
  });
  return { d, events };
}

test('a header declaring 2^40 bytes fails with 1009 at once; memory does not grow (whole, and byte by byte)', () => {
  // warm the shared instance so its own set-up is not counted
  recorder().d.destroy();
  for (const declared of [2n ** 40n, 2n ** 32n, 2n ** 53n, 2n ** 62n]) {
    for (const role of ['server', 'client']) {
      const header = buildFrame({ opcode: OP.BINARY, declared, len: 64, mask: role === 'server' ? KEY : null });
      for (const chunks of [[header], splitAt(header, Array.from({ length: header.length }, (_, i) => i))]) {
        const m0 = mem();
        const { d, events } = recorder({ role });
        for (const c of chunks) d.push(c);
        assert.deepEqual(events, [['error', 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']], `${declared} ${role} ${hex(header)}`);
        assert.equal(d.state, 'failed');
        assert.equal(d.stats.lastErrorCode, 1009);
        d.push(patternBytes(100000)); // ignored after the error
        assert.equal(events.length, 1);
        assert.equal(mem(), m0, 'WebAssembly memory grew for a refused header');
        d.destroy();
      }
    }
  }
});

test('with a huge maxMessageSize, a 2^40 header allocates nothing up front: memory follows the bytes that arrive', () => {
  recorder().d.destroy();
  const m0 = mem();
  const { d, events } = recorder({ maxMessageSize: 2 ** 50 });
  d.push(buildFrame({ opcode: OP.BINARY, declared: 2n ** 40n, len: 64, mask: KEY }));
  d.push(patternBytes(10));
  assert.deepEqual(events, []);
  assert.ok(mem() - m0 <= 256 * 1024, `memory grew by ${mem() - m0} for 10 payload bytes of a 2^40-byte frame`);
  const chunk = patternBytes(64 * 1024, 3);
  for (let i = 0; i < 64; i++) d.push(chunk); // 4 MiB of payload arrives
  assert.deepEqual(events, []);
  const grown = mem() - m0;
  assert.ok(grown <= 4 * MiB + 1 * MiB, `memory grew by ${grown} for 4 MiB of payload`);
  assert.equal(d.stats.bufferedBytes, 10 + 4 * MiB);
  d.destroy();
});

test('100 concurrent decoders each mid-message: memory bounded by the bytes held; content intact; steady over rounds', () => {
  const N = 100;
  const payloads = Array.from({ length: N }, (_, i) => (i % 2 ? patternBytes(150 * 1024 + i, i) : patternText(150 * 1024 + i, i)));
  const streams = payloads.map((p, i) => buildFrames(messageFrames({ binary: i % 2 === 1, payload: p, splits: [100 * 1024, 100 * 1024 + 1], mask: KEY })));
  const warm = recorder();
  warm.d.push(streams[0]);
  warm.d.destroy();
  const m0 = mem();
  const ab0 = ab();
  const peaks = [];
  for (let round = 0; round < 3; round++) {
    const decs = streams.map(() => recorder());
    // first half of every stream, interleaved across decoders in 8 KiB steps
    let held = 0;
    for (let off = 0; off < 125 * 1024; off += 8 * 1024) {
      for (let i = 0; i < N; i++) decs[i].d.push(streams[i].subarray(off, Math.min(off + 8 * 1024, 125 * 1024)));
    }
    for (let i = 0; i < N; i++) {
      assert.deepEqual(decs[i].events, []);
      held += decs[i].d.stats.bufferedBytes;
    }
    const grown = mem() - m0;
    peaks.push(mem());
    // every decoder holds ~125 KiB; allow 2x for buffer growth policy plus 2 MiB of slack
    assert.ok(grown <= 2 * held + 2 * MiB, `round ${round}: memory grew by ${grown} while decoders hold ${held} bytes`);
    for (let i = 0; i < N; i++) {
      decs[i].d.push(streams[i].subarray(125 * 1024));
      assert.deepEqual(decs[i].events, [['message', i % 2 ? 'binary' : 'text', repr(payloads[i])]], `decoder ${i} round ${round}`);
      assert.equal(decs[i].d.stats.bufferedBytes, 0);
      decs[i].d.destroy();
    }
  }
  assert.ok(peaks[2] <= peaks[0], `memory kept growing over identical rounds: ${peaks.join(' → ')}`);
  assert.ok(ab() - ab0 <= 64 * MiB, `arrayBuffers grew by ${ab() - ab0}`);
});

test('a 64 MiB message then small ones: memory reaches a steady state and does not grow over further big rounds', () => {
  const big = patternBytes(64 * MiB, 7);
  const bigSum = sha1(big);
  const single = buildFrame({ opcode: OP.BINARY, payload: big, mask: KEY });
  const fragmented = buildFrames(messageFrames({ binary: true, payload: big, splits: Array.from({ length: 63 }, (_, i) => (i + 1) * MiB), mask: KEY }));
  const small = buildFrames(Array.from({ length: 1000 }, (_, i) => ({ opcode: i % 2 ? OP.TEXT : OP.BINARY, payload: patternText(10 + (i % 200), i), mask: KEY })));
  const sizes = [];
  const d = new Decoder({
    maxMessageSize: 128 * MiB,
    onMessage: (data) => {
      if (data.length === big.length) sizes.push(sha1(data));
      else sizes.push(data.length);
    },
    onError: (e) => assert.fail(`unexpected error ${e.closeCode} ${e.code}`),
  });
  const pushIn = (s, step) => {
    for (let off = 0; off < s.length; off += step) d.push(s.subarray(off, off + step));
  };
  const after = [];
  const abAfter = [];
  for (let round = 0; round < 4; round++) {
    sizes.length = 0;
    pushIn(round % 2 ? fragmented : single, 64 * 1024);
    pushIn(small, 1500);
    assert.equal(sizes[0], bigSum, `round ${round}: big message content`);
    assert.equal(sizes.length, 1001);
    assert.equal(d.stats.bufferedBytes, 0);
    after.push(mem());
    abAfter.push(ab());
  }
  d.destroy();
  // WebAssembly memory cannot shrink: round 0 sets the steady state, later rounds must not exceed it
  assert.ok(after[0] <= 64 * MiB + 16 * MiB, `steady state ${after[0]} bytes for a 64 MiB message`);
  for (let r = 1; r < after.length; r++) assert.ok(after[r] <= after[0], `memory grew after round ${r}: ${after.join(' → ')}`);
  // JS-side buffers: no growth beyond the test's own data between rounds
  assert.ok(abAfter[3] - abAfter[1] <= 16 * MiB, `arrayBuffers grew ${abAfter.join(' → ')}`);
});

test('10,000 decoders created mid-message and destroyed: memory flat; use after destroy is inert', () => {
  const partial = buildFrame({ opcode: OP.TEXT, payload: patternText(1000, 1), mask: KEY }).subarray(0, 300);
  const cycle = (n) => {
    for (let i = 0; i < n; i++) {
      const d = new Decoder({ onError: () => assert.fail('error') });
      d.push(partial);
      d.destroy();
    }
  };
  cycle(200);
  const m0 = mem();
  cycle(10000);
  assert.equal(mem(), m0, 'WebAssembly memory grew over 10,000 create/destroy cycles');
  // after destroy: push ignored, no throw, no corruption of a decoder that reuses the memory
  const a = recorder();
  a.d.push(partial);
  a.d.destroy();
  assert.equal(a.d.state, 'destroyed');
  const b = recorder();
  const text = patternText(5000, 9);
  const s = buildFrames(messageFrames({ payload: text, splits: [1000, 2000], mask: KEY }));
  b.d.push(s.subarray(0, 1500));
  assert.doesNotThrow(() => a.d.push(patternBytes(4000, 4)));
  assert.doesNotThrow(() => a.d.destroy());
  b.d.push(s.subarray(1500));
  assert.deepEqual(b.events, [['message', 'text', repr(text)]]);
  assert.deepEqual(a.events, []);
  b.d.destroy();
});

test('destroy() from inside a handler stops delivery and frees the decoder', () => {
  const frames = buildFrames(Array.from({ length: 5 }, (_, i) => ({ opcode: OP.BINARY, payload: patternBytes(100, i), mask: KEY })));
  let seen = 0;
  const d = new Decoder({
    onMessage: () => {
      seen++;
      d.destroy();
    },
  });
  d.push(frames);
  assert.equal(seen, 1);
  assert.equal(d.state, 'destroyed');
  const m0 = mem();
  const { d: e, events } = recorder();
  e.push(frames);
  assert.equal(events.length, 5);
  assert.equal(mem(), m0);
  e.destroy();
});

test('10,000 decoders dropped without destroy(): reclaimed after GC (FinalizationRegistry); memory flat over batches', (t) => {
  const child = fileURLToPath(new URL('./support/gc-child.mjs', import.meta.url));
  const env = { ...process.env };
  const r = spawnSync(process.execPath, ['--expose-gc', child], { encoding: 'utf8', env, timeout: 60000 });
  assert.equal(r.status, 0, `gc child failed (${r.status} ${r.signal})\n${r.stdout}\n${r.stderr}`);
  const res = JSON.parse(r.stdout.trim().split('\n').at(-1));
  t.diagnostic(`memoryBytes after each batch of 10,000 dropped decoders: ${res.after.join(', ')}`);
  assert.ok(res.gc, 'global.gc unavailable in the child');
  for (let i = 2; i < res.after.length; i++) {
    assert.ok(res.after[i] <= res.after[1], `memory kept growing across batches of dropped decoders: ${res.after.join(' → ')}`);
  }
});

test('per-decoder floor: 10,000 live idle decoders cost well under 1 KiB of WebAssembly memory each', (t) => {
  const m0 = mem();
  const live = [];
  for (let i = 0; i < 10000; i++) live.push(new Decoder({}));
  const per = (mem() - m0) / 10000;
  t.diagnostic(`WebAssembly memory per idle decoder: ≤ ${per.toFixed(0)} bytes (page-granular upper bound)`);
  assert.ok(per <= 1024, `${per} bytes per idle decoder`);
  for (const d of live) d.destroy();
  const m1 = mem();
  for (let i = 0; i < 10000; i++) live[i] = new Decoder({});
  assert.equal(mem(), m1, 'recreating 10,000 decoders after destroy() reuses the freed memory');
  for (const d of live) d.destroy();
});
