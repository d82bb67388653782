// Deterministic payloads, usable both in Node and in the browser page (no Buffer,
// no Node imports). Binary payloads are xorshift32 noise; text payloads are valid
// UTF-8 of an exact byte length mixing 1-, 2-, 3- and 4-byte sequences, so that
// fragment and frame boundaries fall inside multi-byte characters.

function xorshift32(seed) {
  let x = (seed >>> 0) || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

export function binaryPayload(size, seed = 1) {
  const out = new Uint8Array(size);
  const next = xorshift32(size * 2654435761 + seed);
  const words = size >>> 2;
  const view = new DataView(out.buffer);
  for (let i = 0; i < words; i++) view.setUint32(i * 4, next(), true);
  for (let i = words * 4; i < size; i++) out[i] = next() & 0xff;
  return out;
}

/**
 * UTF-8 bytes of exactly `size` bytes that decode to a valid string. `sparse`
 * makes 1 character in 16 multi-byte instead of 1 in 2 (a browser turns dense
 * non-ASCII 16 MiB strings over much more slowly; the framing is the same).
 */
export function textBytes(size, seed = 7, sparse = false) {
  const out = new Uint8Array(size);
  const next = xorshift32(size * 40503 + seed);
  let i = 0;
  while (i < size) {
    const r = next();
    const room = size - i;
    const k = r & 63;
    const kind = sparse ? (k < 60 ? 0 : k - 56) : k & 7; // 0-3 ascii, 4 two-byte, 5 three-byte, 6-7 four-byte
    if (kind >= 6 && room >= 4) { // U+10000..U+10FFFF
      const cp = 0x10000 + ((r >>> 8) % 0x100000);
      out[i++] = 0xf0 | (cp >> 18); out[i++] = 0x80 | ((cp >> 12) & 63);
      out[i++] = 0x80 | ((cp >> 6) & 63); out[i++] = 0x80 | (cp & 63);
    } else if (kind === 5 && room >= 3) { // U+0800..U+FFFF minus surrogates
      let cp = 0x800 + ((r >>> 8) % (0x10000 - 0x800));
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x20ac;
      out[i++] = 0xe0 | (cp >> 12); out[i++] = 0x80 | ((cp >> 6) & 63); out[i++] = 0x80 | (cp & 63);
    } else if (kind === 4 && room >= 2) { // U+0080..U+07FF
      const cp = 0x80 + ((r >>> 8) % (0x800 - 0x80));
      out[i++] = 0xc0 | (cp >> 6); out[i++] = 0x80 | (cp & 63);
    } else {
      out[i++] = 0x20 + ((r >>> 8) % 95);
    }
  }
  return out;
}

export function textPayload(size, seed = 7, sparse = false) {
  return new TextDecoder('utf-8', { fatal: true }).decode(textBytes(size, seed, sparse));
}
