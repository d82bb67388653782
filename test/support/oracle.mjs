// Three decoders behind one event format, for differential testing:
//   runOurs  — wsframe's Decoder
//   runWs    — ws's Receiver (the oracle, v8.x)
//   runModel — a small whole-buffer RFC 6455 reference model with two modes:
//              'rfc' (wsframe's documented semantics) and 'ws' (ws's semantics), so every place
//              where the two legitimately differ is explicit, named and checked on both sides.
//
// Event format (plain arrays, deepStrictEqual-friendly):
//   ['message', 'text'|'binary', data]   data = hex (≤ 64 bytes) or 'len=N sha1=…'
//   ['ping', data]  ['pong', data]  ['close', code, reason]  ['error', closeCode]
//   ['threw', message]  (push() threw — always a bug)
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { Utf8Stream, hex } from './frames.mjs';

const require = createRequire(import.meta.url);

export function repr(u8) {
  if (u8.length <= 64) return hex(u8);
  return `len=${u8.length} sha1=${createHash('sha1').update(u8).digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// wsframe

let oursPromise;
/**
 * import('wsframe') (needs `npm run build`); resolves to the module or throws a clear error.
 * WSFRAME_IMPL=<path to an index.js> tests another build instead (e.g. a copy of dist/ built with
 * `npm run build:wasm:debug`, AssemblyScript assertions on).
 */
export function loadOurs() {
  const impl = process.env.WSFRAME_IMPL;
  oursPromise ??= (impl ? import(pathToFileURL(path.resolve(impl)).href) : import('wsframe')).catch((e) => {
    throw new Error(`cannot import ${impl ?? "'wsframe'"} — run \`npm run build\` first (${e.message})`);
  });
  return oursPromise;
}

/**
 * Feed chunks to a fresh Decoder. Returns { events, errors, decoder }.
 * extra: additional Decoder options.
 */
export function runOurs(mod, chunks, { role = 'server', maxMessageSize = 64 * 2 ** 20, maxFragments = 0, keep = false, streaming = false, viaReadBuffer = false, ...extra } = {}) {
  const events = [];
  const errors = [];
  // streaming: use onFragment and rebuild whole messages from the pieces, so the events compare
  // 1:1 with onMessage mode; pieces must agree on `binary` and only the last may carry fin
  let pieces = null;
  let pieceBinary = null;
  const streamingHandlers = streaming
    ? {
        onFragment(data, binary, fin) {
          if (pieces === null) {
            pieces = [];
            pieceBinary = binary;
          } else if (binary !== pieceBinary) events.push(['threw', `onFragment: binary flag changed mid-message (${pieceBinary} → ${binary})`]);
          pieces.push(Buffer.from(data));
          if (fin === true) {
            events.push(['message', pieceBinary === true ? 'binary' : pieceBinary === false ? 'text' : `?${pieceBinary}`, repr(Buffer.concat(pieces))]);
            pieces = null;
          } else if (fin !== false) events.push(['threw', `onFragment: fin is ${fin}`]);
        },
      }
    : {};
  const d = new mod.Decoder({
    role,
    maxMessageSize,
    maxFragments,
    ...extra,
    ...streamingHandlers,
    onMessage(data, binary) {
      events.push(['message', binary === true ? 'binary' : binary === false ? 'text' : `?${binary}`, repr(data)]);
    },
    onPing(p) {
      events.push(['ping', repr(p)]);
    },
    onPong(p) {
      events.push(['pong', repr(p)]);
    },
    onClose(code, reason) {
      events.push(['close', code, reason]);
    },
    onError(err) {
      events.push(['error', err?.closeCode]);
      errors.push(err);
    },
  });
  for (const c of chunks) {
    try {
      if (viaReadBuffer) {
        // the socket path: read straight into the decoder's input area, then pushReadBuffer(n)
        for (let off = 0; off < c.length; ) {
          const rb = d.readBuffer();
          const n = Math.min(rb.length, c.length - off);
          rb.set(c.subarray(off, off + n));
          d.pushReadBuffer(n);
          off += n;
        }
      } else d.push(c);
    } catch (e) {
      events.push(['threw', String(e?.stack ?? e)]);
      break;
    }
  }
  if (!keep) d.destroy(); // give its WebAssembly memory back now rather than at GC
  return { events, errors, decoder: d };
}

