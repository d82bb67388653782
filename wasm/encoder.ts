// Frame writing for the Encoder (RFC 6455 §5.2): headers and, for the client
// role, masking (§5.3) fused with the copy into the output.

import { maskInto } from "./mask";

/** Writes a frame header at dst; returns its length (2..14). The only header writer: the TypeScript
 * encoder calls this export for the headers it puts before payload views (server role). */
export function writeHeader(dst: usize, b0: u32, len: f64, masked: u32, key: u32): u32 {
  const maskBit: u32 = masked != 0 ? 0x80 : 0;
  let at: u32;
  store<u8>(dst, <u8>b0);
  if (len < 126) {
    store<u8>(dst, <u8>(maskBit | <u32>len), 1);
    at = 2;
  } else if (len < 65536) {
    store<u8>(dst, <u8>(maskBit | 126), 1);
    store<u16>(dst, bswap<u16>(<u16>len), 2);
    at = 4;
  } else {
    store<u8>(dst, <u8>(maskBit | 127), 1);
    store<u64>(dst, bswap<u64>(<u64>len), 2);
    at = 10;
  }
  if (masked != 0) {
    store<u32>(dst + at, key);
    at += 4;
  }
  return at;
}

/**
 * Frames [src, src+len) as ceil(len / fragmentSize) frames (one when
 * fragmentSize is 0), writing headers and payloads to dst. The first frame
 * carries `firstOpcode` (0 = continuation), the last has FIN when `lastFin`.
 * When masked, frame i takes its key from keys + 4i. Returns bytes written.
 */
export function encodeFrames(src: usize, len: usize, dst: usize, fragmentSize: usize, firstOpcode: u32, lastFin: u32, masked: u32, keys: usize): usize {
  let out = dst;
  let p = src;
  let left = len;
  let opcode = firstOpcode;
  let k = keys;
  // Fast path for the common shape of a fragmented client message (9.4.3:
  // 1 KiB frames): every frame but the last has the same 8-byte header
  // (16-bit length, §5.2, then the key), written as two u32 stores.
  if (masked != 0 && fragmentSize >= 126 && fragmentSize < 65536) {
    const lengthBytes: u32 = (0x80 | 126) << 8 | (<u32>bswap<u16>(<u16>fragmentSize) << 16);
    while (left > fragmentSize) {
      const key = load<u32>(k);
      k += 4;
      store<u32>(out, opcode | lengthBytes);
      store<u32>(out, key, 4);
      maskInto(p, out + 8, fragmentSize, key);
      out += 8 + fragmentSize;
      p += fragmentSize;
      left -= fragmentSize;
      opcode = 0;
    }
  }
  while (true) {
    const n = fragmentSize == 0 || left < fragmentSize ? left : fragmentSize;
    const last = n == left;
    const key: u32 = masked != 0 ? load<u32>(k) : 0;
    k += 4;
    out += writeHeader(out, (last && lastFin != 0 ? 0x80 : 0) | opcode, <f64>n, masked, key);
    if (masked != 0) maskInto(p, out, n, key);
    else memory.copy(out, p, n);
    out += n;
    p += n;
    left -= n;
    opcode = 0;
    if (left == 0) break;
  }
  return out - dst;
}
