// The arena (DeliveryOptions.arena): one region of WebAssembly memory that a
// large message may be read straight into by its socket, unmasked and packed
// in place by the parser, and delivered (and echoed) from without a copy. It
// holds one message at a time: `owner` is the decoder reassembling or
// delivering it, `lent` says a writer still has its bytes to write.
import { getWasm, refreshViews, isWasmMemory } from './wasm.js';

export const ARENA_SIZE = 8 << 20;

export const arena = { ptr: 0, owner: null as object | null, lent: false };

export function arenaPtr(): number {
  if (arena.ptr === 0) {
    arena.ptr = getWasm().exports.heapAlloc(ARENA_SIZE);
    refreshViews();
  }
  return arena.ptr;
}

export function isArenaView(view: ArrayBufferView): boolean {
  return arena.ptr !== 0 && view.byteOffset === arena.ptr && isWasmMemory(view);
}

/** A writer takes the message being delivered from the arena instead of copying it. */
export function lendArena(view: ArrayBufferView): boolean {
  if (!isArenaView(view) || arena.owner === null || arena.lent) return false;
  arena.lent = true;
  return true;
}

export function releaseArena(): void {
  arena.lent = false;
}
