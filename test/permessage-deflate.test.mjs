// permessage-deflate (RFC 7692): the sans-I/O negotiation (exact header
// strings), and the session inside a Connection with node:zlib (bytes on the
// wire, close codes, inflated sizes counted through the injected provider).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import v8 from 'node:v8';
import { randomBytes } from 'node:crypto';
import vm from 'node:vm';
import {
  Connection, Encoder, PerMessageDeflate, acceptDeflateOffer, buildDeflateOffer, parseExtensions,
  resolvePerMessageDeflate, verifyDeflateResponse, verifyUpgradeResponse, acceptKey, zlibProvider,
} from 'wsframe';
import { DeflatePeer } from './support/autobahn-deflate.mjs';
import { utf8TestSequences } from './support/autobahn.mjs';
import { isUtf8 } from 'node:buffer';

const { Z_SYNC_FLUSH } = zlib.constants;
const TAIL = Buffer.from([0, 0, 0xff, 0xff]);
const on = (o = {}) => resolvePerMessageDeflate(o, true);
const bytes = (chunks) => Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));

// ---------------------------------------------------------------------------- negotiation
describe('permessage-deflate negotiation: server (RFC 7692 §5, §7.1)', () => {
  test('off (the accept() default) or no offer: declined, no response header', () => {
    assert.equal(acceptDeflateOffer('permessage-deflate', null), null);
    assert.equal(acceptDeflateOffer(undefined, on()), null);
    assert.equal(acceptDeflateOffer('x-webkit-deflate-frame', on()), null);
    assert.equal(resolvePerMessageDeflate(undefined, false), null);
  });

  test('plain offer accepted as is', () => {
    assert.equal(acceptDeflateOffer('permessage-deflate', on()).response, 'permessage-deflate');
  });

  test("Chromium's offer (value-less client_max_window_bits) is accepted without answering it", () => {
    const a = acceptDeflateOffer('permessage-deflate; client_max_window_bits', on());
    assert.equal(a.response, 'permessage-deflate');
    assert.deepEqual(a.params, { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined });
  });

  test('value-less client_max_window_bits answered with the configured window', () => {
    assert.equal(acceptDeflateOffer('permessage-deflate; client_max_window_bits', on({ clientMaxWindowBits: 10 })).response,
      'permessage-deflate; client_max_window_bits=10');
  });

  test('client_max_window_bits not offered: never answered (§7.1.2.2)', () => {
    assert.equal(acceptDeflateOffer('permessage-deflate', on({ clientMaxWindowBits: 10 })).response, 'permessage-deflate');
  });

  test('every parameter: server window is the smaller of offer and option; takeovers echoed', () => {
    const a = acceptDeflateOffer(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11',
      on({ serverMaxWindowBits: 10 }),
    );
    assert.equal(a.response, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11');
    assert.equal(acceptDeflateOffer('permessage-deflate; server_max_window_bits=9', on({ serverMaxWindowBits: 12 })).response,
      'permessage-deflate; server_max_window_bits=9');
  });

  test('server options apply without being offered', () => {
    assert.equal(acceptDeflateOffer('permessage-deflate', on({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11 })).response,
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11');
  });

  test('several offers: the first acceptable one wins; invalid ones are declined', () => {
    const offers = [
      'permessage-deflate; server_max_window_bits=7',  // out of range
      'permessage-deflate; server_max_window_bits=16',  // out of range
      'permessage-deflate; server_max_window_bits',  // needs a value
      'permessage-deflate; client_max_window_bits=08x',  // not a number
      'permessage-deflate; server_no_context_takeover=1',  // takes no value
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover',  // repeated
      'permessage-deflate; mystery',  // unknown
      'permessage-deflate; server_max_window_bits="10"',  // quoted: fine (§7.1)
      'permessage-deflate',
    ].join(', ');
    assert.equal(acceptDeflateOffer(offers, on()).response, 'permessage-deflate; server_max_window_bits=10');
  });

  test('nothing acceptable, or a malformed header: declined', () => {
    assert.equal(acceptDeflateOffer('permessage-deflate; foo=1, permessage-deflate; server_max_window_bits=99', on()), null);
    assert.equal(acceptDeflateOffer('permessage-deflate; server_max_window_bits="1', on()), null);
    assert.equal(acceptDeflateOffer('permessage-deflate;; x', on()), null);
  });

  test('parseExtensions: quoted values, case, empty elements', () => {
    assert.deepEqual(parseExtensions('Permessage-Deflate; Client_Max_Window_Bits="15" ,, foo'), [
      { name: 'permessage-deflate', params: [['client_max_window_bits', '15']] },
      { name: 'foo', params: [] },
    ]);
    assert.equal(parseExtensions('a; b="c d"'), null);  // a quoted value must be a token
  });
});

describe('permessage-deflate negotiation: client (RFC 7692 §7.1)', () => {
  test('the offer: value-less client_max_window_bits by default, options as parameters', () => {
    assert.equal(buildDeflateOffer(on()), 'permessage-deflate; client_max_window_bits');
    assert.equal(buildDeflateOffer(on({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9 })),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9');
  });

  test('responses accepted', () => {
    assert.deepEqual(verifyDeflateResponse(undefined, on()), { ok: true, params: null });
    assert.deepEqual(verifyDeflateResponse('permessage-deflate; server_max_window_bits=10; client_max_window_bits=9', on()), {
      ok: true,
      params: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 10, clientMaxWindowBits: 9 },
    });
    assert.equal(verifyDeflateResponse('permessage-deflate; client_no_context_takeover', on()).params.clientNoContextTakeover, true);
  });

  const fails = [
    ['permessage-deflate', null, /not offered/],
    ['foo', on(), /not offered/],
    ['permessage-deflate, permessage-deflate', on(), /more than once/],
    ['permessage-deflate; mystery', on(), /unknown parameter/],
    ['permessage-deflate; server_max_window_bits=10; server_max_window_bits=10', on(), /repeated/],
    ['permessage-deflate; server_max_window_bits=16', on(), /8\.\.15/],
    ['permessage-deflate; client_max_window_bits', on(), /needs a value/],
    ['permessage-deflate; server_max_window_bits=12', on({ serverMaxWindowBits: 10 }), /larger than offered/],
    ['permessage-deflate; client_max_window_bits=12', on({ clientMaxWindowBits: 10 }), /larger than offered/],
    ['permessage-deflate', on({ serverNoContextTakeover: true }), /server_no_context_takeover/],
    ['permessage-deflate; x="', on(), /Invalid/],
  ];
  for (const [header, offered, reason] of fails) {
    test(`fails the connection: ${header}${offered === null ? ' (nothing offered)' : ''}`, () => {
      const v = verifyDeflateResponse(header, offered);
      assert.equal(v.ok, false);
      assert.match(v.reason, reason);
    });
  }

  test('verifyUpgradeResponse carries the agreement, and refuses an extension not offered', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const response = (ext) => ({
      statusCode: 101,
      headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': acceptKey(key), ...(ext ? { 'sec-websocket-extensions': ext } : {}) },
    });
    assert.equal(verifyUpgradeResponse(response('permessage-deflate'), key, []).ok, false);
    const v = verifyUpgradeResponse(response('permessage-deflate; server_no_context_takeover'), key, [], on());
    assert.equal(v.ok, true);
    assert.equal(v.deflate.serverNoContextTakeover, true);
    assert.equal(verifyUpgradeResponse(response(), key, [], on()).deflate, null);
  });

  test('option validation', () => {
    assert.throws(() => resolvePerMessageDeflate({ serverMaxWindowBits: 7 }, true), RangeError);
    assert.throws(() => resolvePerMessageDeflate({ clientMaxWindowBits: 16 }, true), RangeError);
    assert.throws(() => resolvePerMessageDeflate({ level: 10 }, true), RangeError);
    assert.throws(() => resolvePerMessageDeflate({ threshold: -1 }, true), RangeError);
    assert.equal(resolvePerMessageDeflate(undefined, true).threshold, 1024);
    assert.equal(resolvePerMessageDeflate(false, true), null);
  });
});

// ---------------------------------------------------------------------------- the session in a Connection

/** zlib, with the inflated output counted: the bomb tests assert on it. */
function countingProvider() {
  const base = zlibProvider();
  const counter = { inflated: 0, inflaters: 0, deflaters: 0, closed: 0 };
  return {
    counter,
    createDeflater(o) {
      counter.deflaters++;
      const d = base.createDeflater(o);
      return { deflate: (x) => d.deflate(x), reset: () => d.reset(), close: () => { counter.closed++; d.close(); } };
    },
    createInflater(o) {
      counter.inflaters++;
      const i = base.createInflater(o);
      return {
        inflate: (x, out, tail) => i.inflate(x, (chunk) => { counter.inflated += chunk.length; return out(chunk); }, tail),
        reset: () => i.reset(),
        close: () => { counter.closed++; i.close(); },
      };
    },
  };
}

const NONE = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined };

