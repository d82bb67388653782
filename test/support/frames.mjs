// Shared frame builders and fast-check generators for the hostile-input tests (issue #6).
//
// Everything here is deliberately independent of wsframe: frames are assembled byte by byte
// from RFC 6455 §5.2, so a bug in our Encoder cannot hide a bug in our Decoder.
import fc from 'fast-check';

export const OP = Object.freeze({ CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa });
export const MiB = 2 ** 20;

// ---------------------------------------------------------------------------------------------
// bytes helpers

export function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function hex(u8, max = Infinity) {
  const b = Buffer.from(u8.buffer, u8.byteOffset, u8.length);
  if (b.length <= max) return b.toString('hex');
  return `${b.subarray(0, max).toString('hex')}…(+${b.length - max} bytes)`;
}

export function fromHex(s) {
  return new Uint8Array(Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex'));
}

export const utf8 = (s) => new TextEncoder().encode(s);

/** Deterministic, cheap pseudo-random bytes (xorshift32) — for big payloads where fc.uint8Array is too slow. */
export function patternBytes(size, seed = 1) {
  const out = new Uint8Array(size);
  let x = (seed | 0) || 0x9e3779b9;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
    out[i + 1] = x >>> 8;
    out[i + 2] = x >>> 16;
    out[i + 3] = x >>> 24;
  }
  for (; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
  }
  return out;
}

