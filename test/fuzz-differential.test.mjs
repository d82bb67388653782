// Differential property tests: wsframe's Decoder vs ws's Receiver (oracle) vs a small RFC model.
//
//   ours  must equal  model(RFC)           — always
//   ws    must equal  model(WS)            — always (keeps the model honest)
//   ours  must equal  ws                   — whenever model(RFC) == model(WS)
// and where model(RFC) != model(WS) the difference must be one of the named, RFC-justified
// disagreements below ("RFC vs ws disagreements").
//
// Failures print a replay command (FC_SEED/FC_PATH), the shrunk stream as hex, and save it under
// fuzz-failures/. FC_RUNS_SCALE=10 multiplies every run count.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { createRequire } from 'node:module';
import {
  OP, MiB, arbCase, arbValidStream, buildFrame, buildFrames, closePayload, concat, hex, messageFrames,
  patternBytes, patternText, utf8, UTF8_INVALID, UTF8_VALID_EDGES,
} from './support/frames.mjs';
import { loadOurs, runOurs, runWs, runModel, RFC, WS, differentialCheck, formatEvents, repr, wsStatusCode } from './support/oracle.mjs';
import { checkProperty } from './support/prop.mjs';

const FILE = 'fuzz-differential.test.mjs';
const mod = await loadOurs();
const require = createRequire(import.meta.url);
const KEY = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

function optsOf(c) {
  return { role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments };
}

const stats = {};
const differential = (c) => differentialCheck(mod, c, stats);

describe('differential vs ws', () => {
  test('oracle harness: Receiver#_write gives the same events and close code as the public write()/"error" path', async () => {
    const streams = [
      buildFrames([{ opcode: OP.TEXT, payload: utf8('hi'), mask: KEY }, { opcode: 3, payload: utf8('x'), mask: KEY }]),
      buildFrames([{ opcode: OP.TEXT, payload: new Uint8Array([0xc0, 0x80]), mask: KEY }]),
      buildFrames([{ opcode: OP.BINARY, payload: patternBytes(10), mask: KEY, declared: 2n ** 40n }]),
      buildFrames([{ opcode: OP.PING, payload: utf8('p'), mask: KEY }, { opcode: OP.CLOSE, payload: closePayload(1000, 'bye'), mask: KEY }]),
    ];
    const { Receiver } = require('ws');
    for (const s of streams) {
      const events = [];
      const r = new Receiver({ isServer: true, maxPayload: 1000, binaryType: 'nodebuffer' });
      r.on('message', (d, b) => events.push(['message', b ? 'binary' : 'text', repr(d)]));
      r.on('ping', (p) => events.push(['ping', repr(p)]));
      r.on('conclude', (code, reason) => events.push(['close', code, reason.toString()]));
      const errored = new Promise((resolve) => r.on('error', (e) => resolve(e)));
      r.write(Buffer.from(s));
      const err = await Promise.race([errored, new Promise((resolve) => setTimeout(resolve, 50, null))]);
      if (err) events.push(['error', wsStatusCode(err)]);
      assert.deepEqual(runWs([s], { role: 'server', maxMessageSize: 1000 }).events, events, hex(s));
    }
  });

  test('test model reproduces ws exactly in ws mode (random streams)', () => {
    checkProperty('model-vs-ws', FILE, arbCase(), (c) => {
      const o = optsOf(c);
      const ws = runWs([c.bytes], o).events;
      const m = runModel(c.bytes, o, WS).events;
      if (!isDeepStrictEqual(ws, m)) throw new Error(`ws:\n${formatEvents(ws)}\nmodel:\n${formatEvents(m)}`);
    }, { numRuns: 1000 });
  });

  test('random frame sequences, valid and invalid: wsframe agrees with ws (or with the RFC where ws departs from it)', () => {
    const r = checkProperty('differential', FILE, arbCase(), differential, { numRuns: 4000 });
    console.log(`# differential: ${JSON.stringify({ ...stats, seed: r.seed })}`);
  });

  test('valid streams (both roles, fragmented, interleaved pings, all length encodings) decode identically', () => {
    checkProperty('differential-valid', FILE, arbValidStream({ maxItems: 8, maxSize: 70000 }), (c) => {
      const o = optsOf(c);
      const ours = runOurs(mod, [c.bytes], o).events;
      const ws = runWs([c.bytes], o).events;
      if (!isDeepStrictEqual(ours, ws)) throw new Error(`ours:\n${formatEvents(ours)}\nws:\n${formatEvents(ws)}`);
      if (ws.some((e) => e[0] === 'error')) throw new Error(`generator bug: ws rejected a valid stream\n${formatEvents(ws)}`);
    }, { numRuns: 400 });
  });
});

