// Encoder: payloads in, frame bytes out (sans-I/O), RFC 6455 §5.
//
// Server role never masks (§5.1) and never copies a payload over 1 KiB: each
// frame is a header chunk followed by a view of the caller's bytes, ready for
// writev/cork. The caller must not change those bytes until they are written.
// A frame of up to 1 KiB is one chunk with its payload copied in.
// Client role masks every frame with a fresh key (§5.3, §10.3) in one v128
// pass through WebAssembly into an output buffer it owns. Keys come from a
// pool filled by crypto.getRandomValues (or an injected `randomFill`).
// Returned chunks never alias WebAssembly memory, so they stay valid.

import { getWasm, refreshViews, views, ENCODE_SLICE, ENCODE_MAX_FRAMES, type Wasm } from './wasm.js';
import { isSendableCloseCode } from './errors.js';
import { allocUnsafe, asBytes } from './bytes.js';
import { markLent, recycleLent, takeBuffer } from './message-pool.js';
import { resolveRole, type Role } from './options.js';
import { OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG } from './generated/wasm-interface.js';

export interface EncoderOptions {
  /** 'client' masks every frame; 'server' never masks. Default 'server'. */
  role?: Role;
  /** Fills a buffer with random bytes for mask keys. Default crypto.getRandomValues. */
  randomFill?: (buf: Uint8Array) => void;
  /** Fills the 4-byte mask key of one frame (as `ws`'s option of that name); takes precedence over randomFill. */
  generateMask?: (mask: Uint8Array) => void;
}

export interface MessageOptions {
  /** Binary (opcode 2) or text (opcode 1). Default: text for a string, binary otherwise. */
  binary?: boolean;
  /** Split into frames of at most this many payload bytes. Default 0: one frame. */
  fragmentSize?: number;
  /**
   * Set RSV1 on the message's first frame: the payload is compressed by a
   * negotiated permessage-deflate (RFC 7692 §6). Default false.
   */
  rsv1?: boolean;
}

export interface FragmentOptions {
  /** Opcode of the message, taken from its first fragment. Default as in message(). */
  binary?: boolean;
  /** True on the message's last fragment. */
  fin: boolean;
}

/** RSV1 in a frame's first byte: set on a message's first frame by permessage-deflate (RFC 7692 §6). */
const RSV1 = 0x40;
/** Mask keys drawn per refill of an encoder with its own randomFill. */
const KEY_POOL_BYTES = 4096;
/**
 * Encoders on the default source share one pool of keys, filled 64 KiB (the
 * most getRandomValues gives per call) at a time: a call costs ~10 µs
 * whatever its size, which a 4 MiB message of 4096 frames would otherwise
 * pay four times. Each key is still used once (§10.3: unpredictable keys).
 */
const SHARED_KEY_POOL_BYTES = 65536;
let sharedKeys: Uint8Array | null = null;
let sharedKeyPos = SHARED_KEY_POOL_BYTES;

function takeSharedKeys(count: number): number {
  sharedKeys ??= new Uint8Array(SHARED_KEY_POOL_BYTES);
  if (sharedKeyPos + count * 4 > SHARED_KEY_POOL_BYTES) {
    defaultRandomFill(sharedKeys);
    sharedKeyPos = 0;
  }
  const at = sharedKeyPos;
  sharedKeyPos += count * 4;
  return at;
}
/**
 * Client output of at least this many bytes comes from the message pool and
 * goes back to it once written (recycle(), or the Node writer): a fresh
 * multi-megabyte buffer faults in a page per 4 KiB, which costs more than the
 * masking itself.
 */
const LENT_OUTPUT = 64 << 10;
/**
 * A server frame with at most this many payload bytes is one chunk, its
 * payload copied after the header (writeSmallFrame); larger payloads are sent
 * as views, without a copy.
 */
export const SMALL_FRAME = 1024;
/** Below this, masking in JS beats three crossings into WebAssembly. */
const SMALL_MASKED = 128;

const textEncoder = new TextEncoder();

function defaultRandomFill(buf: Uint8Array): void {
  globalThis.crypto.getRandomValues(buf);
}

function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return textEncoder.encode(data);
  return asBytes(data);
}

/** A copy of `len` (a few) bytes of WebAssembly memory at `at`: header bytes leave the shared memory at once. */
function copyOut(at: number, len: number): Uint8Array {
  // allocUnsafe, not `new Uint8Array(len)`: V8 keeps typed arrays of up to 64
  // bytes on its heap, and the first `.buffer` read of one (detachFromWasm's
  // check, Node's writev) moves it off-heap, a ~0.5 µs allocation per frame.
  const out = allocUnsafe(len);
  const u8 = views.u8;
  for (let i = 0; i < len; i++) out[i] = u8[at + i]!;
  return out;
}

