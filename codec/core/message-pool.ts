// Recycled reassembly buffers: a small process-wide pool of message buffers
// that a decoder filled, delivered as views (DeliveryOptions.ownMessages
// false) and got back once the handler returned. A fresh multi-megabyte
// buffer costs a page fault per 4 KiB page on first touch, more than the copy
// into it; a buffer taken from here is already resident.
//
// Idle buffers are held through WeakRef only: the garbage collector may take
// them at any full collection, so memory still goes back to the system when
// traffic stops or peers leave. They are not counted in the decoders' memory
// budget (that counts bytes held by incomplete messages); the pool itself is
// capped in count and bytes (past them the smallest idle buffers leave).

/**
 * Most idle buffers kept, and their most bytes (a larger buffer is never
 * kept): enough for one message of the default maxMessageSize (64 MiB) and
 * the run of buffers it outgrew on the way (64 KiB doubling: 11 buffers), so
 * that repeated large messages fault nothing in.
 */
const MAX_BUFFERS = 16;
const MAX_BYTES = 128 << 20;

interface Idle {
  ref: WeakRef<Uint8Array>;
  bytes: number;
}

const hasWeakRef = typeof WeakRef === 'function';
const idle: Idle[] = [];
let idleBytes = 0;
/** Every buffer that ever entered the pool: delivered views of these are decoder memory. */
const recyclable = new WeakSet<ArrayBufferLike>();

/**
 * The smallest idle buffer of at least `min` bytes and at most `max` bytes,
 * taken out of the pool; null when none (or it was collected).
 */
export function takeBuffer(min: number, max: number): Uint8Array | null {
  let best = -1;
  let bestBuf: Uint8Array | null = null;
  for (let i = 0; i < idle.length;) {
    const entry = idle[i]!;
    const buf = entry.ref.deref();
    if (buf === undefined) {
      // Collected: forget it.
      idleBytes -= entry.bytes;
      idle.splice(i, 1);
      continue;
    }
    if (buf.length >= min && buf.length <= max && (bestBuf === null || buf.length < bestBuf.length)) {
      best = i;
      bestBuf = buf;
    }
    i++;
  }
  if (bestBuf === null) return null;
  idleBytes -= idle[best]!.bytes;
  idle.splice(best, 1);
  return bestBuf;
}

/**
 * Only a buffer that is its whole ArrayBuffer is recycled: a small Node
 * Buffer may be a slice of a slab shared with unrelated Buffers.
 */
function ownsItsMemory(buf: Uint8Array): boolean {
  return buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
}

/**
 * Gives a buffer no one uses any more back to the pool. Past the caps the
 * smallest idle buffers leave first (the newcomer included): a large buffer
 * is the expensive one to fault in again, and a growing message returns a
 * run of smaller ones that must not push it out.
 */
export function returnBuffer(buf: Uint8Array): void {
  if (!hasWeakRef || buf.length > MAX_BYTES || !ownsItsMemory(buf)) return;
  recyclable.add(buf.buffer);
  idle.push({ ref: new WeakRef(buf), bytes: buf.length });
  idleBytes += buf.length;
  while (idle.length > MAX_BUFFERS || idleBytes > MAX_BYTES) {
    let smallest = 0;
    for (let i = 1; i < idle.length; i++) if (idle[i]!.bytes < idle[smallest]!.bytes) smallest = i;
    idleBytes -= idle[smallest]!.bytes;
    idle.splice(smallest, 1);
  }
}

/** Marks a buffer a recycling decoder fills: views of it are decoder memory from the first message on. */
export function markRecyclable(buf: Uint8Array): void {
  if (ownsItsMemory(buf)) recyclable.add(buf.buffer);
}

/** True when `view` is a view of a buffer that went (or may go) through the pool: valid only during its handler. */
export function isRecyclable(view: ArrayBufferView): boolean {
  return recyclable.has(view.buffer);
}

/** Idle buffers and their bytes (collected ones included until the next take): for tests and telemetry. */
export function poolStats(): { buffers: number; bytes: number } {
  return { buffers: idle.length, bytes: idleBytes };
}
