// Incremental UTF-8 validation (RFC 3629; RFC 6455 §8.1 requires failing the
// connection on invalid text). Validation is streaming: a message's bytes
// arrive in pieces (fragments, partial frames, socket reads) and each piece is
// checked as soon as it arrives, so invalid input fails at once ("fail fast")
// rather than when the message ends. A code point split between pieces is
// carried in a small state.
//
// Bulk of the work: a v128 version of the Keiser–Lemire "lookup" algorithm
// (three 16-entry nibble tables catch every 2-byte error pattern; the
// 3rd/4th-byte positions are checked by comparing with bytes 2 and 3 back).
// Edges (a sequence carried in from the previous piece, the last incomplete
// sequence of a piece, pieces under 16 bytes) use a scalar state machine.

// Scalar states: what the next byte must be.
export const UTF8_ACCEPT: u32 = 0;   // at a code point boundary
// 1: one continuation left; 2: two left; 3: three left
// 4: after E0 (A0..BF then one); 5: after ED (80..9F then one)
// 6: after F0 (90..BF then two); 7: after F4 (80..8F then two)
export const UTF8_REJECT: u32 = 8;

/** One byte through the scalar state machine (Unicode Table 3-7). */
function step(state: u32, b: u32): u32 {
  if (state == 0) {
    if (b < 0x80) return 0;
    if (b < 0xC2) return UTF8_REJECT;
    if (b < 0xE0) return 1;
    if (b == 0xE0) return 4;
    if (b == 0xED) return 5;
    if (b < 0xF0) return 2;
    if (b == 0xF0) return 6;
    if (b < 0xF4) return 3;
    if (b == 0xF4) return 7;
    return UTF8_REJECT;
  }
  let lo: u32 = 0x80, hi: u32 = 0xBF, next: u32;
  switch (state) {
    case 1: next = 0; break;
    case 2: next = 1; break;
    case 3: next = 2; break;
    case 4: lo = 0xA0; next = 1; break;
    case 5: hi = 0x9F; next = 1; break;
    case 6: lo = 0x90; next = 2; break;
    case 7: hi = 0x8F; next = 2; break;
    default: return UTF8_REJECT;
  }
  return b >= lo && b <= hi ? next : UTF8_REJECT;
}

function scalar(state: u32, p: usize, end: usize): u32 {
  while (p < end && state != UTF8_REJECT) {
    const b = <u32>load<u8>(p);
    if (state == 0 && b < 0x80) { p++; continue; }
    state = step(state, b);
    p++;
  }
  return state;
}

// Error classes, one bit each (two share bit 6).
// TOO_SHORT 0x01  lead byte not followed by a continuation
// TOO_LONG  0x02  ASCII followed by a continuation
// OVERLONG_3 0x04 E0 80..9F
// TOO_LARGE 0x08  F4 90..BF, F5+ 90..BF
// SURROGATE 0x10  ED A0..BF
// OVERLONG_2 0x20 C0/C1 continuation
// TOO_LARGE_1000 / OVERLONG_4 0x40  F5+ 80..8F / F0 80..8F
// TWO_CONTS 0x80  continuation after continuation (valid only at byte 3/4)