/** The bytes of a small unmasked frame with `len` payload bytes (§5.2: 7-bit length below 126, else 16-bit). */
function smallFrameBytes(len: number): number {
  return len + (len < 126 ? 2 : 4);
}

/**
 * Writes one unmasked (server-role, §5.1) frame of at most SMALL_FRAME
 * payload bytes into `target` at `at`, header and payload. The Encoder makes
 * its small server frames this way (one chunk: for a small payload the copy
 * costs less than the objects of a header chunk and a payload view, and far
 * less than a transport's own copy of a payload that is a decoder view), and
 * a transport that copies small frames into a buffer of its own takes them
 * this way with no chunk at all (Connection's onWriteFrame). `firstByte` is
 * FIN, RSV and opcode (§5.2). Returns the bytes written: the payload's and a
 * 2-byte header, or 4 from 126 bytes on (smallFrameBytes).
 */
export function writeSmallFrame(target: Uint8Array, at: number, firstByte: number, payload: Uint8Array): number {
  const len = payload.length;
  target[at] = firstByte;
  let hl = 2;
  if (len < 126) {
    target[at + 1] = len;
  } else {
    // 16-bit extended length, network byte order (§5.2); SMALL_FRAME < 65536
    target[at + 1] = 126;
    target[at + 2] = len >>> 8;
    target[at + 3] = len & 0xff;
    hl = 4;
  }
  if (len <= 16) for (let i = 0; i < len; i++) target[at + hl + i] = payload[i]!;
  else target.set(payload, at + hl);
  return hl + len;
}

/** Bytes of a masked frame's header for a payload of `len` bytes (§5.2): 2, 4 or 10, plus the 4-byte key. */
function maskedHeaderLength(len: number): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + 4;
}

/** A client output buffer of exactly `n` bytes: a large one lent from the message pool (see recycle()). */
function outputBuffer(n: number): Uint8Array {
  if (n < LENT_OUTPUT) return allocUnsafe(n);
  const pooled = takeBuffer(n, 2 * n);
  const buf = pooled ?? allocUnsafe(n);
  markLent(buf);
  return pooled === null ? buf : buf.subarray(0, n);
}

/** The mask key at keys[k..k+4) as the little-endian u32 WebAssembly takes (wire byte order in memory). */
function keyAt(keys: Uint8Array, k: number): number {
  return (keys[k]! | (keys[k + 1]! << 8) | (keys[k + 2]! << 16) | (keys[k + 3]! << 24)) >>> 0;
}

export class Encoder {
  readonly role: Role;
  #masked: boolean;
  #randomFill: (buf: Uint8Array) => void;
  #keys: Uint8Array | null = null;
  #keyPos = KEY_POOL_BYTES;
  #fragmenting = false;
  #wasm: Wasm | null = null;
  /** generateMask is called once per frame, in frame order: never fill ahead. */
  #perFrameKeys = false;
  /** Keys come from the process-wide pool (the default random source). */
  #sharedKeys: boolean;

  constructor(options: EncoderOptions = {}) {
    const role = resolveRole(options.role);
    this.role = role;
    this.#masked = role === 'client';
    const generateMask = options.generateMask;
    this.#randomFill = generateMask !== undefined
      ? (buf) => { for (let i = 0; i < buf.length; i += 4) generateMask(buf.subarray(i, i + 4)); }
      : options.randomFill ?? defaultRandomFill;
    this.#perFrameKeys = generateMask !== undefined;
    this.#sharedKeys = generateMask === undefined && options.randomFill === undefined;
  }

