// The decoder's loop over runs of continuation frames (wasm/decoder.ts,
// runOfFragments) must decide exactly what the general per-frame path decides.
// Every stream here is decoded twice: in one push (runs of frames whole in the
// input take the loop) and one byte per push (nothing is ever whole in the
// input: the general path only). Events, their bytes and the statistics must
// be identical, for valid messages and for every rule a frame inside a run can
// break (RFC 6455 §5.1 masking, §5.2 RSV and opcodes, §5.4 fragmentation,
// §5.5 control frames, §8.1 UTF-8, the message and fragment limits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OP, buildFrame, concat, patternBytes, utf8 } from './support/frames.mjs';
import { loadOurs, repr } from './support/oracle.mjs';

const { Decoder } = await loadOurs();

function decode(stream, step, options) {
  const events = [];
  const d = new Decoder({
    ...options,
    onMessage: (data, binary) => events.push(['message', binary, repr(data)]),
    onPing: (data) => events.push(['ping', repr(data)]),
    onPong: (data) => events.push(['pong', repr(data)]),
    onClose: (code, reason) => events.push(['close', code, reason]),
    onError: (e) => events.push(['error', e.closeCode, e.code]),
  });
  for (let off = 0; off < stream.length; off += step) d.push(stream.subarray(off, off + step));
  const { frames, messages, bytesIn, bufferedBytes } = d.stats;
  d.destroy();
  // After a close or an error the rest of a push counts as read: bytesIn then depends on the chunking.
  const ended = events.some(([kind]) => kind === 'error' || kind === 'close');
  // Long text runs are validated by the host once per push (EV_UTF8), after
  // WebAssembly has counted their frames: those counts depend on the chunking too.
  const badText = events.some(([kind, code]) => kind === 'error' && code === 1007);
  return { events, stats: { bufferedBytes, ...(ended ? {} : { bytesIn }), ...(badText ? {} : { frames, messages }) } };
}

function sameBothWays(stream, options) {
  const whole = decode(stream, stream.length, options);
  const bytewise = decode(stream, 1, options);
  assert.deepEqual(whole, bytewise);
  return whole;
}

const KEY = new Uint8Array([0x9a, 0x01, 0xfe, 0x37]);

/** A fragmented message: first frame, `sizes.length` continuation frames, final frame; optional hazard frames spliced in. */
function fragmented({ binary = true, sizes, mask = KEY, insert = new Map(), text = null }) {
  const total = sizes.reduce((a, b) => a + b, 0) + 2;
  const payload = text ?? patternBytes(total, sizes.length + 1);
  const frames = [];
  let off = 0;
  const take = (n) => payload.subarray(off, (off += n));
  frames.push(buildFrame({ opcode: binary ? OP.BINARY : OP.TEXT, fin: false, payload: take(1), mask }));
  sizes.forEach((size, i) => {
    if (insert.has(i)) frames.push(insert.get(i));
    frames.push(buildFrame({ opcode: OP.CONT, fin: false, payload: take(size), mask }));
  });
  frames.push(buildFrame({ opcode: OP.CONT, fin: true, payload: payload.subarray(off), mask }));
  return { stream: concat(frames), payload };
}

test('a run of 7- and 16-bit continuation frames (empty ones too) is reassembled byte for byte, server and client role', () => {
  const sizes = [0, 1, 125, 126, 1024, 0, 0, 3, 65535, 7, 1024, 1024, 0];
  for (const role of ['server', 'client']) {
    const { stream, payload } = fragmented({ sizes, mask: role === 'server' ? KEY : null });
    const { events, stats } = sameBothWays(stream, { role });
    assert.deepEqual(events, [['message', true, repr(payload)]]);
    assert.equal(stats.frames, sizes.length + 2);
  }
});