/** Valid UTF-8 text of exactly `size` bytes mixing 1-, 2-, 3- and 4-byte code points. */
export function patternText(size, seed = 1) {
  const units = [utf8('a'), utf8('é'), utf8('€'), utf8('😀'), utf8('Z'), utf8('\u{10FFFF}'), utf8('\uFFFF')];
  const out = new Uint8Array(size);
  let x = (seed | 0) || 7;
  let o = 0;
  while (o < size) {
    x = (Math.imul(x, 1103515245) + 12345) | 0;
    let u = units[(x >>> 16) % units.length];
    if (o + u.length > size) u = units[0];
    out.set(u, o);
    o += u.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// frame builder (RFC 6455 §5.2)

/**
 * Build one frame, byte-exact.
 * @param {object} f
 * @param {boolean} [f.fin=true]
 * @param {number}  [f.rsv=0]      3-bit value: 4 = RSV1, 2 = RSV2, 1 = RSV3
 * @param {number}  f.opcode       0..15 (reserved ones allowed)
 * @param {Uint8Array|null} [f.mask=null]  4-byte key; sets the MASK bit and masks the payload
 * @param {boolean} [f.maskBit]    override the MASK bit (e.g. bit set but the key bytes supplied raw)
 * @param {Uint8Array} [f.payload] payload (unmasked); written in full
 * @param {'min'|7|16|64} [f.len='min']  length encoding; 16/64 with small lengths = non-minimal
 * @param {number|bigint} [f.declared]   value written in the length field instead of payload.length
 *                                        (lies, huge lengths, MSB-set 64-bit lengths)
 */
export function buildFrame(f) {
  const payload = f.payload ?? new Uint8Array(0);
  const declared = f.declared ?? payload.length;
  const big = BigInt(declared);
  let enc = f.len ?? 'min';
  if (enc === 'min') enc = big <= 125n ? 7 : big <= 0xffffn ? 16 : 64;
  const key = f.mask ?? null;
  const maskBit = f.maskBit ?? key !== null;
  const head = [];
  head.push(((f.fin ?? true) ? 0x80 : 0) | (((f.rsv ?? 0) & 7) << 4) | (f.opcode & 0x0f));
  const m = maskBit ? 0x80 : 0;
  if (enc === 7) {
    if (big > 125n) throw new RangeError(`7-bit length cannot hold ${declared}`);
    head.push(m | Number(big));
  } else if (enc === 16) {
    if (big > 0xffffn) throw new RangeError(`16-bit length cannot hold ${declared}`);
    head.push(m | 126, Number(big >> 8n), Number(big & 0xffn));
  } else if (enc === 64) {
    head.push(m | 127);
    for (let s = 56n; s >= 0n; s -= 8n) head.push(Number((big >> s) & 0xffn));
  } else throw new RangeError(`bad length encoding ${enc}`);
  if (maskBit) {
    const k = key ?? new Uint8Array(4);
    head.push(k[0], k[1], k[2], k[3]);
  }
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  if (maskBit && key) {
    for (let i = 0; i < payload.length; i++) out[head.length + i] = payload[i] ^ key[i & 3];
  } else out.set(payload, head.length);
  return out;
}

export const buildFrames = (frames) => concat(frames.map(buildFrame));

/** Header length in bytes for a frame spec (handy for choosing split points inside headers). */
export function headerLength(f) {
  const declared = BigInt(f.declared ?? (f.payload ?? []).length);
  let enc = f.len ?? 'min';
  if (enc === 'min') enc = declared <= 125n ? 7 : declared <= 0xffffn ? 16 : 64;
  return 2 + (enc === 16 ? 2 : enc === 64 ? 8 : 0) + ((f.maskBit ?? f.mask != null) ? 4 : 0);
}

export const closePayload = (code, reason = new Uint8Array(0)) => {
  if (code === undefined) return new Uint8Array(0);
  const r = typeof reason === 'string' ? utf8(reason) : reason;
  return concat([new Uint8Array([code >> 8, code & 0xff]), r]);
};

/** Convenience: a whole message split into frames (payload split points given as offsets). */
export function messageFrames({ binary = false, payload, splits = [], mask = null, len = 'min' }) {
  const cuts = [0, ...splits.filter((s) => s > 0 && s < payload.length).sort((a, b) => a - b), payload.length];
  const frames = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    frames.push({
      fin: i + 2 === cuts.length,
      opcode: i === 0 ? (binary ? OP.BINARY : OP.TEXT) : OP.CONT,
      mask,
      len,
      payload: payload.subarray(cuts[i], cuts[i + 1]),
    });
  }
  return frames;
}

// ---------------------------------------------------------------------------------------------
// UTF-8

/** Hand-picked valid edge cases. */
export const UTF8_VALID_EDGES = [
  [0x00], [0x7f], [0xc2, 0x80], [0xdf, 0xbf], [0xe0, 0xa0, 0x80], [0xed, 0x9f, 0xbf] /* U+D7FF */,
  [0xee, 0x80, 0x80] /* U+E000 */, [0xef, 0xbf, 0xbf] /* U+FFFF */, [0xef, 0xbb, 0xbf] /* BOM */,
  [0xf0, 0x90, 0x80, 0x80] /* U+10000 */, [0xf4, 0x8f, 0xbf, 0xbf] /* U+10FFFF */,
].map((a) => new Uint8Array(a));

/** Invalid pieces by class; each one is invalid wherever it appears (the truncated ones only when
 * followed by a non-continuation byte or the end of the message). */
export const UTF8_INVALID = {
  overlong: [[0xc0, 0x80], [0xc1, 0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xe0, 0x80, 0xaf],
    [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80]],
  surrogate: [[0xed, 0xa0, 0x80], [0xed, 0xad, 0xbf], [0xed, 0xae, 0x80], [0xed, 0xaf, 0xbf], [0xed, 0xb0, 0x80],
    [0xed, 0xbf, 0xbf], [0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80] /* CESU-8 pair */],
  tooBig: [[0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf7, 0xbf, 0xbf, 0xbf], [0xfe], [0xff], [0xf8]],
  loneContinuation: [[0x80], [0xbf], [0x80, 0x80], [0xc2, 0x80, 0x80]],
  truncated: [[0xc2], [0xe2, 0x82], [0xe2], [0xf0, 0x9f, 0x98], [0xf0, 0x9f], [0xf4, 0x8f, 0xbf]],
};
for (const k of Object.keys(UTF8_INVALID)) UTF8_INVALID[k] = UTF8_INVALID[k].map((a) => new Uint8Array(a));
export const UTF8_INVALID_ALL = Object.values(UTF8_INVALID).flat();

/**
 * Reference UTF-8 validator (Unicode Table 3-7, "well-formed byte sequences"), incremental.
 * feed() returns the index of the first byte at which the input can no longer be valid UTF-8
 * (fail-fast position), or -1. end() tells whether the stream stops on a code point boundary.
 */
export class Utf8Stream {
  need = 0; // continuation bytes still expected
  lo = 0x80;
  hi = 0xbf;
  feed(bytes, from = 0, to = bytes.length) {
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      if (this.need === 0) {
        if (b < 0x80) continue;
        if (b >= 0xc2 && b <= 0xdf) { this.need = 1; this.lo = 0x80; this.hi = 0xbf; }
        else if (b === 0xe0) { this.need = 2; this.lo = 0xa0; this.hi = 0xbf; }
        else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) { this.need = 2; this.lo = 0x80; this.hi = 0xbf; }
        else if (b === 0xed) { this.need = 2; this.lo = 0x80; this.hi = 0x9f; }
        else if (b === 0xf0) { this.need = 3; this.lo = 0x90; this.hi = 0xbf; }
        else if (b >= 0xf1 && b <= 0xf3) { this.need = 3; this.lo = 0x80; this.hi = 0xbf; }
        else if (b === 0xf4) { this.need = 3; this.lo = 0x80; this.hi = 0x8f; }
        else return i;
      } else {
        if (b < this.lo || b > this.hi) return i;
        this.need--;
        this.lo = 0x80;
        this.hi = 0xbf;
      }
    }
    return -1;
  }
  end() {
    return this.need === 0;
  }
}

