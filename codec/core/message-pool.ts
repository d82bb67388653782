// Recycled reassembly buffers: a small process-wide pool of message buffers
// that a decoder filled, delivered as views (DeliveryOptions.ownMessages
// false) and got back once the handler returned. A fresh multi-megabyte
// buffer costs a page fault per 4 KiB page on first touch, more than the copy
// into it; a buffer taken from here is already resident.
//
// The pool is capped in count and bytes, caps that grow with the number of
// recycling decoders alive (past them the smallest idle buffers leave). Idle
// buffers are not counted in the decoders' memory budget (that counts bytes
// held by incomplete messages). Memory still goes back to the system:
// - Each recycling decoder alive has a share (two buffers, 8 MiB, of 1 MiB or
//   more each) that the pool holds strongly, so that a busy server's buffers survive the garbage
//   collections its own traffic causes; everything past those shares is held
//   through WeakRef only, for the collector to take at any full collection.
// - A strongly held buffer that stays idle through two calls of
//   loosenIdleBuffers() (the Node adapter calls it every 15 s) is demoted to
//   a WeakRef: traffic that stops gives its memory back.
// - When decoders go, the shares and caps fall at once.

/**
 * Idle buffers kept, and their bytes (a larger buffer is never kept), with no
 * decoder alive: enough for one message of the default maxMessageSize
 * (64 MiB) and the run of buffers it outgrew on the way (64 KiB doubling: 11
 * buffers), so that repeated large messages fault nothing in.
 */
const BASE_BUFFERS = 16;
const BASE_BYTES = 128 << 20;
/**
 * Each recycling decoder alive raises both caps by two buffers and 8 MiB, and
 * that much is held strongly: a server with 100 peers echoing 4 MiB messages
 * has up to two buffers per peer in use (one being filled, one being
 * written), and as many idle between a write and the next message. With the base
 * caps alone most of them were dropped and faulted in again (server CPU 4.1
 * -> 2.5 ms per message once kept), and held through WeakRef alone each
 * garbage collection dropped them all (2.0 -> 3.3 ms per message when 32-byte
 * traffic ran in between: 17-67 page faults per message).
 */
const BUFFERS_PER_USER = 2;
const BYTES_PER_USER = 8 << 20;
/**
 * Smaller idle buffers are held through WeakRef only: they fault in again in
 * a few pages, and a doubling run of them (64 KiB, 128 KiB, ...) left by
 * each message that grew would otherwise take the strong shares that the
 * expensive large buffers need.
 */
const STRONG_MIN_BYTES = 1 << 20;
/** A larger buffer never enters the pool. */
const MAX_BUFFER_BYTES = 128 << 20;

let users = 0;
const maxBuffers = (): number => BASE_BUFFERS + users * BUFFERS_PER_USER;
const maxBytes = (): number => BASE_BYTES + users * BYTES_PER_USER;
const maxStrongBuffers = (): number => users * BUFFERS_PER_USER;
const maxStrongBytes = (): number => users * BYTES_PER_USER;

/** A decoder that recycles its messages through the pool was made. */
export function joinPool(): void {
  users++;
}

/** A recycling decoder was destroyed (or collected): the caps fall, idle buffers past them leave. */
export function leavePool(): void {
  users--;
  trim();
}

/**
 * Past the caps the smallest idle buffers leave first; past the strong
 * shares the smallest strongly held ones are demoted to WeakRefs.
 */
function trim(): void {
  const buffers = maxBuffers(), bytes = maxBytes();
  while (idle.length > buffers || idleBytes > bytes) remove(smallestOf(idle));
  const strongBuffers = maxStrongBuffers(), strongBytes = maxStrongBytes();
  while (strongCount > strongBuffers || strongIdleBytes > strongBytes) {
    demote(smallestOf(idle.filter((entry) => entry.strong !== null)));
  }
}

function smallestOf(entries: Idle[]): Idle {
  let smallest = entries[0]!;
  for (const entry of entries) if (entry.bytes < smallest.bytes) smallest = entry;
  return smallest;
}

/**
 * An idle buffer: held strongly (`strong`), or through `weak` for the
 * garbage collector to take. `since`: the loosenIdleBuffers() period it
 * became idle in.
 */
interface Idle {
  strong: Uint8Array | null;
  weak: WeakRef<Uint8Array> | null;
  bytes: number;
  since: number;
}

const bufferOf = (entry: Idle): Uint8Array | undefined => entry.strong ?? entry.weak?.deref();

function remove(entry: Idle): void {
  idle.splice(idle.indexOf(entry), 1);
  idleBytes -= entry.bytes;
  if (entry.strong !== null) {
    strongCount--;
    strongIdleBytes -= entry.bytes;
  }
}

/** Held through a WeakRef from now on (dropped where the runtime has none). */
function demote(entry: Idle): void {
  if (!hasWeakRef) {
    remove(entry);
    return;
  }
  entry.weak = new WeakRef(entry.strong!);
  entry.strong = null;
  strongCount--;
  strongIdleBytes -= entry.bytes;
}

/** Strongly held idle buffers, and their bytes. */
let strongCount = 0;
let strongIdleBytes = 0;
/** Periods of loosenIdleBuffers(). */
let period = 0;

/**
 * Demotes to WeakRefs the strongly held idle buffers that were already idle
 * at the previous call: called periodically by a runtime adapter (every 15 s
 * in Node), a buffer unused for one to two periods becomes the collector's
 * to take. Without calls, strong shares are given back only as decoders go.
 */
export function loosenIdleBuffers(): void {
  for (const entry of idle.slice()) if (entry.strong !== null && entry.since < period) demote(entry);
  period++;
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
  let best: Idle | null = null;
  let bestBuf: Uint8Array | null = null;
  for (let i = 0; i < idle.length;) {
    const entry = idle[i]!;
    const buf = bufferOf(entry);
    if (buf === undefined) {
      // Collected: forget it.
      remove(entry);
      continue;
    }
    if (buf.length >= min && buf.length <= max && (bestBuf === null || buf.length < bestBuf.length)) {
      best = entry;
      bestBuf = buf;
    }
    i++;
  }
  if (best === null) return null;
  remove(best);
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
  if (buf.length > MAX_BUFFER_BYTES || !ownsItsMemory(buf)) return;
  for (const entry of idle) if (bufferOf(entry)?.buffer === buf.buffer) return;  // already idle
  recyclable.add(buf.buffer);
  // A large buffer is held strongly at first (trim() demotes the smallest past
  // the decoders' shares); a small one, cheap to fault in again, weakly.
  if (buf.length >= STRONG_MIN_BYTES || !hasWeakRef) {
    idle.push({ strong: buf, weak: null, bytes: buf.length, since: period });
    strongCount++;
    strongIdleBytes += buf.length;
  } else {
    idle.push({ strong: null, weak: new WeakRef(buf), bytes: buf.length, since: period });
  }
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
  for (const entry of idle) if (bufferOf(entry)?.buffer === buffer) return false;
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

/**
 * Idle buffers and their bytes (collected ones included until the next
 * take), and how many of them are held strongly: for tests and telemetry.
 */
export function poolStats(): { buffers: number; bytes: number; strongBuffers: number; strongBytes: number } {
  return { buffers: idle.length, bytes: idleBytes, strongBuffers: strongCount, strongBytes: strongIdleBytes };
}