// ---------------------------------------------------------------------------------------------
// Deterministic vectors: each checked against ws AND an explicit expectation.

function both(bytes, opts, expected, label) {
  const ours = runOurs(mod, [bytes], opts).events;
  const ws = runWs([bytes], opts).events;
  assert.deepEqual(ws, expected, `ws (oracle) on ${label}: ${hex(bytes, 200)}`);
  assert.deepEqual(ours, expected, `wsframe on ${label}: ${hex(bytes, 200)}`);
}

describe('length encodings, agreeing with ws', () => {
  for (const role of ['server', 'client']) {
    const mask = role === 'server' ? KEY : null;
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 65537, 1 * MiB + 3]) {
      for (const binary of [true, false]) {
        test(`${role}: ${binary ? 'binary' : 'text'} ${n} bytes, minimal length`, () => {
          const payload = binary ? patternBytes(n, n + 1) : patternText(n, n + 1);
          both(buildFrame({ opcode: binary ? OP.BINARY : OP.TEXT, payload, mask }), { role }, [['message', binary ? 'binary' : 'text', repr(payload)]], `${n}`);
        });
      }
      for (const len of [16, 64]) {
        if (len === 16 && n > 0xffff) continue;
        if (n === 1 * MiB + 3) continue;
        test(`${role}: binary ${n} bytes, non-minimal ${len}-bit length (accepted, as by ws)`, () => {
          const payload = patternBytes(n, 9);
          both(buildFrame({ opcode: OP.BINARY, payload, mask, len }), { role }, [['message', 'binary', repr(payload)]], `${n}/${len}`);
        });
      }
    }
  }
  test('maxMessageSize boundary: exactly max passes, max+1 fails 1009 (single frame and summed fragments)', () => {
    const max = 1000;
    both(buildFrame({ opcode: OP.BINARY, payload: patternBytes(max), mask: KEY }), { maxMessageSize: max }, [['message', 'binary', repr(patternBytes(max))]], 'max');
    both(buildFrame({ opcode: OP.BINARY, payload: patternBytes(max + 1), mask: KEY }), { maxMessageSize: max }, [['error', 1009]], 'max+1');
    const p = patternBytes(max + 1);
    both(buildFrames(messageFrames({ binary: true, payload: p, splits: [400, 800], mask: KEY })), { maxMessageSize: max }, [['error', 1009]], 'fragments max+1');
    // the header alone is enough: no payload follows
    both(buildFrame({ opcode: OP.BINARY, declared: max + 1, mask: KEY }), { maxMessageSize: max }, [['error', 1009]], 'header only');
    // control frames do not count against maxMessageSize
    both(buildFrame({ opcode: OP.PING, payload: patternBytes(125), mask: KEY }), { maxMessageSize: 1 }, [['ping', repr(patternBytes(125))]], 'ping 125 vs max 1');
  });
  // maxMessageSize above 4 GiB (ws cannot express it: its maxPayload is an int32, so ws runs unlimited here)
  test('lengths of 2^32 bytes and more are never truncated to their low 32 bits (maxMessageSize 2^33)', () => {
    for (const role of ['client', 'server']) {
      const mask = role === 'server' ? KEY : null;
      for (const declared of [2n ** 32n, 2n ** 32n + 5n, 2n ** 40n, 2n ** 40n + 1n]) {
        const header = buildFrame({ opcode: OP.BINARY, declared, len: 64, mask });
        const low = Number(declared & 0xffffffffn);
        const body = patternBytes(low, 1);
        const ping = buildFrame({ opcode: OP.PING, payload: utf8('evil'), mask });
        // the frame is still incomplete after `low` bytes: nothing may be delivered, and the
        // bytes after them are payload, not a new frame
        for (const chunks of [[header], [header, body], [header, body, ping], [concat([header, body])], [concat([header, body, ping])]]) {
          const label = `${role} declared ${declared}, pushes of ${chunks.map((c) => c.length)}`;
          assert.deepEqual(runOurs(mod, chunks, { role, maxMessageSize: 2 ** 33 }).events, declared > 2n ** 33n ? [['error', 1009]] : [], label);
          assert.deepEqual(runOurs(mod, chunks, { role, maxMessageSize: 2 ** 53 }).events, [], label + ' (limit 2^53)');
          assert.deepEqual(runWs(chunks, { role, maxMessageSize: 0 }).events, [], label + ' (ws, unlimited)');
        }
      }
    }
  });
  test('64-bit lengths with the MSB clear beyond 2^53 and beyond maxMessageSize: 1009 at once', () => {
    for (const declared of [2n ** 31n, 2n ** 40n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 62n, 2n ** 63n - 1n]) {
      both(buildFrame({ opcode: OP.BINARY, declared, mask: KEY, len: 64 }), {}, [['error', 1009]], `declared ${declared}`);
    }
  });
});