test('a frame inside a run that breaks a rule fails the message as the general path does', () => {
  const hazards = {
    ping: [buildFrame({ opcode: OP.PING, payload: utf8('hi'), mask: KEY }), null],
    rsv1: [buildFrame({ opcode: OP.CONT, fin: false, rsv: 4, payload: new Uint8Array(5), mask: KEY }), 1002],
    rsv3: [buildFrame({ opcode: OP.CONT, fin: false, rsv: 1, payload: new Uint8Array(5), mask: KEY }), 1002],
    unmasked: [buildFrame({ opcode: OP.CONT, fin: false, payload: new Uint8Array(5) }), 1002],
    newMessage: [buildFrame({ opcode: OP.BINARY, fin: false, payload: new Uint8Array(5), mask: KEY }), 1002],
    reservedOpcode: [buildFrame({ opcode: 0x3, fin: false, payload: new Uint8Array(5), mask: KEY }), 1002],
    length64: [buildFrame({ opcode: OP.CONT, fin: false, payload: new Uint8Array(300), len: 64, mask: KEY }), null],
    fragmentedPing: [buildFrame({ opcode: OP.PING, fin: false, payload: new Uint8Array(2), mask: KEY }), 1002],
  };
  for (const [name, [frame, code]] of Object.entries(hazards)) {
    const { stream } = fragmented({ sizes: [1024, 1024, 1024, 1024], insert: new Map([[2, frame]]) });
    const { events } = sameBothWays(stream, { role: 'server' });
    const last = events.at(-1);
    if (code === null) assert.equal(last[0], 'message', name);
    else assert.deepEqual(last.slice(0, 2), ['error', code], name);
  }
});

test('the message limit and the fragment cap stop a run at the frame that crosses them', () => {
  const { stream } = fragmented({ sizes: Array(20).fill(1000) });
  for (const maxMessageSize of [5000, 5001, 5002, 19_999, 20_001, 20_002]) {
    const { events } = sameBothWays(stream, { role: 'server', maxMessageSize });
    assert.equal(events.at(-1)[0], maxMessageSize >= 20_002 ? 'message' : 'error', `maxMessageSize ${maxMessageSize}`);
  }
  for (const maxFragments of [1, 2, 5, 21, 22]) {
    const { events } = sameBothWays(stream, { role: 'server', maxFragments });
    assert.equal(events.at(-1)[0], maxFragments >= 22 ? 'message' : 'error', `maxFragments ${maxFragments}`);
  }
});

test('text in a run: valid text is delivered, an invalid byte in any frame fails with 1007', () => {
  const text = utf8('añ€😀'.repeat(800));
  const sizes = [1000, 1000, 1000, 1000, 1000];
  const valid = fragmented({ binary: false, sizes, text });
  assert.deepEqual(sameBothWays(valid.stream, { role: 'server' }).events, [['message', false, repr(text)]]);
  for (const at of [10, 1500, 2999, 4200]) {
    const bad = text.slice();
    bad[at] = 0xff;
    const { events } = sameBothWays(fragmented({ binary: false, sizes, text: bad }).stream, { role: 'server' });
    assert.deepEqual(events.at(-1).slice(0, 2), ['error', 1007], `invalid byte at ${at}`);
  }
});

test('property: random fragment runs with hazards decode the same in one push and byte by byte', () => {
  const hazard = fc.oneof(
    fc.constant(buildFrame({ opcode: OP.PONG, payload: new Uint8Array(3), mask: KEY })),
    fc.constant(buildFrame({ opcode: OP.CONT, fin: false, rsv: 2, payload: new Uint8Array(4), mask: KEY })),
    fc.constant(buildFrame({ opcode: OP.CONT, fin: false, payload: new Uint8Array(4) })),
    fc.constant(buildFrame({ opcode: OP.CONT, fin: true, payload: new Uint8Array(4), mask: KEY })),
    fc.constant(buildFrame({ opcode: OP.CLOSE, payload: new Uint8Array([0x03, 0xe8]), mask: KEY })),
  );
  fc.assert(fc.property(
    fc.array(fc.oneof(fc.integer({ min: 0, max: 140 }), fc.integer({ min: 126, max: 3000 })), { minLength: 1, maxLength: 40 }),
    fc.option(fc.tuple(fc.nat(), hazard)),
    fc.boolean(),
    fc.option(fc.integer({ min: 1, max: 40_000 })),
    (sizes, spliced, binary, maxMessageSize) => {
      const insert = spliced === null ? new Map() : new Map([[spliced[0] % sizes.length, spliced[1]]]);
      const { stream } = fragmented({ sizes, insert, binary, text: binary ? null : utf8('x'.repeat(sizes.reduce((a, b) => a + b, 0) + 2)) });
      sameBothWays(stream, { role: 'server', ...(maxMessageSize === null ? {} : { maxMessageSize }) });
    },
  ), { numRuns: 300 });
});