export function isValidUtf8(bytes) {
  const v = new Utf8Stream();
  return v.feed(bytes) === -1 && v.end();
}

// ---------------------------------------------------------------------------------------------
// fast-check arbitraries

/** Any valid UTF-8 (all planes), as bytes. */
export const arbValidUtf8 = (maxLength = 40) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength }).map(utf8) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength }).map(utf8) },
    {
      weight: 2,
      arbitrary: fc
        .array(fc.oneof(fc.constantFrom(...UTF8_VALID_EDGES), fc.string({ unit: 'binary', maxLength: 3 }).map(utf8)), { maxLength: 8 })
        .map(concat),
    },
  );

export const arbInvalidPiece = () =>
  fc.constantFrom(...Object.keys(UTF8_INVALID)).chain((k) => fc.constantFrom(...UTF8_INVALID[k]));

/** Text bytes: mostly valid, sometimes with an invalid piece somewhere (or a truncated sequence at the end). */
export const arbText = (maxLength = 40) =>
  fc.oneof(
    { weight: 3, arbitrary: arbValidUtf8(maxLength) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(arbValidUtf8(maxLength), arbInvalidPiece(), arbValidUtf8(maxLength))
        .map(([a, bad, b]) => concat([a, bad, b])),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(arbValidUtf8(maxLength), fc.constantFrom(...UTF8_INVALID.truncated)).map(([a, t]) => concat([a, t])),
    },
  );

const arbKey = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(4)) },
);

/** Sizes covering every length-encoding boundary. */
export const arbSize = (max = 70000) => {
  const small = [0, 1, 124, 125, 126, 127].filter((n) => n <= max);
  const big = [65535, 65536, 65537].filter((n) => n <= max);
  const branches = [
    { weight: 10, arbitrary: fc.integer({ min: 0, max: Math.min(20, max) }) },
    { weight: 4, arbitrary: fc.constantFrom(...small) },
  ];
  if (big.length) branches.push({ weight: 1, arbitrary: fc.constantFrom(...big) });
  if (max >= 128) branches.push({ weight: 1, arbitrary: fc.integer({ min: 128, max: Math.min(max, 70000) }) });
  return fc.oneof(...branches);
};

/** Payload spec → bytes, cheap even for large sizes. */
const arbBinaryPayload = (max) =>
  fc.oneof(
    { weight: 5, arbitrary: fc.uint8Array({ maxLength: 24 }) },
    { weight: 2, arbitrary: fc.tuple(arbSize(max), fc.integer()).map(([n, s]) => patternBytes(n, s)) },
  );

const arbTextPayload = (max) =>
  fc.oneof(
    { weight: 5, arbitrary: arbText(16) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(arbSize(max), fc.integer(), fc.option(fc.tuple(fc.nat(), arbInvalidPiece()), { freq: 3 }))
        .map(([n, s, bad]) => {
          const t = patternText(n, s);
          if (!bad || n === 0) return t;
          const at = bad[0] % n;
          const out = t.slice();
          out.set(bad[1].subarray(0, n - at), at);
          return out;
        }),
    },
  );