describe('receiving rules, agreeing with ws (exact close codes)', () => {
  const M = KEY;
  const cases = [
    ['reserved opcodes 3-7, 0xB-0xF', [3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op) => buildFrame({ opcode: op, payload: utf8('x'), mask: M })), [['error', 1002]]],
    ['RSV1/RSV2/RSV3 without extension', [1, 2, 3, 4, 5, 6, 7].map((rsv) => buildFrame({ opcode: OP.TEXT, rsv, payload: utf8('x'), mask: M })), [['error', 1002]]],
    ['RSV bits on a control frame', [4, 2, 1].map((rsv) => buildFrame({ opcode: OP.PING, rsv, mask: M })), [['error', 1002]]],
    ['unmasked frame to a server', [buildFrame({ opcode: OP.TEXT, payload: utf8('x') })], [['error', 1002]]],
    ['control frame with 126 bytes', [buildFrame({ opcode: OP.PING, payload: patternBytes(126), mask: M })], [['error', 1002]]],
    ['control frame with 7-bit field 126 (non-minimal 16-bit length of 5)', [buildFrame({ opcode: OP.PONG, payload: patternBytes(5), mask: M, len: 16 })], [['error', 1002]]],
    ['fragmented control frames', [OP.PING, OP.PONG, OP.CLOSE].map((op) => buildFrame({ opcode: op, fin: false, mask: M })), [['error', 1002]]],
    ['continuation without a started message', [buildFrame({ opcode: OP.CONT, payload: utf8('x'), mask: M }), buildFrame({ opcode: OP.CONT, fin: false, mask: M })], [['error', 1002]]],
    ['new data frame inside a fragmented message', [
      buildFrames([{ opcode: OP.TEXT, fin: false, payload: utf8('a'), mask: M }, { opcode: OP.TEXT, payload: utf8('b'), mask: M }]),
      buildFrames([{ opcode: OP.BINARY, fin: false, payload: utf8('a'), mask: M }, { opcode: OP.BINARY, fin: false, mask: M }]),
      buildFrames([{ opcode: OP.TEXT, fin: false, mask: M }, { opcode: OP.BINARY, mask: M }]),
    ], [['error', 1002]]],
    ['close payload of 1 byte', [buildFrame({ opcode: OP.CLOSE, payload: new Uint8Array([3]), mask: M })], [['error', 1002]]],
    ['invalid UTF-8 in text', UTF8_INVALID_ALL_FRAMES(), [['error', 1007]]],
    ['invalid UTF-8 in close reason', Object.values(UTF8_INVALID).flat().map((b) => buildFrame({ opcode: OP.CLOSE, payload: concat([closePayload(1000), b]), mask: M })), [['error', 1007]]],
  ];
  for (const [name, streams, expected] of cases) {
    test(name, () => {
      for (const s of streams) both(s, { role: 'server' }, expected, name);
    });
  }
  test('a masked frame to a client', () => {
    both(buildFrame({ opcode: OP.TEXT, payload: utf8('x'), mask: KEY }), { role: 'client' }, [['error', 1002]], 'masked to client');
  });
  test('close codes (§7.4.1, §7.4.2): every code 0..5000 plus 65535, with and without reason', () => {
    const valid = (c) => (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
    for (let code = 0; code <= 5001; code++) {
      const exp = valid(code) ? [['close', code, code & 1 ? 'bye' : '']] : [['error', 1002]];
      both(buildFrame({ opcode: OP.CLOSE, payload: closePayload(code, code & 1 ? 'bye' : ''), mask: KEY }), {}, exp, `close ${code}`);
    }
    both(buildFrame({ opcode: OP.CLOSE, payload: closePayload(65535), mask: KEY }), {}, [['error', 1002]], 'close 65535');
    both(buildFrame({ opcode: OP.CLOSE, mask: KEY }), {}, [['close', 1005, '']], 'empty close');
    const reason = patternText(123, 5);
    both(buildFrame({ opcode: OP.CLOSE, payload: closePayload(4000, reason), mask: KEY }), {}, [['close', 4000, Buffer.from(reason).toString()]], '125-byte close');
  });
  test('close reason is delivered exactly, including a leading U+FEFF (BOM) and U+0000', () => {
    for (const reason of ['\uFEFF', '\uFEFFbye', '\uFEFF\uFEFF', '\u0000', 'a\uFEFF', '\uFFFF']) {
      both(buildFrame({ opcode: OP.CLOSE, payload: closePayload(1000, reason), mask: KEY }), {}, [['close', 1000, reason]], `reason ${JSON.stringify(reason)}`);
    }
  });
  test('text messages starting with U+FEFF keep their bytes', () => {
    const t = utf8('\uFEFFhi');
    both(buildFrame({ opcode: OP.TEXT, payload: t, mask: KEY }), {}, [['message', 'text', hex(t)]], 'BOM text');
  });
  test('valid UTF-8 edge code points, whole and split across fragments at every byte', () => {
    const text = concat([...UTF8_VALID_EDGES, utf8('ok')]);
    for (let cut = 0; cut <= text.length; cut++) {
      for (let cut2 = cut; cut2 <= text.length; cut2 += 3) {
        both(buildFrames(messageFrames({ payload: text, splits: [cut, cut2], mask: KEY })), {}, [['message', 'text', repr(text)]], `cut ${cut},${cut2}`);
      }
    }
  });
  test('control frames interleaved in a fragmented message are delivered in wire order', () => {
    const s = buildFrames([
      { opcode: OP.TEXT, fin: false, payload: new Uint8Array([0xe2, 0x82]), mask: KEY },
      { opcode: OP.PING, payload: utf8('1'), mask: KEY },
      { opcode: OP.CONT, fin: false, payload: new Uint8Array([0xac]), mask: KEY },
      { opcode: OP.PONG, payload: utf8('2'), mask: KEY },
      { opcode: OP.PING, mask: KEY },
      { opcode: OP.CONT, fin: true, payload: utf8('!'), mask: KEY },
    ]);
    both(s, {}, [['ping', hex(utf8('1'))], ['pong', hex(utf8('2'))], ['ping', ''], ['message', 'text', hex(utf8('€!'))]], 'interleaved');
  });
});