  /** Frames a whole message. */
  message(data: Uint8Array | string, options: MessageOptions = {}): Uint8Array[] {
    if (this.#fragmenting) throw new Error('a fragmented message is in progress: finish it with fragment(..., { fin: true })');
    const binary = options.binary ?? typeof data !== 'string';
    const fragmentSize = options.fragmentSize ?? 0;
    if (!Number.isInteger(fragmentSize) || fragmentSize < 0) throw new RangeError('fragmentSize must be an integer >= 0');
    // RSV1 travels in the first frame's byte 0 with the opcode (§5.2; RFC 7692 §6).
    return this.#frames(toBytes(data), (binary ? OP_BINARY : OP_TEXT) | (options.rsv1 === true ? RSV1 : 0), true, fragmentSize);
  }

  /** Frames one piece of a message sent piece by piece; the first piece sets text or binary. */
  fragment(data: Uint8Array | string, options: FragmentOptions): Uint8Array[] {
    const opcode = this.#fragmenting ? 0 : (options.binary ?? typeof data !== 'string') ? OP_BINARY : OP_TEXT;
    const fin = options.fin === true;
    const frames = this.#frames(toBytes(data), opcode, fin, 0);
    this.#fragmenting = !fin;
    return frames;
  }

  /**
   * Gives back frames this encoder returned, once they are written (the
   * transport has taken the bytes) or dropped: large client-role output goes
   * back to the message pool and the next message reuses that memory, already
   * resident. Optional (frames not given back are garbage collected); the
   * Node WebSocket does it for every frame it writes. The frames must not be
   * used afterwards. Frames that did not come from an encoder are ignored.
   */
  recycle(frames: readonly Uint8Array[]): void {
    // Server output is header chunks and the caller's own payload: nothing lent.
    if (!this.#masked) return;
    for (const frame of frames) recycleLent(frame);
  }

  ping(payload: Uint8Array | string = new Uint8Array(0)): Uint8Array[] {
    return this.#control(OP_PING, toBytes(payload));
  }

  pong(payload: Uint8Array | string = new Uint8Array(0)): Uint8Array[] {
    return this.#control(OP_PONG, toBytes(payload));
  }

  /** A close frame; no code means an empty body (the peer sees 1005). */
  close(code?: number, reason: string = ''): Uint8Array[] {
    if (code === undefined) {
      if (reason !== '') throw new TypeError('a close reason needs a close code');
      return this.#control(OP_CLOSE, new Uint8Array(0));
    }
    if (!isSendableCloseCode(code)) throw new RangeError(`invalid close code ${code} (RFC 6455 §7.4)`);
    const text = textEncoder.encode(reason);
    const body = new Uint8Array(2 + text.length);
    body[0] = code >>> 8;
    body[1] = code & 0xff;
    body.set(text, 2);
    return this.#control(OP_CLOSE, body);
  }

  #control(opcode: number, payload: Uint8Array): Uint8Array[] {
    // §5.5: control frames carry at most 125 bytes and are never fragmented.
    if (payload.length > 125) throw new RangeError('control frame payload must be at most 125 bytes');
    return this.#frames(payload, opcode, true, 0);
  }

  /** Takes `count` mask keys from the pool (then at this.#keys); returns their offset in it. */
  #takeKeys(count: number): number {
    if (this.#sharedKeys) {
      const at = takeSharedKeys(count);
      this.#keys = sharedKeys;
      return at;
    }
    if (this.#keys === null) this.#keys = new Uint8Array(KEY_POOL_BYTES);
    if (this.#perFrameKeys) {
      this.#randomFill(this.#keys.subarray(0, count * 4));
      this.#keyPos = count * 4;
      return 0;
    }
    if (this.#keyPos + count * 4 > KEY_POOL_BYTES) {
      this.#randomFill(this.#keys);
      this.#keyPos = 0;
    }
    const at = this.#keyPos;
    this.#keyPos += count * 4;
    return at;
  }

  #frames(payload: Uint8Array, opcode: number, fin: boolean, fragmentSize: number): Uint8Array[] {
    const len = payload.length;
    const size = fragmentSize === 0 || fragmentSize >= len ? Math.max(len, 1) : fragmentSize;
    const count = len === 0 ? 1 : Math.ceil(len / size);
    const lastLen = len - (count - 1) * size;
    return this.#masked
      ? this.#maskedFrames(payload, opcode, fin, size, count, lastLen)
      : this.#plainFrames(payload, opcode, fin, size, count, lastLen);
  }

