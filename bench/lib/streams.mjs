// Frame-stream generators and checksums for the benchmark workloads.
// Everything here is deterministic (seeded PRNG) so runs are comparable.

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const REF_SIZE = 4 * MiB; // the reference message (case 9.4.3)
export const REF_FRAGMENT = 1 * KiB;

/** xorshift32 PRNG — deterministic payloads and mask keys. */
export function prng(seed = 0x9e3779b9) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

export function randomBytes(n, seed = 1) {
  const out = new Uint8Array(n);
  const r = prng(seed);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = r();
    out[i] = v; out[i + 1] = v >>> 8; out[i + 2] = v >>> 16; out[i + 3] = v >>> 24;
  }
  for (; i < n; i++) out[i] = r();
  return out;
}

function headerLength(len, masked) {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Write one frame at out[off]; returns the new offset.
 * opcode: 0 continuation, 1 text, 2 binary. maskKey: 4-byte Uint8Array or null.
 */
function writeFrame(out, off, fin, opcode, payload, maskKey) {
  const len = payload.length;
  out[off++] = (fin ? 0x80 : 0) | opcode;
  const m = maskKey ? 0x80 : 0;
  if (len < 126) out[off++] = m | len;
  else if (len < 65536) { out[off++] = m | 126; out[off++] = len >>> 8; out[off++] = len & 255; }
  else {
    out[off++] = m | 127;
    const hi = Math.floor(len / 2 ** 32);
    out[off++] = 0; out[off++] = 0; out[off++] = (hi >>> 8) & 255; out[off++] = hi & 255;
    out[off++] = len >>> 24; out[off++] = (len >>> 16) & 255; out[off++] = (len >>> 8) & 255; out[off++] = len & 255;
  }
  if (maskKey) {
    out[off] = maskKey[0]; out[off + 1] = maskKey[1]; out[off + 2] = maskKey[2]; out[off + 3] = maskKey[3];
    off += 4;
    for (let i = 0; i < len; i++) out[off + i] = payload[i] ^ maskKey[i & 3];
  } else {
    out.set(payload, off);
  }
  return off + len;
}

/**
 * A stream of messages, each fragmented into `fragmentSize` frames.
 * messages: array of { payload: Uint8Array, opcode: 1|2 }.
 */
export function buildStream(messages, { fragmentSize = Infinity, masked = true, seed = 7 } = {}) {
  const r = prng(seed);
  let total = 0;
  const plan = [];
  for (const { payload, opcode } of messages) {
    const n = Math.max(1, Math.ceil(payload.length / fragmentSize));
    for (let f = 0; f < n; f++) {
      const part = payload.subarray(f * fragmentSize, Math.min(payload.length, (f + 1) * fragmentSize));
      plan.push([f === n - 1, f === 0 ? opcode : 0, part]);
      total += headerLength(part.length, masked) + part.length;
    }
  }
  const out = new Uint8Array(total);
  const key = new Uint8Array(4);
  let off = 0;
  for (const [fin, op, part] of plan) {
    if (masked) {
      const v = r(); // non-zero keys only, so a decoder that skips unmasking is caught
      key[0] = v | 1; key[1] = v >>> 8; key[2] = v >>> 16; key[3] = v >>> 24;
    }
    off = writeFrame(out, off, fin, op, part, masked ? key : null);
  }
  return out;
}

/** Split a Uint8Array into views of `size` bytes (Infinity → one view). */
export function chunk(buf, size) {
  if (!Number.isFinite(size) || size >= buf.length) return [buf];
  const out = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, Math.min(buf.length, i + size)));
  return out;
}

/** 4 MiB of random ASCII (printable). */
export function asciiText(n, seed = 3) {
  const out = new Uint8Array(n);
  const r = prng(seed);
  for (let i = 0; i < n; i++) out[i] = 32 + (r() % 95);
  return out;
}

/**
 * ~n bytes of mostly multi-byte UTF-8: by bytes roughly 5% ASCII, 25% 2-byte
 * (Cyrillic/Latin-1), 45% 3-byte (CJK), 25% 4-byte (emoji); padded with ASCII
 * to exactly n bytes. Fragment boundaries will split code points, which a
 * message-level validator must accept.
 */
export function multibyteText(n, seed = 5) {
  const out = new Uint8Array(n);
  const r = prng(seed);
  let i = 0;
  while (i < n - 4) {
    const k = r() % 100;
    let cp;
    if (k < 12) cp = 32 + (r() % 95);
    else if (k < 44) cp = 0x400 + (r() % 0x100); // Cyrillic, 2 bytes
    else if (k < 84) cp = 0x4e00 + (r() % 0x5000); // CJK, 3 bytes
    else cp = 0x1f300 + (r() % 0x300); // emoji, 4 bytes
    if (cp < 0x80) out[i++] = cp;
    else if (cp < 0x800) { out[i++] = 0xc0 | (cp >> 6); out[i++] = 0x80 | (cp & 63); }
    else if (cp < 0x10000) { out[i++] = 0xe0 | (cp >> 12); out[i++] = 0x80 | ((cp >> 6) & 63); out[i++] = 0x80 | (cp & 63); }
    else { out[i++] = 0xf0 | (cp >> 18); out[i++] = 0x80 | ((cp >> 12) & 63); out[i++] = 0x80 | ((cp >> 6) & 63); out[i++] = 0x80 | (cp & 63); }
  }
  while (i < n) out[i++] = 0x41;
  return out;
}

/** Count of bytes that belong to multi-byte sequences (for the row label). */
export function multibyteShare(buf) {
  let m = 0;
  for (let i = 0; i < buf.length; i++) if (buf[i] >= 0x80) m++;
  return m / buf.length;
}

/** n small messages of `size` bytes each, distinct payloads (ASCII if text). */
export function smallMessages(n, size, text, seed = 11) {
  const pool = text ? asciiText(n * size, seed) : randomBytes(n * size, seed);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { payload: pool.subarray(i * size, (i + 1) * size), opcode: text ? 1 : 2 };
  return out;
}

/**
 * Streaming checksum over an ordered sequence of messages: FNV-1a over every
 * byte plus each message's length and binary flag. Order-, content- and
 * boundary-sensitive; used once per run to prove each decoder delivered the
 * right bytes (outside the timed loops).
 */
export class Checksum {
  constructor() { this.h = 0x811c9dc5; this.messages = 0; this.bytes = 0; }
  add(data, binary = true) {
    let h = this.h;
    for (let i = 0; i < data.length; i++) { h ^= data[i]; h = Math.imul(h, 0x01000193); }
    h ^= data.length & 0xffff; h = Math.imul(h, 0x01000193);
    h ^= (data.length >>> 16) ^ (binary ? 0x5a : 0xa5); h = Math.imul(h, 0x01000193);
    this.h = h >>> 0;
    this.messages++;
    this.bytes += data.length;
    return this;
  }
  equals(o) { return this.h === o.h && this.messages === o.messages && this.bytes === o.bytes; }
  toString() { return `${this.messages} msgs / ${this.bytes} B / fnv ${this.h.toString(16)}`; }
}

export function checksumOf(messages) {
  const c = new Checksum();
  for (const m of messages) c.add(m.payload, m.opcode !== 1);
  return c;
}
