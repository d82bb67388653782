// The JS<->WASM interface has one source, wasm/protocol.ts: these tests fail
// when the generated TypeScript side is stale, when an id or slot one side uses
// has no meaning on the other, or when a constant is copied by hand again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { generate } from '../scripts/gen-wasm-interface.mjs';
import { Decoder, isSendableCloseCode } from 'wsframe';
import { OP, buildFrame, closePayload } from './support/frames.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const read = (p) => readFileSync(path.join(root, p), 'utf8');
const iface = await import(new URL('../dist/core/generated/wasm-interface.js', import.meta.url));
const errors = await import(new URL('../dist/core/errors.js', import.meta.url));
const names = (prefix) => Object.keys(iface).filter((k) => k.startsWith(prefix));

test('generated interface is current: regenerating from wasm/protocol.ts gives the same text', () => {
  assert.equal(generate(read('wasm/protocol.ts')), read('codec/core/generated/wasm-interface.ts'),
    'run `npm run build:wasm` (scripts/gen-wasm-interface.mjs)');
});

test('every constant of wasm/protocol.ts reaches the built TypeScript with its value', () => {
  const src = read('wasm/protocol.ts');
  const consts = [...src.matchAll(/^export const ([A-Z][A-Z0-9_]*): \w+ = (0x[0-9A-Fa-f]+|\d+);/gm)];
  assert.ok(consts.length >= 40, `only ${consts.length} constants found`);
  for (const [, name, value] of consts) assert.equal(iface[name], Number(value), name);
  // Every exported const of protocol.ts is of the carried-over form (nothing silently left out).
  const all = [...src.matchAll(/^export const (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual(all, consts.map((m) => m[1]));
});

test('every error id maps to an error entry (by name), and ids are distinct', () => {
  const ids = names('ERR_').map((n) => iface[n]);
  assert.ok(ids.length >= 17);
  assert.equal(new Set(ids).size, ids.length, 'error ids are distinct');
  for (const n of names('ERR_')) {
    assert.ok(errors.isKnownErrorId(iface[n]), `${n} (${iface[n]}) has no entry in codec/core/errors.ts`);
    const e = errors.errorFromId(iface[n], 0);
    assert.ok(e.closeCode >= 1000 && e.closeCode <= 1014, `${n}: close code ${e.closeCode}`);
  }
  assert.equal(errors.isKnownErrorId(0), false);
});

test('the table layout and stat slots are what the WebAssembly module writes and answers', () => {
  const mod = new WebAssembly.Module(readFileSync(path.join(root, 'dist/wsframe.wasm')));
  const w = new WebAssembly.Instance(mod, { env: { abort() { throw new Error('abort'); } } }).exports;
  w._initialize();
  w.heapInit(w.heapStart());
  const state = w.createDecoder(0, 0, 1e6, 0, 0);
  const input = w.heapAlloc(4096);
  const table = w.heapAlloc(iface.TABLE_HEAD + 8 * iface.ENTRY_SIZE);
  // A client-role decoder, two unmasked frames: ping 'ab', binary 'xyz', and 3 bytes of a header.
  const frames = Buffer.concat([buildFrame({ opcode: OP.PING, payload: Buffer.from('ab') }), buildFrame({ opcode: OP.BINARY, payload: Buffer.from('xyz') }), Buffer.from([0x82, 0x7e, 0x01])]);
  new Uint8Array(w.memory.buffer).set(frames, input);
  const count = w.parse(state, input, frames.length, table, 8);
  const dv = new DataView(w.memory.buffer);
  const u32 = (at) => dv.getUint32(at, true);
  assert.equal(u32(table + iface.HEAD_COUNT), count);
  assert.equal(count, 2);
  assert.equal(u32(table + iface.HEAD_CONSUMED), frames.length);
  assert.equal(u32(table + iface.HEAD_YIELDED), 0);
  const entry = (i, f) => u32(table + iface.TABLE_HEAD + i * iface.ENTRY_SIZE + f);
  assert.equal(entry(0, iface.ENTRY_KIND) & 0xff, iface.EV_PING);
  assert.equal(entry(0, iface.ENTRY_LEN), 2);
  assert.equal(entry(0, iface.ENTRY_PTR), input + 2);
  assert.equal(entry(1, iface.ENTRY_KIND), iface.EV_MESSAGE | iface.FLAG_BINARY);
  assert.equal(entry(1, iface.ENTRY_LEN), 3);
  // Every stat slot the TypeScript reads exists; past STAT_COUNT there are none.
  const slots = names('STAT_').filter((n) => n !== 'STAT_COUNT');
  assert.equal(slots.length, iface.STAT_COUNT);
  const got = Object.fromEntries(slots.map((n) => [n, w.decoderStat(state, iface[n])]));
  assert.deepEqual(got, { STAT_FRAMES: 2, STAT_MESSAGES: 1, STAT_BYTES_IN: frames.length, STAT_BUFFERED: 3, STAT_PEAK_BUFFERED: 3 });
  assert.equal(w.decoderStat(state, iface.STAT_COUNT), -1);
  w.destroyDecoder(state);
});

test('one close-code rule: what the encoder may send is what the decoder accepts (RFC 6455 §7.4)', () => {
  for (let code = 0; code < 5200; code++) {
    let got = 'none';
    const d = new Decoder({ role: 'client', onClose: () => { got = 'close'; }, onError: (e) => { got = e.code; } });
    d.push(buildFrame({ opcode: OP.CLOSE, payload: closePayload(code) }));
    assert.equal(got, isSendableCloseCode(code) ? 'close' : 'WS_ERR_INVALID_CLOSE_CODE', `code ${code}`);
    d.destroy();
  }
  assert.equal(isSendableCloseCode(1000.5), false);
});

test('no hand copies: codec/ defines no EV_/FLAG_/ERR_/OP_/STAT_/ENTRY_/HEAD_ constant of its own', () => {
  const files = [];
  const walk = (dir) => {
    for (const f of readdirSync(path.join(root, dir))) {
      const p = path.join(dir, f);
      if (f === 'generated') continue;
      if (statSync(path.join(root, p)).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk('codec');
  const shared = new Set(Object.keys(iface));
  for (const f of files) {
    for (const m of read(f).matchAll(/\b(?:const|let)\s+([A-Z][A-Z0-9_]*)\s*=/g)) {
      assert.ok(!shared.has(m[1]), `${f} redefines ${m[1]}: import it from generated/wasm-interface.js`);
    }
    assert.doesNotMatch(read(f), /\bconst\s+(?:EV|FLAG|ERR)_[A-Z0-9_]+\s*=/, `${f}: a hand-copied wire constant`);
  }
});