/** A server Connection with permessage-deflate agreed; every event logged. */
function server({ params = NONE, options = {}, connection = {}, provider = countingProvider() } = {}) {
  const log = [];
  const writes = [];
  const session = new PerMessageDeflate('server', params, on(options), provider);
  const conn = new Connection({
    role: 'server',
    open: true,
    compression: session,
    onWrite: (chunks) => writes.push(bytes(chunks)),
    onShutdown: (how) => log.push(['shutdown', how]),
    onMessage: (data, binary) => log.push(['message', Buffer.from(data), binary]),
    onProtocolError: (error) => log.push(['error', error.closeCode, error.code]),
    onClosed: (code) => log.push(['closed', code]),
    ...connection,
  });
  return { conn, log, writes, session, counter: provider.counter };
}

/** What a client sends: the payload deflated (one-shot, sync flush, tail removed). */
function deflated(data, options = {}) {
  const out = zlib.deflateRawSync(data, { finishFlush: Z_SYNC_FLUSH, ...options });
  assert.ok(out.subarray(-4).equals(TAIL));
  return out.subarray(0, out.length - 4);
}
const client = () => new Encoder({ role: 'client', randomFill: (b) => b.fill(7) });
/** A compressed message as client frames (RSV1 on the first frame). */
const compressedFrames = (data, { binary = false, fragmentSize = 0 } = {}) =>
  bytes(client().message(deflated(data), { binary, fragmentSize, rsv1: true }));