/** Per-frame encoding choices: mask correctness for the role, key, length encoding. */
const arbFrameStyle = fc.record({
  wrongMask: fc.oneof({ weight: 40, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  key: arbKey,
  len: fc.oneof({ weight: 8, arbitrary: fc.constant('min') }, { weight: 1, arbitrary: fc.constantFrom(16, 64) }),
  // non-minimal length on a control frame puts 126/127 in the 7-bit field → 1002; keep it rare
  ctlLen: fc.oneof({ weight: 150, arbitrary: fc.constant('min') }, { weight: 1, arbitrary: fc.constantFrom(16, 64) }),
});

function styled(spec, style, role) {
  const wantMask = role === 'server' ? !style.wrongMask : style.wrongMask;
  let len = spec.opcode >= 8 ? style.ctlLen : style.len;
  const n = spec.declared ?? spec.payload?.length ?? 0;
  if (len === 16 && n > 0xffff) len = 64;
  return { ...spec, mask: wantMask ? style.key : null, len: spec.len ?? len };
}

const arbControl = fc.oneof(
  { weight: 16, arbitrary: fc.record({ kind: fc.constantFrom('ping', 'pong'), payload: fc.uint8Array({ maxLength: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('ping', 'pong'), payload: fc.constantFrom(125, 125, 126, 127, 200).map((n) => patternBytes(n, n)) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('close'),
      code: fc.option(
        fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999) },
          { weight: 2, arbitrary: fc.constantFrom(0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 65535 }) },
        ),
        { freq: 6 },
      ),
      reason: fc.oneof({ weight: 10, arbitrary: arbText(20) }, { weight: 1, arbitrary: fc.constantFrom(patternText(123, 3), patternText(124, 3)) }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close1') }) }, // 1-byte close body: always 1002
);

function controlSpec(c) {
  if (c.kind === 'ping') return { opcode: OP.PING, payload: c.payload };
  if (c.kind === 'pong') return { opcode: OP.PONG, payload: c.payload };
  if (c.kind === 'close1') return { opcode: OP.CLOSE, payload: new Uint8Array([0x03]) };
  if (c.code === null) return { opcode: OP.CLOSE, payload: new Uint8Array(0) };
  return { opcode: OP.CLOSE, payload: closePayload(c.code, c.reason) };
}

/** A data message, optionally fragmented at arbitrary byte offsets (even inside code points),
 * with control frames interleaved between fragments; optionally left unfinished. */
const arbMessage = (max) =>
  fc
    .record({
      binary: fc.boolean(),
      payloadB: arbBinaryPayload(max),
      payloadT: arbTextPayload(max),
      splits: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(fc.nat(), { maxLength: 5 }) }),
      emptyFrags: fc.nat({ max: 2 }),
      controls: fc.array(fc.tuple(fc.nat(), arbControl), { maxLength: 2 }),
      unfinished: fc.oneof({ weight: 12, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      styles: fc.array(arbFrameStyle, { minLength: 12, maxLength: 12 }),
    })
    .map((m) => ({ kind: 'message', ...m }));

/** A single frame with random header fields — reserved opcodes, RSV bits, FIN on control frames. */
const arbJunkFrame = fc
  .record({
    fin: fc.boolean(),
    rsv: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 1, max: 7 }) }),
    opcode: fc.integer({ min: 0, max: 15 }),
    payload: fc.uint8Array({ maxLength: 10 }),
    style: arbFrameStyle,
  })
  .map((j) => ({ kind: 'junk', ...j }));

/** Headers declaring lengths the decoder must refuse or wait for. */
const arbHugeHeader = fc
  .record({
    opcode: fc.constantFrom(OP.TEXT, OP.BINARY, OP.CONT, OP.PING),
    fin: fc.boolean(),
    declared: fc.constantFrom(2n ** 31n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 32n + 5n, 2n ** 40n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 62n, 2n ** 63n, 2n ** 63n + 5n, 2n ** 64n - 1n, 'max', 'max+1'),
    style: arbFrameStyle,
    tail: fc.uint8Array({ maxLength: 8 }),
  })
  .map((h) => ({ kind: 'huge', ...h }));

const arbRaw = fc.uint8Array({ minLength: 1, maxLength: 8 }).map((bytes) => ({ kind: 'raw', bytes }));

export const arbItem = (max) =>
  fc.oneof(
    { weight: 24, arbitrary: arbMessage(max) },
    { weight: 8, arbitrary: arbControl.map((c) => ({ kind: 'control', c, style: null })).chain((x) => arbFrameStyle.map((style) => ({ ...x, style }))) },
    { weight: 1, arbitrary: arbJunkFrame },
    { weight: 1, arbitrary: arbHugeHeader },
    { weight: 1, arbitrary: arbRaw },
  );

