// Mutation fuzzing of valid streams (bit flips, byte sets, truncations, insertions, deletions,
// duplications). Fixed iteration count here; the long run is `npm run fuzz`.
//
// Invariants on every mutated stream:
//   - push() never throws (whole stream and random chunking), never hangs (test timeout)
//   - events equal the RFC model's and, where no RFC-justified difference applies, ws's
//   - every event of the clean stream that completed before the first mutated byte is reproduced
//   - at most one error/close, and nothing after it
//   - a fresh decoder afterwards decodes a valid stream exactly (all decoders share one WASM
//     memory), and a long-lived decoder kept mid-message across all iterations is not disturbed
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { OP, buildFrames, concat, messageFrames, patternBytes, patternText, utf8 } from './support/frames.mjs';
import { loadOurs, runOurs, runModel, RFC, repr } from './support/oracle.mjs';
import { arbMutated, checkMutated, describeMutated, mutatedRecord } from './support/mutation.mjs';
import { checkProperty } from './support/prop.mjs';

const FILE = 'mutation.test.mjs';
const mod = await loadOurs();
const KEY = new Uint8Array([9, 8, 7, 6]);

test('mutated valid streams: no throw, RFC/ws-consistent events, prefix kept, single terminal event, no cross-decoder corruption', () => {
  // A decoder that lives across all iterations, mid-message, fed one slice per iteration.
  const longText = patternText(200000, 5);
  const longStream = buildFrames(messageFrames({ payload: longText, splits: Array.from({ length: 199 }, (_, i) => (i + 1) * 1000), mask: KEY }));
  const longEvents = [];
  const longLived = new mod.Decoder({
    role: 'server',
    onMessage: (d, b) => longEvents.push(['message', b ? 'binary' : 'text', repr(d)]),
    onError: (e) => longEvents.push(['error', e.closeCode]),
  });
  let fed = 0;
  const tally = {};
  const r = checkProperty('mutation', FILE, arbMutated, (c) => {
    checkMutated(mod, c, tally);
    if (fed < longStream.length) {
      const n = Math.min(longStream.length - fed, 97 + (fed % 300));
      longLived.push(longStream.subarray(fed, fed + n));
      fed += n;
    }
  }, {
    numRuns: 5000,
    describe: describeMutated,
    toRecord: mutatedRecord,
  });
  longLived.push(longStream.subarray(fed));
  assert.deepEqual(longEvents, [['message', 'text', repr(longText)]], 'long-lived decoder corrupted by the fuzzed ones');
  console.log(`# mutation: ${r.runs} inputs, seed ${r.seed}, outcomes ${JSON.stringify(tally)}`);
});

test('truncation at every offset of a valid stream: no events invented, no error (a prefix is not an error)', () => {
  const s = buildFrames([
    { opcode: OP.TEXT, fin: false, payload: utf8('héllo wörld €𝄞'), mask: KEY },
    { opcode: OP.PING, payload: utf8('p'), mask: KEY },
    { opcode: OP.CONT, payload: utf8(' ✓'), mask: KEY },
    { opcode: OP.BINARY, payload: patternBytes(300), mask: KEY, len: 64 },
    { opcode: OP.CLOSE, payload: concat([new Uint8Array([0x03, 0xe8]), utf8('bye')]), mask: KEY },
  ]);
  const full = runModel(s, {}, RFC);
  for (let i = 0; i <= s.length; i++) {
    const got = runOurs(mod, [s.subarray(0, i)], {}).events;
    const k = full.ends.filter((e) => e <= i).length;
    assert.deepEqual(got, full.events.slice(0, k), `prefix of ${i} bytes`);
  }
});

test('npm run fuzz (short, in a watchdog process): mixed inputs, exits 0; a hang or crash would fail it', () => {
  const runner = fileURLToPath(new URL('./fuzz/run.mjs', import.meta.url));
  const seed = String((Date.now() ^ (Math.random() * 0x7fffffff)) | 0);
  const r = spawnSync(process.execPath, [runner, '--iterations', '3000', '--seed', seed, '--hang-ms', '15000'], { encoding: 'utf8', timeout: 120000 });
  assert.equal(r.status, 0, `fuzz runner failed (status ${r.status}, signal ${r.signal})\n${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /OK: 3000 inputs/);
});