/** Unmasked server frames -> [{ b0, payload }]. */
function parseServerFrames(buf) {
  const frames = [];
  for (let i = 0; i < buf.length;) {
    const b0 = buf[i];
    let len = buf[i + 1] & 0x7f;
    let o = i + 2;
    if (len === 126) { len = buf.readUInt16BE(o); o += 2; } else if (len === 127) { len = Number(buf.readBigUInt64BE(o)); o += 8; }
    frames.push({ b0, payload: buf.subarray(o, o + len) });
    i = o + len;
  }
  return frames;
}
const inflate = (payload) => zlib.inflateRawSync(Buffer.concat([payload, TAIL]), { finishFlush: Z_SYNC_FLUSH });
const messages = (log) => log.filter((e) => e[0] === 'message').map((e) => [e[1].toString('latin1'), e[2]]);

describe('permessage-deflate: receiving', () => {
  test('a compressed text message is inflated (tail appended, §7.2.2); a plain one passes as is', () => {
    const { conn, log } = server();
    conn.push(compressedFrames(Buffer.from('Hello, Hello, Hello!')));
    conn.push(bytes(client().message('plain')));
    assert.deepEqual(messages(log), [['Hello, Hello, Hello!', false], ['plain', false]]);
  });

  test('context takeover: a message referring to the previous one inflates', () => {
    const { conn, log } = server();
    const d = zlib.createDeflateRaw();
    const piece = (text) => new Promise((resolve) => {
      const parts = [];
      d.on('data', (x) => parts.push(x));
      d.write(text);
      d.flush(Z_SYNC_FLUSH, () => { d.removeAllListeners('data'); const b = Buffer.concat(parts); resolve(b.subarray(0, b.length - 4)); });
    });
    return (async () => {
      const text = 'context takeover, context takeover, context takeover!';
      const first = await piece(text);
      const second = await piece(text);
      assert.ok(second.length < first.length / 2, 'the second message refers back to the first');
      conn.push(bytes(client().message(first, { binary: false, rsv1: true })));
      conn.push(bytes(client().message(second, { binary: false, rsv1: true })));
      d.close();
      assert.deepEqual(messages(log), [[text, false], [text, false]]);
    })();
  });

  test('fragmented compressed message, binary, 300 KiB', () => {
    const { conn, log } = server();
    const data = Buffer.alloc(300 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 251;
    conn.push(compressedFrames(data, { binary: true, fragmentSize: 1000 }));
    assert.equal(log.length, 1);
    assert.equal(log[0][2], true);
    assert.ok(log[0][1].equals(data));
  });

  test('streaming (onFragment): inflated pieces, fin on the last, bytes equal', () => {
    const pieces = [];
    const { conn } = server({ connection: { onFragment: (data, binary, fin) => pieces.push([Buffer.from(data), binary, fin]) } });
    const text = Buffer.from('é'.repeat(200_000));
    conn.push(compressedFrames(text, { fragmentSize: 4096 }));
    assert.ok(pieces.length > 2);
    assert.deepEqual(pieces.map((p) => p[2]), pieces.map((_, i) => i === pieces.length - 1));
    assert.ok(Buffer.concat(pieces.map((p) => p[0])).equals(text));
  });

  test('inflated text that is not UTF-8 fails with 1007; multi-byte characters across pieces pass', () => {
    const ok = server();
    ok.conn.push(compressedFrames(Buffer.from('ü€😀'.repeat(40_000)), { fragmentSize: 333 }));
    assert.equal(ok.log[0][0], 'message');
    const bad = server();
    bad.conn.push(compressedFrames(Buffer.concat([Buffer.from('a'.repeat(100_000)), Buffer.from([0xc0, 0xaf])])));
    assert.deepEqual(bad.log.filter((e) => e[0] === 'error'), [['error', 1007, 'WS_ERR_INVALID_UTF8']]);
    const cut = server();
    cut.conn.push(compressedFrames(Buffer.from([0x61, 0xe2, 0x82])));  // ends inside a code point
    assert.deepEqual(cut.log.filter((e) => e[0] === 'error'), [['error', 1007, 'WS_ERR_INVALID_UTF8']]);
    assert.equal(cut.writes.at(-1).toString('hex'), '880203ef');
  });

  test('a message ended by a BFINAL block (RFC 7692 §7.2.3.4) inflates, and so do the ones after it', () => {
    const { conn, log } = server();
    const final = zlib.deflateRawSync(Buffer.from('ended with BFINAL, ended with BFINAL'));  // Z_FINISH: BFINAL=1, no tail
    conn.push(bytes(client().message(final, { binary: false, rsv1: true })));
    conn.push(compressedFrames(Buffer.from('next one')));
    conn.push(bytes(client().message(zlib.deflateRawSync(Buffer.from('x')), { binary: false, rsv1: true })));
    conn.push(compressedFrames(Buffer.from('and another')));
    assert.deepEqual(messages(log), [['ended with BFINAL, ended with BFINAL', false], ['next one', false], ['x', false], ['and another', false]]);
  });

  test('any read boundaries: 300 messages with context takeover, wire bytes pushed in random chunks', () => {
    const { conn, log } = server();
    const peer = new DeflatePeer(NONE, 'client');  // the test's own compressor (one-shot zlib + dictionary)
    const sent = [];
    const wire = [];
    let seed = 7;
    const rand = (n) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
    for (let i = 0; i < 300; i++) {
      const size = [0, 1, 50, 700, 3000, 40_000][rand(6)];
      const text = Buffer.from(Array.from({ length: size }, (_, k) => 'abcdeé€ '[(k * 7 + i) % 8]).join('')).subarray(0, size);
      const valid = Buffer.from(text.toString('utf8').replace(/\uFFFD/g, ''));
      sent.push(valid.toString('latin1'));
      wire.push(bytes(client().message(peer.compress(valid), { binary: false, rsv1: true, fragmentSize: rand(2) ? 0 : 1 + rand(500) })));
    }
    const all = Buffer.concat(wire);
    for (let at = 0; at < all.length;) {
      const n = 1 + rand(rand(4) === 0 ? 9000 : 40);
      conn.push(all.subarray(at, at + n));
      at += n;
    }
    assert.deepEqual(log.filter((e) => e[0] === 'error'), []);
    assert.deepEqual(messages(log).map((m) => m[0]), sent);
  });

  // Stored (level 0) compression maps compressed bytes to inflated bytes one to one, so
  // 1-byte fragments cut the inflated text between every pair of bytes.
  for (const [how, provider] of [['streaming TextDecoder', () => countingProvider()], ['isUtf8 on complete runs (Node)', () => zlibProvider()]]) {
    test(`UTF-8 after inflation, cut at every byte: Autobahn's 6.x sequences (${how})`, () => {
      let cases = 0;
      for (const [, list] of utf8TestSequences()) {
        for (const [, payload] of list) {
          for (const prefix of [Buffer.alloc(0), Buffer.from('ab€')]) {
            const text = Buffer.concat([prefix, payload]);
            const stored = zlib.deflateRawSync(text, { level: 0, finishFlush: Z_SYNC_FLUSH });
            const { conn, log } = server({ provider: provider() });
            conn.push(bytes(client().message(stored.subarray(0, stored.length - 4), { binary: false, rsv1: true, fragmentSize: 1 })));
            const expected = isUtf8(text) ? [['message', text.toString('latin1')]] : [['error', 1007]];
            assert.deepEqual(log.filter((e) => e[0] !== 'shutdown').map((e) => (e[0] === 'message' ? ['message', e[1].toString('latin1')] : [e[0], e[1]])), expected, `${text.toString('hex')}`);
            cases++;
          }
        }
      }
      assert.ok(cases > 200);
    });
  }

  test('data that does not inflate fails with 1007', () => {
    const { conn, log, writes } = server();
    conn.push(bytes(client().message(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), { binary: true, rsv1: true })));
    assert.deepEqual(log.filter((e) => e[0] === 'error'), [['error', 1007, 'WS_ERR_INVALID_COMPRESSED_DATA']]);
    assert.equal(writes.at(-1).toString('hex'), '880203ef');
  });

  test('RSV1 on a continuation frame is still 1002 with compression agreed (RFC 7692 §6.1)', () => {
    const { conn, log } = server();
    const frames = client().message(deflated(randomBytes(3000)), { binary: true, fragmentSize: 100, rsv1: true });
    const all = bytes(frames);
    // Set RSV1 on the second frame (its header follows the first frame's 2 + 4 + 100 bytes).
    all[106] |= 0x40;
    conn.push(all);
    assert.deepEqual(log.filter((e) => e[0] === 'error').map((e) => e[1]), [1002]);
  });

  test('bomb: a 1 MiB frame inflating to 1 GiB fails with 1009 after at most the limit', () => {
    // 64 sync-flushed deflate streams of 16 MiB of zeros, concatenated: one raw
    // DEFLATE stream of ~1 MiB that inflates to 1 GiB.
    const segment = deflated(Buffer.alloc(16 * 2 ** 20));
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([segment, TAIL])));
    const limit = 8 * 2 ** 20;
    const { conn, log, writes, counter, session } = server({ connection: { maxMessageSize: limit } });
    assert.ok(bomb.length < 2 ** 20 && bomb.length > 900 * 1024, `bomb is ${bomb.length} B`);
    conn.push(bytes(client().message(bomb, { binary: true, rsv1: true })));
    assert.deepEqual(log.filter((e) => e[0] === 'error'), [['error', 1009, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH']]);
    assert.equal(writes.at(-1).toString('hex'), '880203f1');
    // One output area (64 KiB) past the limit at most, never the 1 GiB.
    assert.ok(counter.inflated <= limit + 64 * 1024, `inflated ${counter.inflated} B`);
    assert.equal(session.closed, true, 'zlib state released on failure');
  });

  test('bomb across many fragments: fails with 1009 once the inflated total passes the limit', () => {
    const limit = 2 ** 20;
    const { conn, log, counter } = server({ connection: { maxMessageSize: limit } });
    // 200 fragments, each ~100 KiB inflated: the sum passes 1 MiB at about the 11th.
    conn.push(compressedFrames(Buffer.alloc(200 * 100 * 1024, 0x61), { binary: true, fragmentSize: 100 }));
    assert.deepEqual(log.filter((e) => e[0] === 'error').map((e) => e[1]), [1009]);
    assert.ok(counter.inflated <= limit + 64 * 1024, `inflated ${counter.inflated} B`);
  });

  test('the limit hit exactly passes; one byte more fails', () => {
    const limit = 100_000;
    const exact = server({ connection: { maxMessageSize: limit } });
    exact.conn.push(compressedFrames(Buffer.alloc(limit, 0x62), { fragmentSize: 50 }));
    assert.equal(exact.log[0][0], 'message');
    assert.equal(exact.log[0][1].length, limit);
    const over = server({ connection: { maxMessageSize: limit } });
    over.conn.push(compressedFrames(Buffer.alloc(limit + 1, 0x62)));
    assert.deepEqual(over.log.filter((e) => e[0] === 'error').map((e) => e[1]), [1009]);
  });
});

describe('permessage-deflate: sending', () => {
  test('threshold: at or above compressed with RSV1, below plain; compress: false opts out', () => {
    const { conn, writes } = server({ options: { threshold: 10 } });
    conn.send('short');
    conn.send('x'.repeat(10));
    conn.send('y'.repeat(50), false, 0, false);
    conn.send(Buffer.alloc(100), true);
    const [a, b, c, d] = writes.map((w) => parseServerFrames(w)[0]);
    assert.equal(a.b0, 0x81);
    assert.equal(a.payload.toString(), 'short');
    assert.equal(b.b0, 0xc1);
    assert.equal(inflate(b.payload).toString(), 'x'.repeat(10));
    assert.equal(c.b0, 0x81);
    assert.equal(d.b0, 0xc2);
    assert.ok(inflate(d.payload).equals(Buffer.alloc(100)));
  });

  test('empty messages: a single 0x00 byte (§7.2.3.6), also right after another message', () => {
    const { conn, writes } = server({ options: { threshold: 0 } });
    conn.send('');
    conn.send('abc');
    conn.send('');
    conn.send(new Uint8Array(0));
    const frames = writes.map((w) => parseServerFrames(w)[0]);
    assert.deepEqual(frames.map((f) => f.b0), [0xc1, 0xc1, 0xc1, 0xc2]);
    for (const i of [0, 2, 3]) assert.equal(frames[i].payload.toString('hex'), '00');
    // Both inflate as the peer would, with one window: '', 'abc', '', ''.
    const d = zlib.createInflateRaw();
    const h = [];
    for (const f of frames) h.push(f.payload, TAIL);
    assert.equal(zlib.inflateRawSync(Buffer.concat(h), { finishFlush: Z_SYNC_FLUSH }).toString(), 'abc');
    d.close();
  });

  test('control frames are never compressed', () => {
    const { conn, writes } = server({ options: { threshold: 0 } });
    conn.ping('p'.repeat(100));
    conn.pong('q');
    conn.close(1000, 'bye'.repeat(20));
    assert.deepEqual(writes.map((w) => w[0]), [0x89, 0x8a, 0x88]);
  });

  test('fragmented compressed message: RSV1 on the first frame only; inflates back', () => {
    const { conn, writes } = server({ options: { threshold: 0 } });
    const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join(''));
    conn.send(data, false, 1000);
    const frames = parseServerFrames(writes[0]);
    assert.ok(frames.length > 2);
    assert.equal(frames[0].b0, 0x41);
    for (const f of frames.slice(1, -1)) assert.equal(f.b0, 0x00);
    assert.equal(frames.at(-1).b0, 0x80);
    assert.ok(inflate(Buffer.concat(frames.map((f) => f.payload))).equals(data));
  });

  test('client role: masked compressed frames (RSV1 through the WebAssembly encoder)', () => {
    const writes = [];
    const session = new PerMessageDeflate('client', NONE, on({ threshold: 0 }), zlibProvider());
    const conn = new Connection({ role: 'client', open: true, compression: session, onWrite: (c) => writes.push(bytes(c)), onShutdown() {} });
    const data = randomBytes(70_000);
    conn.send(data, true, 200);
    conn.send(Buffer.alloc(10, 0x42), true);
    // Read them back with a server Connection agreeing on the same parameters.
    const got = [];
    const peer = new Connection({ role: 'server', open: true, compression: new PerMessageDeflate('server', NONE, on(), zlibProvider()),
      onWrite() {}, onShutdown() {}, onMessage: (d) => got.push(Buffer.from(d)) });
    for (const w of writes) peer.push(w);
    assert.equal(writes[0][0], 0x42);  // RSV1 | binary, not FIN (fragmented)
    assert.ok(got[0].equals(data));
    assert.ok(got[1].equals(Buffer.alloc(10, 0x42)));
  });

  test('context takeover: a repeated message shrinks; server_no_context_takeover: it does not', () => {
    const text = 'The same sentence, sent twice, costs less the second time with context takeover. ';
    const sizes = (params) => {
      const { conn, writes } = server({ params, options: { threshold: 0 } });
      conn.send(text);
      conn.send(text);
      return writes.map((w) => parseServerFrames(w)[0].payload.length);
    };
    const [t1, t2] = sizes(NONE);
    assert.ok(t2 < t1 / 2, `${t1} -> ${t2}`);
    const [n1, n2] = sizes({ ...NONE, serverNoContextTakeover: true });
    assert.equal(n1, n2);
    // And each message then inflates alone, with a fresh window.
    const { conn, writes } = server({ params: { ...NONE, serverNoContextTakeover: true }, options: { threshold: 0 } });
    conn.send(text);
    conn.send(text);
    assert.equal(inflate(parseServerFrames(writes[1])[0].payload).toString(), text);
  });

  test('order: a compressed message written before a plain one sent after it', () => {
    const { conn, writes } = server({ options: { threshold: 100 } });
    conn.send('z'.repeat(1000));
    conn.send('tiny');
    assert.deepEqual(writes.map((w) => w[0]), [0xc1, 0x81]);
  });
});