  /**
   * Server role: header chunks and views of the payload, no copy; a frame of
   * up to SMALL_FRAME payload bytes is one chunk, header and payload copied.
   */
  #plainFrames(payload: Uint8Array, opcode: number, fin: boolean, size: number, count: number, lastLen: number): Uint8Array[] {
    if (count === 1 && lastLen <= SMALL_FRAME) {
      const out = allocUnsafe(smallFrameBytes(lastLen));
      writeSmallFrame(out, 0, (fin ? 0x80 : 0) | opcode, payload);
      return [out];
    }
    const w = (this.#wasm ??= getWasm());
    const dst = w.encodeDst;
    const writeHeader = w.exports.writeHeader;
    if (count === 1) return [copyOut(dst, writeHeader(dst, (fin ? 0x80 : 0) | opcode, lastLen, 0, 0)), payload];
    // First, middle and last frames differ only in their first byte and the
    // last one's length: the middle frames share one header chunk (chunks are
    // only ever read). Payload views are made with the constructor, cheaper
    // than subarray (which looks up a species constructor).
    const full = writeHeader(dst, opcode, size, 0, 0);
    writeHeader(dst + full, 0, size, 0, 0);
    const lastHeaderLength = writeHeader(dst + 2 * full, (fin ? 0x80 : 0) | 0, lastLen, 0, 0);
    const headers = copyOut(dst, 2 * full + lastHeaderLength);
    const hbuf = headers.buffer, h = headers.byteOffset;  // a slice of Node's Buffer pool
    const first = new Uint8Array(hbuf, h, full);
    const middle = new Uint8Array(hbuf, h + full, full);
    const last = new Uint8Array(hbuf, h + 2 * full, lastHeaderLength);
    const out: Uint8Array[] = new Array(2 * count);
    const pbuf = payload.buffer;
    let p = payload.byteOffset;
    for (let i = 0; i < count - 1; i++) {
      out[2 * i] = i === 0 ? first : middle;
      out[2 * i + 1] = new Uint8Array(pbuf, p, size);
      p += size;
    }
    out[2 * count - 2] = last;
    out[2 * count - 1] = new Uint8Array(pbuf, p, lastLen);
    return out;
  }

  /**
   * Client role: all frames of the call in one output buffer the encoder
   * owns (one chunk for writev). The payload passes through WebAssembly in
   * slices that stay in cache, so the DRAM traffic is what a copy needs: one
   * read of the payload, one write of the frames. Large frames are masked in
   * place in the slice (a smaller working set than a separate destination);
   * slices of many small frames go through encodeFrames, which interleaves
   * the headers.
   */
  #maskedFrames(payload: Uint8Array, opcode: number, fin: boolean, size: number, count: number, lastLen: number): Uint8Array[] {
    const w = (this.#wasm ??= getWasm());
    if (count === 1 && lastLen <= SMALL_MASKED) {
      const k = this.#takeKeys(1);
      const keys = this.#keys!;
      const dst = w.encodeDst;
      const hl = w.exports.writeHeader(dst, (fin ? 0x80 : 0) | opcode, lastLen, 1, keyAt(keys, k));
      const out = allocUnsafe(hl + lastLen);
      const u8 = views.u8;
      for (let i = 0; i < hl; i++) out[i] = u8[dst + i]!;
      for (let i = 0, o = hl; i < lastLen; i++) out[o++] = payload[i]! ^ keys[k + (i & 3)]!;
      return [out];
    }
    const out = outputBuffer((count - 1) * (maskedHeaderLength(size) + size) + maskedHeaderLength(lastLen) + lastLen);
    let o = 0;
    if (size <= ENCODE_SLICE >>> 1) {
      // Many frames per slice: WebAssembly writes headers and masked payloads.
      const perSlice = Math.min(ENCODE_MAX_FRAMES, Math.floor(ENCODE_SLICE / size));
      for (let first = 0; first < count; first += perSlice) {
        const frames = Math.min(perSlice, count - first);
        const start = first * size;
        const bytes = Math.min(frames * size, payload.length - start);
        const k = this.#takeKeys(frames);
        const u8 = views.u8;
        u8.set(this.#keys!.subarray(k, k + frames * 4), w.encodeKeys);
        if (bytes !== 0) u8.set(payload.subarray(start, start + bytes), w.encodeSrc);
        const lastSlice = first + frames >= count;
        const written = w.exports.encodeFrames(w.encodeSrc, bytes, w.encodeDst, size, first === 0 ? opcode : 0, lastSlice && fin ? 1 : 0, 1, w.encodeKeys);
        out.set(u8.subarray(w.encodeDst, w.encodeDst + written), o);
        o += written;
      }
      return [out];
    }
    // Frames larger than half a slice: the header, then the payload masked slice by slice in place.
    let p = 0;
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      const n = last ? lastLen : size;
      const k = this.#takeKeys(1);
      let key = keyAt(this.#keys!, k);
      const hl = w.exports.writeHeader(w.encodeDst, (last && fin ? 0x80 : 0) | (i === 0 ? opcode : 0), n, 1, key);
      const u8 = views.u8;
      for (let j = 0; j < hl; j++) out[o + j] = u8[w.encodeDst + j]!;
      o += hl;
      for (let q = 0; q < n; q += ENCODE_SLICE) {
        const m = Math.min(ENCODE_SLICE, n - q);
        u8.set(payload.subarray(p + q, p + q + m), w.encodeSrc);
        key = w.exports.maskInto(w.encodeSrc, w.encodeSrc, m, key) >>> 0;
        out.set(u8.subarray(w.encodeSrc, w.encodeSrc + m), o);
        o += m;
      }
      p += n;
    }
    return [out];
  }
}
