// RFC 6455 §5.3 masking: payload byte i is XORed with mask key byte (i mod 4).
// The key is kept as a little-endian u32 of the four wire bytes, so XORing a
// little-endian u32 (or a v128 of four of them) at a 4-aligned payload offset
// applies key bytes 0..3 in order.

/** The key seen from `offset` payload bytes into the frame: rotated so byte 0 lines up. */
// @ts-ignore: decorator
@inline export function rotateKey(key: u32, offset: usize): u32 {
  return rotr<u32>(key, <u32>((offset & 3) << 3));
}

/**
 * XORs `len` bytes from `src` into `dst` with `key` (already rotated to the
 * first byte). One pass: unmasking and copying are fused. `src == dst` unmasks
 * in place. Returns the key rotated past the bytes processed.
 */
export function maskInto(src: usize, dst: usize, len: usize, key: u32): u32 {
  const k = i32x4.splat(<i32>key);
  let i: usize = 0;
  while (i + 64 <= len) {
    v128.store(dst + i, v128.xor(v128.load(src + i), k));
    v128.store(dst + i, v128.xor(v128.load(src + i, 16), k), 16);
    v128.store(dst + i, v128.xor(v128.load(src + i, 32), k), 32);
    v128.store(dst + i, v128.xor(v128.load(src + i, 48), k), 48);
    i += 64;
  }
  while (i + 16 <= len) {
    v128.store(dst + i, v128.xor(v128.load(src + i), k));
    i += 16;
  }
  while (i + 4 <= len) {
    store<u32>(dst + i, load<u32>(src + i) ^ key);
    i += 4;
  }
  let rest = key;
  while (i < len) {
    store<u8>(dst + i, load<u8>(src + i) ^ <u8>rest);
    rest = rotr<u32>(rest, 8);
    i++;
  }
  return rest;
}