// ---------------------------------------------------------------------------------------------
// ws

const { Receiver } = require('ws');

/** ws stores the close code under a module-private Symbol('status-code') (ws/lib/constants.js,
 * kStatusCode); the package's exports map does not expose it, so find it by description. */
export function wsStatusCode(err) {
  for (const s of Object.getOwnPropertySymbols(err)) if (s.description === 'status-code') return err[s];
  return undefined;
}

/**
 * Feed chunks to ws's Receiver. We call Receiver#_write directly (Writable#write would route the
 * error through process.nextTick and 'error'); _write is ws's parse entry point and invokes its
 * callback synchronously with the error it built via createError(). test/fuzz-differential checks
 * once that this matches the public write()/'error' path.
 */
export function runWs(chunks, { role = 'server', maxMessageSize = 64 * 2 ** 20, maxFragments = 0 } = {}) {
  const events = [];
  const errors = [];
  const r = new Receiver({ isServer: role === 'server', maxPayload: maxMessageSize, maxFragments, binaryType: 'nodebuffer' });
  let done = false;
  r.on('message', (data, isBinary) => events.push(['message', isBinary ? 'binary' : 'text', repr(data)]));
  r.on('ping', (p) => events.push(['ping', repr(p)]));
  r.on('pong', (p) => events.push(['pong', repr(p)]));
  r.on('conclude', (code, reason) => {
    events.push(['close', code, reason.toString('utf8')]);
    done = true;
  });
  r.on('error', () => {});
  for (const c of chunks) {
    if (done) break;
    // copy: ws unmasks in place, which would corrupt the caller's stream
    r._write(Buffer.from(c), 'buffer', (err) => {
      if (err) {
        events.push(['error', wsStatusCode(err)]);
        errors.push(err);
        done = true;
      }
    });
  }
  return { events, errors };
}

// ---------------------------------------------------------------------------------------------
// reference model

export const RFC = Object.freeze({ utf8: 'fast', msb: 1002, fragCheck: 'header' });
export const WS = Object.freeze({ utf8: 'end', msb: 1009, fragCheck: 'payload', int32Limit: true, cap53: true });

const validCloseCode = (c) => (c >= 1000 && c <= 1014 && c !== 1004 && c !== 1005 && c !== 1006) || (c >= 3000 && c <= 4999);

/**
 * Whole-buffer RFC 6455 decoder model. Header rules are checked as early as the bytes allow and in
 * ws's order (first two bytes, then the extended length, then the mask key), all giving 1002 except
 * sizes (1009). Returns { events, errorAt } where errorAt is the byte offset at which the error
 * became known (or -1).
 *
 * mode.utf8 = 'fast' : text is validated as payload bytes arrive (even in a partial frame at the
 *                      end of the stream) and fails at the first byte that cannot be valid;
 *             'end'  : validated when the final fragment has arrived (ws).
 * mode.msb  = close code for a 64-bit length with the most significant bit set.
 * mode.fragCheck = 'payload' : the maxFragments count is checked after the frame's payload arrived (ws)
 *                  'header'  : as soon as the frame's length is known (wsframe: limits come from headers).
 */
