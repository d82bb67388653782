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
// capped in count and bytes, caps that grow with the number of recycling
// decoders alive (past them the smallest idle buffers leave).

/**
 * Idle buffers kept, and their bytes (a larger buffer is never kept), with no
 * decoder alive: enough for one message of the default maxMessageSize
 * (64 MiB) and the run of buffers it outgrew on the way (64 KiB doubling: 11
 * buffers), so that repeated large messages fault nothing in.
 */
const BASE_BUFFERS = 16;
const BASE_BYTES = 128 << 20;
/**
 * Each recycling decoder alive raises both caps by one buffer and 4 MiB: a
 * server with 100 peers echoing 4 MiB messages has that many buffers between
 * a write and the next message, and with the base caps alone most of them
 * were dropped and faulted in again (server CPU 4.1 -> 2.5 ms per message
 * once kept). When decoders go, the caps fall back and the pool is trimmed.
 */
const BUFFERS_PER_USER = 1;
const BYTES_PER_USER = 4 << 20;
/** A larger buffer never enters the pool. */
const MAX_BUFFER_BYTES = 128 << 20;

let users = 0;
const maxBuffers = (): number => BASE_BUFFERS + users * BUFFERS_PER_USER;
const maxBytes = (): number => BASE_BYTES + users * BYTES_PER_USER;

/** A decoder that recycles its messages through the pool was made. */
export function joinPool(): void {
  users++;
}

/** A recycling decoder was destroyed (or collected): the caps fall, idle buffers past them leave. */
export function leavePool(): void {
  users--;
  trim();
}

/** Past the caps the smallest idle buffers leave first. */
function trim(): void {
  const buffers = maxBuffers(), bytes = maxBytes();
  while (idle.length > buffers || idleBytes > bytes) {
    let smallest = 0;
    for (let i = 1; i < idle.length; i++) if (idle[i]!.bytes < idle[smallest]!.bytes) smallest = i;
    idleBytes -= idle[smallest]!.bytes;
    idle.splice(smallest, 1);
  }
}

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
 * Delivered buffers that a writer took over (adopt()), with the number of its
 * writes still in flight: they come back to the pool when that reaches 0
 * again (releaseAdopted), or never, if the writer never says (the GC takes them).
 */
const adopted = new WeakMap<ArrayBufferLike, number>();

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
  // Taken over by a writer: it comes back through releaseAdopted(), once written.
  if (adopted.has(buf.buffer)) return;
  if (!hasWeakRef || buf.length > MAX_BUFFER_BYTES || !ownsItsMemory(buf)) return;
  for (const entry of idle) if (entry.ref.deref()?.buffer === buf.buffer) return;  // already idle
  recyclable.add(buf.buffer);
  idle.push({ ref: new WeakRef(buf), bytes: buf.length });
  idleBytes += buf.length;
  trim();
}

/**
 * Takes a delivered message's buffer out of recycling, for a writer that
 * queues a view of it (a server echoing the message): instead of copying the
 * view, the buffer stops being decoder memory and is left to the garbage
 * collector. False (the caller copies) for a buffer idle in the pool: a view
 * kept past its handler, against the documented lifetime.
 */
export function adopt(view: ArrayBufferView): boolean {
  const buffer = view.buffer;
  if (!recyclable.has(buffer)) return false;
  for (const entry of idle) if (entry.ref.deref()?.buffer === buffer) return false;
  recyclable.delete(buffer);
  adopted.set(buffer, 0);
  return true;
}

/**
 * A writer starts writing a view of an adopted buffer: true when it must call
 * releaseAdopted(view) once the transport has taken those bytes.
 */
export function retainAdopted(view: ArrayBufferView): boolean {
  const writes = adopted.get(view.buffer);
  if (writes === undefined) return false;
  adopted.set(view.buffer, writes + 1);
  return true;
}

/**
 * One write of an adopted buffer is done; after the last one the buffer goes
 * back to the pool, resident, for the next message.
 */
export function releaseAdopted(view: ArrayBufferView): void {
  const buffer = view.buffer;
  const writes = adopted.get(buffer);
  if (writes === undefined) return;
  if (writes > 1) {
    adopted.set(buffer, writes - 1);
    return;
  }
  adopted.delete(buffer);
  returnBuffer(new Uint8Array(buffer));
}

/**
 * Lends an encoder's output buffer (taken from the pool, or fresh) as if it
 * were adopted: a writer that retains and releases it (retainAdopted /
 * releaseAdopted) returns it here once written, and so does recycleLent().
 * A buffer never given back is left to the garbage collector.
 */
export function markLent(buf: Uint8Array): void {
  if (!ownsItsMemory(buf)) return;
  recyclable.delete(buf.buffer);
  adopted.set(buf.buffer, 0);
}

/**
 * The caller is done with a view of a lent buffer (it is written, or was never
 * queued): back to the pool. Ignored for a buffer a writer still holds, or
 * one that was not lent.
 */
export function recycleLent(view: ArrayBufferView): void {
  if (adopted.get(view.buffer) !== 0) return;
  adopted.delete(view.buffer);
  returnBuffer(new Uint8Array(view.buffer));
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
