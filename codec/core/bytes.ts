// Owned byte buffers for output that must outlive WebAssembly memory views.

import { isWasmMemory } from './wasm.js';
import { lendArena } from './arena.js';
import { adopt, isRecyclable } from './message-pool.js';
import { hostBuffer } from './host.js';

/** Uninitialised bytes where Node offers them (no zero-fill), zeroed elsewhere. */
const NodeBuffer = hostBuffer;
export const allocUnsafe: (size: number) => Uint8Array = NodeBuffer !== undefined
  ? (size) => NodeBuffer.allocUnsafe(size)
  : (size) => new Uint8Array(size);

/**
 * Copies out of WebAssembly memory, in slices of at most this many bytes: a
 * fresh multi-megabyte buffer costs a page fault per 4 KiB page on first
 * touch, while slice-sized buffers are recycled by the allocator.
 */
export const COPY_SLICE = 128 << 10;

/** `view` copied into owned buffers of at most COPY_SLICE bytes each, appended to `out`. */
export function copyInSlices(view: Uint8Array, out: Uint8Array[]): void {
  for (let at = 0; at < view.length; at += COPY_SLICE) {
    const n = Math.min(COPY_SLICE, view.length - at);
    const piece = allocUnsafe(n);
    piece.set(n === view.length ? view : view.subarray(at, at + n));
    out.push(piece);
  }
}

/** Bytes of a Uint8Array, another ArrayBufferView or an ArrayBuffer, without copying. */
export function asBytes(data: ArrayBufferView | ArrayBufferLike): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && data instanceof SharedArrayBuffer)) {
    return new Uint8Array(data);
  }
  throw new TypeError('expected a Uint8Array, an ArrayBufferView or an ArrayBuffer');
}

/**
 * Frames ready to queue on a transport: a server-role encoder returns views of
 * the payload it was given, and a payload that is a decoder view (WebAssembly
 * memory, or a recycled reassembly buffer: message-pool.ts) would be
 * overwritten by the next read or message. Chunks of WebAssembly memory are
 * copied, in slices; a delivered reassembly buffer is taken out of recycling
 * instead (no copy); the array is returned as is when nothing is copied.
 */
export function detachFromWasm(chunks: Uint8Array[]): Uint8Array[] {
  let owned: Uint8Array[] | null = null;
  for (let i = 0; i < chunks.length; i++) {
    const chunk = chunks[i]!;
    // A recycled message buffer is taken over rather than copied (adopt()).
    if ((isWasmMemory(chunk) && !lendArena(chunk)) || (isRecyclable(chunk) && !adopt(chunk))) {
      owned ??= chunks.slice(0, i);
      copyInSlices(chunk, owned);
    } else if (owned !== null) {
      owned.push(chunk);
    }
  }
  return owned ?? chunks;
}