/** Lower item descriptions to concrete frame specs / raw bytes. */
export function lowerItems(items, { role, maxMessageSize }) {
  const parts = []; // each: { spec } or { raw }
  for (const it of items) {
    if (it.kind === 'message') {
      const payload = it.binary ? it.payloadB : it.payloadT;
      const cuts = it.splits.map((s) => s % (payload.length + 1));
      const frames = messageFrames({ binary: it.binary, payload, splits: cuts });
      // some empty continuation frames
      for (let e = 0; e < it.emptyFrags && frames.length; e++) {
        const at = Math.min(frames.length - 1, 1 + e);
        frames.splice(at, 0, { fin: false, opcode: OP.CONT, payload: new Uint8Array(0) });
        if (at === 0) frames[0].opcode = it.binary ? OP.BINARY : OP.TEXT;
      }
      // fix up opcodes/fin after insertion
      frames.forEach((f, i) => {
        f.opcode = i === 0 ? (it.binary ? OP.BINARY : OP.TEXT) : OP.CONT;
        f.fin = i === frames.length - 1;
      });
      if (it.unfinished) frames[frames.length - 1].fin = false;
      const ctl = new Map();
      for (const [pos, c] of it.controls) {
        if (frames.length < 2) continue;
        const at = 1 + (pos % (frames.length - 1)); // strictly between fragments
        if (!ctl.has(at)) ctl.set(at, []);
        ctl.get(at).push(c);
      }
      frames.forEach((f, i) => {
        for (const c of ctl.get(i) ?? []) parts.push({ spec: styled(controlSpec(c), it.styles[(i + 7) % 12], role) });
        parts.push({ spec: styled(f, it.styles[i % 12], role) });
      });
    } else if (it.kind === 'control') {
      parts.push({ spec: styled(controlSpec(it.c), it.style, role) });
    } else if (it.kind === 'junk') {
      parts.push({ spec: styled({ fin: it.fin, rsv: it.rsv, opcode: it.opcode, payload: it.payload }, it.style, role) });
    } else if (it.kind === 'huge') {
      const declared = it.declared === 'max' ? BigInt(maxMessageSize) : it.declared === 'max+1' ? BigInt(maxMessageSize) + 1n : it.declared;
      parts.push({ spec: styled({ fin: it.fin, opcode: it.opcode, payload: it.tail, declared, len: 64 }, it.style, role) });
    } else if (it.kind === 'raw') {
      parts.push({ raw: it.bytes });
    }
  }
  return parts;
}

export function partsToBytes(parts) {
  return concat(parts.map((p) => (p.raw ? p.raw : buildFrame(p.spec))));
}

/** A whole test case: decoder options + a byte stream (valid and invalid mixed). */
export const arbCase = ({ maxItems = 6, allowBig = true } = {}) =>
  fc
    .record({
      role: fc.constantFrom('server', 'client'),
      maxMessageSize: fc.oneof(
        { weight: 8, arbitrary: fc.constant(64 * MiB) },
        { weight: 1, arbitrary: fc.constantFrom(1, 125, 1000, 65536, 100000) },
        // above 4 GiB: lengths must never be truncated to 32 bits
        { weight: 1, arbitrary: fc.constantFrom(2 ** 33, 2 ** 53) },
      ),
      maxFragments: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) }),
      items: fc.array(arbItem(allowBig ? 70000 : 300), { minLength: 1, maxLength: maxItems }),
    })
    .map((c) => {
      const parts = lowerItems(c.items, c);
      return { role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments, parts, bytes: partsToBytes(parts) };
    });

/** Only well-formed streams (for mutation fuzzing and chunking): valid UTF-8, correct masks, sane sizes,
 * optionally ending with a close frame. */
