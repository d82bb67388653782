// A small boundary-tag allocator for the shared linear memory: decoder states,
// parse areas and encoder scratch (messages are reassembled outside it, in
// TypeScript-owned buffers, see decoder.ts).
//
// Why not AssemblyScript's TLSF: it doubles the memory on every growth.
// Here memory grows by at most 1/8 over what is needed, freed blocks are
// reused first-fit, and a freed top block goes back to the unclaimed
// "wilderness".
//
// Block layout (16-byte aligned, payload 16-byte aligned for v128):
//   +0 size     u32  whole block, header included
//   +4 used     u32  1 when allocated
//   +8 prevSize u32  size of the physically previous block, 0 for the first
//   +16 payload; a free block keeps its list links in the payload:
//   +16 next    u32
//   +20 prev    u32

// @ts-ignore: decorator
@inline const HEADER: usize = 16;
// @ts-ignore: decorator
@inline const MIN_BLOCK: usize = 32;
// @ts-ignore: decorator
@inline const SPLIT_MIN: usize = 256;

let heapBase: usize = 0;
let heapTop: usize = 0;
let lastBlock: usize = 0;
let freeHead: usize = 0;

// @ts-ignore: decorator
@inline function align16(n: usize): usize { return (n + 15) & ~(<usize>15); }
// @ts-ignore: decorator
@inline function sizeOf(b: usize): usize { return <usize>load<u32>(b); }
// @ts-ignore: decorator
@inline function isUsed(b: usize): bool { return load<u32>(b, 4) != 0; }
// @ts-ignore: decorator
@inline function prevOf(b: usize): usize { const p = load<u32>(b, 8); return p == 0 ? 0 : b - <usize>p; }

export function heapInit(base: usize): void {
  heapBase = align16(base);
  heapTop = heapBase;
  lastBlock = 0;
  freeHead = 0;
}

/** Makes sure linear memory reaches `end`; grows by at least 1/8 to keep grow calls logarithmic. */
function ensureMemory(end: usize): bool {
  const have = <usize>memory.size() << 16;
  if (end <= have) return true;
  const needed = <i32>((end - have + 0xffff) >>> 16);
  let pages = memory.size() >>> 3;
  if (pages < needed) pages = needed;
  if (memory.grow(pages) >= 0) return true;
  return memory.grow(needed) >= 0;
}

function linkFree(b: usize): void {
  store<u32>(b, 0, 4);
  store<u32>(b, <u32>freeHead, 16);
  store<u32>(b, 0, 20);
  if (freeHead != 0) store<u32>(freeHead, <u32>b, 20);
  freeHead = b;
}

function unlinkFree(b: usize): void {
  const next = <usize>load<u32>(b, 16);
  const prev = <usize>load<u32>(b, 20);
  if (prev != 0) store<u32>(prev, <u32>next, 16); else freeHead = next;
  if (next != 0) store<u32>(next, <u32>prev, 20);
}

/** Sets a block's size and tells its physical successor. */
function setSize(b: usize, size: usize): void {
  store<u32>(b, <u32>size);
  const next = b + size;
  if (next < heapTop) store<u32>(next, <u32>size, 8);
}

/** Cuts the tail of a used block off as a free block when it is worth it. */
function splitTail(b: usize, keep: usize): void {
  const size = sizeOf(b);
  if (size - keep < SPLIT_MIN) return;
  const rest = b + keep;
  store<u32>(b, <u32>keep);
  store<u32>(rest, <u32>keep, 8);
  setSize(rest, size - keep);
  linkFree(rest);
}

export function heapAlloc(bytes: usize): usize {
  const size = max(align16(bytes + HEADER), MIN_BLOCK);
  // First fit among freed blocks.
  let f = freeHead;
  while (f != 0) {
    if (sizeOf(f) >= size) {
      unlinkFree(f);
      store<u32>(f, 1, 4);
      splitTail(f, size);
      return f + HEADER;
    }
    f = <usize>load<u32>(f, 16);
  }
  // Otherwise claim from the wilderness at the top.
  const b = heapTop;
  if (!ensureMemory(b + size)) return 0;
  store<u32>(b, <u32>size);
  store<u32>(b, 1, 4);
  store<u32>(b, lastBlock == 0 ? 0 : <u32>(b - lastBlock), 8);
  heapTop = b + size;
  lastBlock = b;
  return b + HEADER;
}

export function heapFree(ptr: usize): void {
  if (ptr == 0) return;
  let b = ptr - HEADER;
  // Debug builds catch a double free or a pointer that is not a block.
  assert(b >= heapBase && b < heapTop && (b & 15) == 0 && isUsed(b));
  let size = sizeOf(b);
  assert(size >= MIN_BLOCK && b + size <= heapTop);
  if (b + size == heapTop) {
    // The top block returns to the wilderness, with a free block below it.
    heapTop = b;
    lastBlock = prevOf(b);
    if (lastBlock != 0 && !isUsed(lastBlock)) {
      unlinkFree(lastBlock);
      heapTop = lastBlock;
      lastBlock = prevOf(lastBlock);
    }
    return;
  }
  const next = b + size;
  if (!isUsed(next)) {
    unlinkFree(next);
    size += sizeOf(next);
  }
  const prev = prevOf(b);
  if (prev != 0 && !isUsed(prev)) {
    unlinkFree(prev);
    size += sizeOf(prev);
    b = prev;
  }
  setSize(b, size);
  linkFree(b);
}