describe('permessage-deflate with a transport that takes small frames (onWriteFrame)', () => {
  test('a message at the threshold is compressed through onWrite (RSV1); one below it goes through onWriteFrame uncompressed', async () => {
    const { writeSmallFrame } = await import('../dist/core/encoder.js');
    const frames = [];
    const { conn, writes } = server({ options: { threshold: 64 }, connection: {
      onWriteFrame: (firstByte, payload) => { const t = Buffer.alloc(payload.length + 4); frames.push(t.subarray(0, writeSmallFrame(t, 0, firstByte, payload))); },
    } });
    conn.send('a'.repeat(64));
    conn.send('b'.repeat(63));
    conn.send(Buffer.alloc(200, 7), true, 0, false);  // compress: false
    assert.equal(writes.length, 1);
    assert.equal(writes[0][0], 0x80 | 0x40 | 0x01, 'FIN | RSV1 | text');
    assert.equal(frames.length, 2);
    assert.equal(frames[0].toString('latin1'), '\x81\x3f' + 'b'.repeat(63));
    assert.equal(frames[1][0], 0x82, 'not compressed: no RSV1');
    assert.equal(frames[1].length, 4 + 200);
  });
});

describe('permessage-deflate: zlib state released', () => {
  test('on terminate(), on a protocol error, and when the transport closes', () => {
    for (const end of ['terminate', 'error', 'closed']) {
      const { conn, session, counter } = server({ options: { threshold: 0 } });
      conn.send('x'.repeat(100));
      conn.push(compressedFrames(Buffer.from('hello')));
      assert.equal(counter.deflaters + counter.inflaters, 2);
      if (end === 'terminate') conn.terminate();
      else if (end === 'error') conn.push(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));  // reserved opcode
      else conn.transportClosed();
      assert.equal(session.closed, true, end);
      assert.equal(counter.closed, 2, end);
    }
  });

  test('no growth over many compressed messages on one connection (20,000 both ways)', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    const frames = compressedFrames(Buffer.from(JSON.stringify({ chat: 'message', n: 1, text: 'lorem ipsum '.repeat(60) })));
    const measure = () => { gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.external + m.arrayBuffers; };
    // The same frame bytes each time: valid because the (simulated) client compresses
    // without context takeover; our side keeps its own window (server takeover on).
    const fresh = server({ params: { ...NONE, clientNoContextTakeover: true }, options: { threshold: 0 } });
    const many = (n) => { for (let i = 0; i < n; i++) { fresh.conn.push(frames); fresh.conn.send('{"reply":"' + 'ok '.repeat(300) + '"}'); } fresh.log.length = 0; fresh.writes.length = 0; };
    many(2000);
    const before = measure();
    many(20_000);
    const after = measure();
    assert.equal(fresh.conn.state, 'OPEN');
    assert.ok(after - before < 4 * 2 ** 20, `grew by ${((after - before) / 2 ** 20).toFixed(2)} MiB over 20,000 messages`);
  });
});