export const arbValidStream = ({ maxItems = 6, maxSize = 3000 } = {}) =>
  fc
    .record({
      role: fc.constantFrom('server', 'client'),
      msgs: fc.array(
        fc.oneof(
          {
            weight: 4,
            arbitrary: fc.record({
              kind: fc.constant('message'),
              binary: fc.boolean(),
              bin: fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.tuple(fc.integer({ min: 0, max: maxSize }), fc.integer()).map(([n, s]) => patternBytes(n, s))),
              text: fc.oneof(arbValidUtf8(30), fc.tuple(fc.integer({ min: 0, max: maxSize }), fc.integer()).map(([n, s]) => patternText(n, s))),
              splits: fc.array(fc.nat(), { maxLength: 4 }),
              ping: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ maxLength: 10 }))),
              key: arbKey,
              len: fc.oneof({ weight: 6, arbitrary: fc.constant('min') }, { weight: 1, arbitrary: fc.constantFrom(16, 64) }),
            }),
          },
          { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('ping', 'pong'), payload: fc.uint8Array({ maxLength: 125 }), key: arbKey }) },
        ),
        { minLength: 1, maxLength: maxItems },
      ),
      close: fc.option(fc.record({ code: fc.constantFrom(1000, 1001, 3000, 4999), reason: arbValidUtf8(20), key: arbKey })),
    })
    .map(({ role, msgs, close }) => {
      const mk = (key) => (role === 'server' ? key : null);
      const specs = [];
      for (const m of msgs) {
        if (m.kind === 'message') {
          const payload = m.binary ? m.bin : m.text;
          const frames = messageFrames({ binary: m.binary, payload, splits: m.splits.map((s) => s % (payload.length + 1)), mask: mk(m.key), len: m.len });
          frames.forEach((f) => { if (f.len === 16 && f.payload.length > 0xffff) f.len = 64; });
          if (m.ping && frames.length > 1) frames.splice(1 + (m.ping[0] % (frames.length - 1)), 0, { opcode: OP.PING, payload: m.ping[1], mask: mk(m.key) });
          specs.push(...frames);
        } else specs.push({ opcode: m.kind === 'ping' ? OP.PING : OP.PONG, payload: m.payload, mask: mk(m.key) });
      }
      if (close) specs.push({ opcode: OP.CLOSE, payload: closePayload(close.code, close.reason), mask: mk(close.key) });
      return { role, maxMessageSize: 64 * MiB, maxFragments: 0, parts: specs.map((spec) => ({ spec })), bytes: buildFrames(specs) };
    });

/** Mutations of a byte stream. */
export const arbMutation = fc.oneof(
  fc.record({ op: fc.constant('flip'), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('flips'), ats: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { minLength: 2, maxLength: 8 }) }),
  fc.record({ op: fc.constant('set'), at: fc.nat(), value: fc.constantFrom(0x00, 0xff, 0x7f, 0x7e, 0x80, 0x88, 0x8f, 0xfe) }),
  fc.record({ op: fc.constant('truncate'), at: fc.nat() }),
  fc.record({ op: fc.constant('insert'), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ op: fc.constant('delete'), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('duplicate'), at: fc.nat(), n: fc.integer({ min: 1, max: 16 }) }),
);

export function mutate(bytes, m) {
  const n = bytes.length;
  if (n === 0) return { bytes: new Uint8Array(m.bytes ?? []), at: 0 };
  const out = bytes.slice();
  switch (m.op) {
    case 'flip': { const at = m.at % n; out[at] ^= 1 << m.bit; return { bytes: out, at }; }
    case 'flips': { let first = n; for (const [a, b] of m.ats) { out[a % n] ^= 1 << b; first = Math.min(first, a % n); } return { bytes: out, at: first }; }
    case 'set': { const at = m.at % n; out[at] = m.value; return { bytes: out, at }; }
    case 'truncate': { const at = m.at % n; return { bytes: bytes.slice(0, at), at }; }
    case 'insert': { const at = m.at % (n + 1); return { bytes: concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]), at }; }
    case 'delete': { const at = m.at % n; return { bytes: concat([bytes.subarray(0, at), bytes.subarray(Math.min(n, at + m.n))]), at }; }
    case 'duplicate': { const at = m.at % n; const seg = bytes.subarray(at, Math.min(n, at + m.n)); return { bytes: concat([bytes.subarray(0, at + seg.length), seg, bytes.subarray(at + seg.length)]), at: at + seg.length }; }
    default: throw new Error(m.op);
  }
}

/** Split a stream at the given sorted offsets. */
export function splitAt(bytes, offsets) {
  const cuts = [...new Set(offsets.filter((o) => o > 0 && o < bytes.length))].sort((a, b) => a - b);
  const out = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}