function UTF8_INVALID_ALL_FRAMES() {
  const out = [];
  for (const bad of Object.values(UTF8_INVALID).flat()) {
    out.push(buildFrame({ opcode: OP.TEXT, payload: concat([utf8('ok'), bad]), mask: KEY }));
    out.push(buildFrame({ opcode: OP.TEXT, payload: concat([bad, utf8('ok')]), mask: KEY }));
    out.push(buildFrames(messageFrames({ payload: concat([utf8('a'), bad, utf8('b')]), splits: [1, 2], mask: KEY })));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Where the RFC and ws disagree, wsframe follows the RFC. One named test per case.

describe('RFC vs ws disagreements (wsframe follows the RFC)', () => {
  const M = KEY;
  function disagree(bytes, opts, { ours: expOurs, ws: expWs }) {
    const ws = runWs([bytes], opts).events;
    const ours = runOurs(mod, [bytes], opts).events;
    assert.deepEqual(ws, expWs, `ws behaviour changed? ${hex(bytes, 200)}`);
    assert.deepEqual(ours, expOurs, `wsframe on ${hex(bytes, 200)}`);
    assert.deepEqual(runModel(bytes, opts, RFC).events, expOurs, 'RFC model');
    assert.deepEqual(runModel(bytes, opts, WS).events, expWs, 'ws model');
  }

  // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds that the byte
  // stream is not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
  // Connection_. This rule applies both during the opening handshake and during subsequent data
  // exchange." and §5.6 (text payload "is encoded as UTF-8"). wsframe validates incrementally and
  // fails at the first byte that cannot start/continue a valid sequence; ws validates only the
  // reassembled message, so whatever else goes wrong later in the message wins in ws.
  test('§8.1 fail-fast UTF-8: invalid first fragment, then a new data frame inside the message → ours 1007, ws 1002', () => {
    disagree(buildFrames([
      { opcode: OP.TEXT, fin: false, payload: new Uint8Array([0x61, 0xc0, 0x80]), mask: M },
      { opcode: OP.BINARY, payload: utf8('x'), mask: M },
    ]), {}, { ours: [['error', 1007]], ws: [['error', 1002]] });
  });
  test('§8.1 fail-fast UTF-8: invalid first fragment, then a control frame → ours fails before the ping, ws delivers it', () => {
    disagree(buildFrames([
      { opcode: OP.TEXT, fin: false, payload: new Uint8Array([0xed, 0xa0, 0x80]), mask: M },
      { opcode: OP.PING, payload: utf8('p'), mask: M },
      { opcode: OP.CONT, payload: utf8('x'), mask: M },
    ]), {}, { ours: [['error', 1007]], ws: [['ping', hex(utf8('p'))], ['error', 1007]] });
  });
  test('§8.1 fail-fast UTF-8: invalid bytes in a message whose rest never arrives → ours 1007, ws nothing', () => {
    disagree(buildFrames([{ opcode: OP.TEXT, fin: false, payload: new Uint8Array([0xf4, 0x90, 0x80, 0x80]), mask: M }]), {}, { ours: [['error', 1007]], ws: [] });
    // even inside one frame whose payload is still incomplete
    const f = buildFrame({ opcode: OP.TEXT, payload: concat([new Uint8Array([0x41, 0xff]), patternText(200)]), mask: M });
    disagree(f.subarray(0, 20), {}, { ours: [['error', 1007]], ws: [] });
  });
  test('§8.1 fail-fast UTF-8: invalid first fragment, then an oversized fragment header → ours 1007, ws 1009', () => {
    disagree(buildFrames([
      { opcode: OP.TEXT, fin: false, payload: new Uint8Array([0x80]), mask: M },
      { opcode: OP.CONT, declared: 2n ** 40n, len: 64, mask: M },
    ]), {}, { ours: [['error', 1007]], ws: [['error', 1009]] });
  });
  test('§8.1 fail-fast UTF-8: invalid first fragment, then fragment count over maxFragments → ours 1007, ws 1008', () => {
    disagree(buildFrames([
      { opcode: OP.TEXT, fin: false, payload: new Uint8Array([0xc1, 0xbf]), mask: M },
      { opcode: OP.CONT, fin: false, payload: utf8('a'), mask: M },
      { opcode: OP.CONT, payload: utf8('b'), mask: M },
    ]), { maxFragments: 2 }, { ours: [['error', 1007]], ws: [['error', 1008]] });
  });

  // RFC 6455 §5.2, Payload length: "If 127, the following 8 bytes interpreted as a 64-bit unsigned
  // integer (the most significant bit MUST be 0) are the payload length." A frame violating a MUST
  // of the framing is a protocol error (1002, §7.4.1). ws reports 1009 ("payload length > 2^53 - 1").
  test('§5.2 64-bit length with the most significant bit set → ours 1002, ws 1009', () => {
    for (const declared of [2n ** 63n, 2n ** 63n + 5n, 2n ** 64n - 1n]) {
      disagree(buildFrame({ opcode: OP.BINARY, declared, len: 64, mask: M }), {}, { ours: [['error', 1002]], ws: [['error', 1009]] });
      disagree(buildFrame({ opcode: OP.BINARY, declared, len: 64 }), { role: 'client' }, { ours: [['error', 1002]], ws: [['error', 1009]] });
    }
  });

  // RFC 6455 §10.4 (Implementation-Specific Limits): "Implementations that have implementation- and/or
  // platform-specific limitations regarding the frame size or total message size after reassembly
  // from multiple frames MUST protect themselves against exceeding those limits." The RFC does not
  // say when; wsframe enforces every limit from the frame header (like maxMessageSize in both), ws
  // counts fragments only after each fragment's payload has arrived.
  test('§10.4 maxFragments enforced from the header: over-limit fragment whose payload has not arrived → ours 1008, ws nothing yet', () => {
    const s = buildFrames([
      { opcode: OP.BINARY, fin: false, payload: utf8('a'), mask: M },
      { opcode: OP.CONT, fin: false, payload: utf8('b'), mask: M },
      { opcode: OP.CONT, payload: patternBytes(1000), mask: M },
    ]);
    disagree(s.subarray(0, s.length - 500), { maxFragments: 2 }, { ours: [['error', 1008]], ws: [] });
    both(s, { maxFragments: 2 }, [['error', 1008]], 'complete stream: both 1008');
  });
  test('§10.4 + §8.1: over-limit fragment carrying invalid UTF-8 → ours 1008 (header first), ws 1008; truncated → ours 1008, ws nothing', () => {
    const s = buildFrames([
      { opcode: OP.TEXT, fin: false, payload: utf8('a'), mask: M },
      { opcode: OP.CONT, payload: new Uint8Array([0xff, 0x41, 0x42]), mask: M },
    ]);
    both(s, { maxFragments: 1 }, [['error', 1008]], 'both 1008');
    disagree(s.subarray(0, s.length - 2), { maxFragments: 1 }, { ours: [['error', 1008]], ws: [] });
  });

  // Not disagreements, pinned so a change on either side shows up.
  test('agreement: neither ws 8 nor wsframe caps fragments by default (10,000 fragments delivered)', () => {
    const payload = patternBytes(10000, 4);
    const s = buildFrames(messageFrames({ binary: true, payload, splits: Array.from({ length: 9999 }, (_, i) => i + 1), mask: M }));
    both(s, {}, [['message', 'binary', repr(payload)]], '10k fragments');
    both(s, { maxFragments: 10000 }, [['message', 'binary', repr(payload)]], '10k fragments, cap 10000');
    both(s, { maxFragments: 9999 }, [['error', 1008]], '10k fragments, cap 9999');
  });
  test('agreement: input after a close frame is ignored by both (even garbage and further closes)', () => {
    const s = concat([
      buildFrame({ opcode: OP.CLOSE, payload: closePayload(1000, 'done'), mask: M }),
      buildFrame({ opcode: OP.TEXT, payload: utf8('late'), mask: M }),
      new Uint8Array([0xff, 0xff, 0xff]),
    ]);
    both(s, {}, [['close', 1000, 'done']], 'after close');
    const ours = runOurs(mod, [s.subarray(0, 8), s.subarray(8)], {});
    assert.deepEqual(ours.events, [['close', 1000, 'done']]);
  });
});