describe('permessage-deflate over a socket (accept)', () => {
  test('a 1 MiB bomb inflating to 1 GiB, default limit (64 MiB): close 1009, the server process stays small', async (t) => {
    const { accept } = await import('wsframe');
    const { createServer } = await import('node:http');
    const net = await import('node:net');
    const server = createServer();
    const closed = new Promise((resolve) => server.on('upgrade', (req, socket, head) => {
      const ws = accept(req, socket, head, { perMessageDeflate: true });
      ws.on('error', () => {});
      ws.on('close', (code) => resolve(code));
    }));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const segment = deflated(Buffer.alloc(16 * 2 ** 20));
    const bomb = Buffer.concat(Array.from({ length: 64 }, () => Buffer.concat([segment, TAIL])));
    const frame = bytes(client().message(bomb, { binary: true, rsv1: true }));
    const rssBefore = process.memoryUsage().rss;
    const socket = net.connect(server.address().port, '127.0.0.1');
    const received = [];
    socket.on('data', (d) => received.push(d));
    socket.on('error', () => {});
    const socketClosed = new Promise((r) => socket.once('close', r));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n');
    socket.write(frame);
    assert.equal(await closed, 1009);
    await socketClosed;
    const all = Buffer.concat(received);
    const head = all.indexOf('\r\n\r\n');
    assert.match(all.subarray(0, head).toString(), /\r\nSec-WebSocket-Extensions: permessage-deflate$/);
    assert.equal(all.subarray(head + 4, head + 8).toString('hex'), '880203f1');  // close frame, 1009
    // At most the limit was ever inflated: RSS grows by well under 1 GiB (64 MiB + overhead).
    assert.ok(process.memoryUsage().rss - rssBefore < 400 * 2 ** 20, `rss grew ${(process.memoryUsage().rss - rssBefore) >> 20} MiB`);
  });
});