// Nibble tables of the lookup algorithm (see the error classes above).
// @ts-ignore: decorator
@inline function checkBlock(prev: v128, input: v128): v128 {
  const byte1High = i8x16(0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, -128, -128, -128, -128, 0x21, 0x01, 0x15, 0x49);
  const byte1Low = i8x16(-25, -93, -125, -125, -117, -53, -53, -53, -53, -53, -53, -53, -53, -37, -53, -53);
  const byte2High = i8x16(0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, -26, -82, -70, -70, 0x01, 0x01, 0x01, 0x01);
  const prev1 = i8x16.shuffle(prev, input, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
  const prev2 = i8x16.shuffle(prev, input, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
  const prev3 = i8x16.shuffle(prev, input, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28);
  const special = v128.and(
    v128.and(
      i8x16.swizzle(byte1High, i8x16.shr_u(prev1, 4)),
      i8x16.swizzle(byte1Low, v128.and(prev1, i8x16.splat(0x0F)))),
    i8x16.swizzle(byte2High, i8x16.shr_u(input, 4)));
  // Third and fourth bytes of a sequence must be continuations (TWO_CONTS there is right):
  // b - 0x60 (saturating) has its top bit set iff b >= 0xE0; b - 0x70 iff b >= 0xF0.
  const must23 = v128.and(
    v128.or(i8x16.sub_sat_u(prev2, i8x16.splat(0x60)), i8x16.sub_sat_u(prev3, i8x16.splat(0x70))),
    i8x16.splat(-128));
  return v128.xor(must23, special);
}

/**
 * Validates [p, p+len) continuing from `state`; returns the new state
 * (UTF8_ACCEPT at a boundary, 1..7 inside a code point, UTF8_REJECT on error).
 */
export function validateUtf8(state: u32, p: usize, len: usize): u32 {
  const end = p + len;
  // Finish a code point carried in from the previous piece.
  while (state != 0 && p < end) {
    state = step(state, <u32>load<u8>(p));
    p++;
    if (state == UTF8_REJECT) return state;
  }
  if (end - p < 16) return scalar(state, p, end);

  // From here p is at a code point boundary: the block before it counts as ASCII.
  let prev = i8x16.splat(0);
  let open = false;  // the last block checked ends inside a sequence
  while (p + 64 <= end) {
    const a = v128.load(p);
    const b = v128.load(p, 16);
    const c = v128.load(p, 32);
    const d = v128.load(p, 48);
    if (i8x16.bitmask(v128.or(v128.or(a, b), v128.or(c, d))) == 0) {
      // 64 ASCII bytes: wrong only if they cut a sequence open before them.
      if (open) return UTF8_REJECT;
      prev = d;
      p += 64;
      continue;
    }
    const error = v128.or(
      v128.or(checkBlock(prev, a), checkBlock(a, b)),
      v128.or(checkBlock(b, c), checkBlock(c, d)));
    if (v128.any_true(error)) return UTF8_REJECT;
    prev = d;
    p += 64;
    open = openAtEnd(p) != 0;
  }
  while (p + 16 <= end) {
    const input = v128.load(p);
    if (i8x16.bitmask(input) == 0) {
      if (open) return UTF8_REJECT;
    } else {
      if (v128.any_true(checkBlock(prev, input))) return UTF8_REJECT;
    }
    prev = input;
    p += 16;
    open = openAtEnd(p) != 0;
  }
  // Blocks were checked up to p, except a sequence still open at p: back up
  // to its lead byte and let the scalar machine take it and the tail. (p is
  // at least 16 bytes past the boundary it started from, so p - 3 is in range.)
  return scalar(0, p - openAtEnd(p), end);
}

/** How many bytes before `p` belong to a sequence that does not end before `p` (0..3). */
function openAtEnd(p: usize): usize {
  if (<u32>load<u8>(p - 1) >= 0xC0) return 1;
  if (<u32>load<u8>(p - 2) >= 0xE0) return 2;
  if (<u32>load<u8>(p - 3) >= 0xF0) return 3;
  return 0;
}

// ---------------------------------------------------------------------------
// Sharing the work with a host validator (Node's buffer.isUtf8, simdutf: several
// times faster than the lookup above on multi-byte text, slower on short
// pieces because of its call cost). The host checks whole strings, so it is
// given only runs that start and end at code point boundaries; this module
// keeps the boundaries: it finishes a code point carried in from the previous
// piece, takes the leading ASCII itself (most text is ASCII, which it checks
// at memory speed), and carries an incomplete code point at the end of a piece
// to the next. One state machine (step) decides every byte it looks at.
//
// The split is exact: in valid text each cut falls on a code point boundary,
// and pieces that are each valid from their cut concatenate to valid text, so
// the whole is valid if and only if every part is.

/** The run the host validator must accept, set by validateUtf8Split; empty when hostFrom == hostTo. */
export let hostFrom: usize = 0;
export let hostTo: usize = 0;

/**
 * Like validateUtf8, but leaves the bulk of a piece with non-ASCII bytes to
 * the host: [hostFrom, hostTo) when it is at least `hostMin` bytes (smaller
 * runs are validated here). `last`: the message ends with this piece, so
 * nothing is carried (the host run then goes to the end, and the host rejects
 * a sequence cut short there). Returns the new state as validateUtf8 does,
 * for the bytes validated here.
 */
export function validateUtf8Split(state: u32, p: usize, len: usize, last: bool, hostMin: usize): u32 {
  const end = p + len;
  hostFrom = 0;
  hostTo = 0;
  while (state != 0 && p < end) {
    state = step(state, <u32>load<u8>(p));
    p++;
    if (state == UTF8_REJECT) return state;
  }
  if (state != 0) return state;
  p = skipAscii(p, end);
  if (p == end) return UTF8_ACCEPT;
  const tail: usize = last ? 0 : openTail(p, end);
  if (end - tail - p < hostMin) return validateUtf8(UTF8_ACCEPT, p, end - p);
  hostFrom = p;
  hostTo = end - tail;
  return tail == 0 ? UTF8_ACCEPT : scalar(UTF8_ACCEPT, end - tail, end);
}

/** The first 16-byte block (or, in the last 15 bytes, the first byte) at or after p that is not all ASCII; `end` if none. */
function skipAscii(p: usize, end: usize): usize {
  while (p + 64 <= end) {
    const any = v128.or(v128.or(v128.load(p), v128.load(p, 16)), v128.or(v128.load(p, 32), v128.load(p, 48)));
    if (i8x16.bitmask(any) != 0) break;
    p += 64;
  }
  while (p + 16 <= end) {
    if (i8x16.bitmask(v128.load(p)) != 0) return p;
    p += 16;
  }
  while (p < end && <u32>load<u8>(p) < 0x80) p++;
  return p;
}

/** Like openAtEnd, for [p, end) of any length: the bytes of a sequence that does not end before `end` (0..3). */
function openTail(p: usize, end: usize): usize {
  const n = end - p;
  if (n >= 1 && <u32>load<u8>(end - 1) >= 0xC0) return 1;
  if (n >= 2 && <u32>load<u8>(end - 2) >= 0xE0) return 2;
  if (n >= 3 && <u32>load<u8>(end - 3) >= 0xF0) return 3;
  return 0;
}