export function runModel(bytes, { role = 'server', maxMessageSize = 64 * 2 ** 20, maxFragments = 0 } = {}, mode = RFC) {
  // ws reads its limit as `maxPayload | 0`, and 0 means "no limit"
  if (mode.int32Limit) maxMessageSize = (maxMessageSize | 0) > 0 ? maxMessageSize | 0 : Infinity;
  const events = [];
  const raw = new Map(); // event index → payload bytes
  const ends = []; // event index → stream offset at which the event is determined
  const n = bytes.length;
  let pos = 0;
  let fragmented = 0; // opcode of the message in progress, 0 if none
  let total = 0n; // declared payload bytes of the message so far (BigInt: lengths go up to 2^63)
  const maxBig = Number.isFinite(maxMessageSize) ? BigInt(Math.floor(maxMessageSize)) : null;
  let numFrags = 0;
  let chunks = [];
  let u8 = null; // Utf8Stream for a text message in progress ('fast' mode)
  const emit = (ev, data) => {
    events.push(ev);
    ends.push(pos);
    if (data) raw.set(events.length - 1, data);
  };
  const fail = (code, at, rule) => {
    events.push(['error', code]);
    ends.push(at);
    return { events, errorAt: at, rule, raw, ends };
  };
  for (;;) {
    if (n - pos < 2) break;
    const b0 = bytes[pos];
    const b1 = bytes[pos + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv = (b0 >> 4) & 7;
    let op = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const at2 = pos + 2;
    if (rsv !== 0) return fail(1002, at2, 'rsv');
    if (op === 0) {
      if (!fragmented) return fail(1002, at2, 'orphan-continuation');
    } else if (op === 1 || op === 2) {
      if (fragmented) return fail(1002, at2, 'data-inside-fragmented');
    } else if (op >= 8 && op <= 10) {
      if (!fin) return fail(1002, at2, 'control-not-fin');
      if (len7 > 125) return fail(1002, at2, 'control-too-long');
      if (op === 8 && len7 === 1) return fail(1002, at2, 'close-1-byte');
    } else return fail(1002, at2, 'reserved-opcode');
    if (masked !== (role === 'server')) return fail(1002, at2, 'mask');
    pos = at2;
    let len = len7;
    let lenBig = BigInt(len7);
    if (len7 === 126) {
      if (n - pos < 2) break;
      len = (bytes[pos] << 8) | bytes[pos + 1];
      lenBig = BigInt(len);
      pos += 2;
    } else if (len7 === 127) {
      if (n - pos < 8) break;
      const hi = ((bytes[pos] << 24) | (bytes[pos + 1] << 16) | (bytes[pos + 2] << 8) | bytes[pos + 3]) >>> 0;
      const lo = ((bytes[pos + 4] << 24) | (bytes[pos + 5] << 16) | (bytes[pos + 6] << 8) | bytes[pos + 7]) >>> 0;
      pos += 8;
      if (hi >= 0x80000000) return fail(mode.msb, pos, 'len64-msb');
      if (mode.cap53 && hi > 2 ** 21 - 1) return fail(1009, pos, 'len-over-2^53');
      lenBig = (BigInt(hi) << 32n) | BigInt(lo);
      len = Number(lenBig); // only compared with what is available: precision beyond 2^53 does not matter
    }
    const isData = op < 8;
    if (isData) {
      if (op !== 0 && !fin) fragmented = op;
      if (len > 0) {
        total += lenBig;
        if (maxBig !== null && total > maxBig) return fail(1009, pos, 'too-big');
      }
      if (mode.fragCheck === 'header' && maxFragments > 0 && ++numFrags > maxFragments) return fail(1008, pos, 'too-many-fragments');
    }
    let key = null;
    if (masked) {
      if (n - pos < 4) break;
      key = bytes.subarray(pos, pos + 4);
      pos += 4;
    }
    const avail = Math.min(len, n - pos);
    const payload = new Uint8Array(avail);
    for (let i = 0; i < avail; i++) payload[i] = key ? bytes[pos + i] ^ key[i & 3] : bytes[pos + i];
    const msgOp = op === 0 ? fragmented : op;
    if (isData && msgOp === 1 && mode.utf8 === 'fast') {
      u8 ??= new Utf8Stream();
      const bad = u8.feed(payload);
      if (bad !== -1) return fail(1007, pos + bad + 1, 'utf8');
    }
    if (avail < len) break;
    pos += len;
    if (!isData) {
      if (op === 9) emit(['ping', repr(payload)], payload);
      else if (op === 10) emit(['pong', repr(payload)], payload);
      else {
        if (len === 0) {
          emit(['close', 1005, '']);
        } else {
          const code = (payload[0] << 8) | payload[1];
          if (!validCloseCode(code)) return fail(1002, pos, 'close-code');
          const reason = payload.subarray(2);
          const v = new Utf8Stream();
          if (v.feed(reason) !== -1 || !v.end()) return fail(1007, pos, 'close-reason-utf8');
          emit(['close', code, Buffer.from(reason).toString('utf8')]);
        }
        return { events, errorAt: -1, raw, ends };
      }
      continue;
    }
    if (mode.fragCheck === 'payload' && maxFragments > 0 && ++numFrags > maxFragments) return fail(1008, pos, 'too-many-fragments');
    chunks.push(payload);
    if (op === 0 && !fragmented) throw new Error('unreachable');
    if (fin) {
      const data = Buffer.concat(chunks);
      if (msgOp === 1) {
        if (mode.utf8 === 'fast') {
          if (!u8.end()) return fail(1007, pos, 'utf8-truncated');
        } else {
          const v = new Utf8Stream();
          if (v.feed(data) !== -1 || !v.end()) return fail(1007, pos, 'utf8');
        }
      }
      emit(['message', msgOp === 2 ? 'binary' : 'text', repr(data)], data);
      fragmented = 0;
      total = 0n;
      numFrags = 0;
      chunks = [];
      u8 = null;
    }
  }
  return { events, errorAt: -1, raw, ends };
}

/** Human-readable classification of why the RFC model and the ws model differ on a stream. */
export function classifyDisagreement(rfcEvents, wsEvents) {
  const last = (ev) => ev.at(-1);
  const r = last(rfcEvents);
  const w = last(wsEvents);
  if (r?.[0] === 'error' && r[1] === 1007) return 'utf8-fail-fast';
  if (r?.[0] === 'error' && r[1] === 1002 && w?.[0] === 'error' && w[1] === 1009) return 'len64-msb';
  if (r?.[0] === 'error' && r[1] === 1008) return 'fragments-at-header';
  return 'other';
}

export function formatEvents(ev) {
  return ev.map((e) => '  ' + JSON.stringify(e)).join('\n') || '  (none)';
}

/**
 * The differential check used by the property tests and the fuzzer. Throws a descriptive Error
 * when wsframe is wrong (or when the test model and ws drift apart). `tally` counts outcomes.
 *   ours == model(RFC) always; ws == model(WS) always; ours == ws unless the models differ, and
 *   then the difference must be a named RFC-justified one.
 */
export function differentialCheck(mod, c, tally = null, chunks = [c.bytes]) {
  const o = { role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments };
  const ours = runOurs(mod, chunks, o).events;
  const ws = runWs(chunks, o).events;
  const mRfc = runModel(c.bytes, o, RFC);
  const mWs = runModel(c.bytes, o, WS).events;
  const show = () =>
    `ours:\n${formatEvents(ours)}\nws:\n${formatEvents(ws)}\nRFC model (${mRfc.rule ?? 'no error'}):\n${formatEvents(mRfc.events)}\nws model:\n${formatEvents(mWs)}`;
  if (tally) tally.runs = (tally.runs ?? 0) + 1;
  if (!isDeepStrictEqual(ws, mWs)) throw new Error(`test-model bug: ws and the ws-mode model disagree\n${show()}`);
  let kind = 'agree';
  if (!(c.maxMessageSize >= 1 && c.maxMessageSize <= 2 ** 31 - 1)) {
    kind = 'ws-cannot-express-limit'; // ws's maxPayload is an int32: compare with the RFC model only
  } else if (isDeepStrictEqual(mRfc.events, mWs)) {
    if (!isDeepStrictEqual(ours, ws)) throw new Error(`wsframe and ws disagree (no RFC-justified difference applies)\n${show()}`);
  } else {
    kind = classifyDisagreement(mRfc.events, mWs);
    if (kind === 'other') throw new Error(`test-model bug: unclassified RFC/ws difference\n${show()}`);
  }
  if (!isDeepStrictEqual(ours, mRfc.events)) throw new Error(`wsframe departs from the RFC model${kind === 'agree' ? '' : ` (ws differs too: ${kind})`}\n${show()}`);
  // streaming mode (onFragment) must decide exactly the same, piece by piece
  const streamed = runOurs(mod, chunks, { ...o, streaming: true }).events;
  if (!isDeepStrictEqual(streamed, ours)) throw new Error(`streaming mode (onFragment) differs from onMessage mode\nonMessage:\n${formatEvents(ours)}\nonFragment, reassembled:\n${formatEvents(streamed)}`);
  if (tally) {
    tally[kind] = (tally[kind] ?? 0) + 1;
    const last = ours.at(-1);
    const end = last?.[0] === 'error' ? `error ${last[1]}` : last?.[0] === 'close' ? 'close' : 'open';
    tally[end] = (tally[end] ?? 0) + 1;
  }
  return { ours, ws, rfc: mRfc, kind };
}
