// Encoder: payloads in, frame bytes out (sans-I/O), RFC 6455 §5.
//
// Server role never masks (§5.1) and never copies the payload: each frame is
// a header chunk followed by a view of the caller's bytes, ready for
// writev/cork. The caller must not change those bytes until they are written.
// Client role masks every frame with a fresh key (§5.3, §10.3) in one v128
// pass through WebAssembly into an output buffer it owns. Keys come from a
// pool filled by crypto.getRandomValues (or an injected `randomFill`).
// Returned chunks never alias WebAssembly memory, so they stay valid.

import { getWasm, refreshViews, views, ENCODE_SLICE, ENCODE_MAX_FRAMES, type Wasm } from './wasm.js';
import { isSendableCloseCode } from './errors.js';
import { allocUnsafe, asBytes } from './bytes.js';
import { resolveRole, type Role } from './options.js';

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

const RSV1 = 0x40;
const OP_TEXT = 1, OP_BINARY = 2, OP_CLOSE = 8, OP_PING = 9, OP_PONG = 10;
const KEY_POOL_BYTES = 4096;
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

/** Header length of a frame with `len` payload bytes (§5.2). */
function headerLength(len: number, masked: boolean): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/** Writes a header into `out` at `at`; returns its length. The key is 4 wire bytes from `keys` at `k`. */
function writeHeader(out: Uint8Array, at: number, b0: number, len: number, keys: Uint8Array | null, k: number): number {
  const maskBit = keys !== null ? 0x80 : 0;
  let i = at;
  out[i++] = b0;
  if (len < 126) {
    out[i++] = maskBit | len;
  } else if (len < 65536) {
    out[i++] = maskBit | 126;
    out[i++] = len >>> 8;
    out[i++] = len & 0xff;
  } else {
    out[i++] = maskBit | 127;
    const hi = Math.floor(len / 2 ** 32);
    out[i++] = hi >>> 24; out[i++] = (hi >>> 16) & 0xff; out[i++] = (hi >>> 8) & 0xff; out[i++] = hi & 0xff;
    out[i++] = len >>> 24; out[i++] = (len >>> 16) & 0xff; out[i++] = (len >>> 8) & 0xff; out[i++] = len & 0xff;
  }
  if (keys !== null) {
    out[i++] = keys[k]!; out[i++] = keys[k + 1]!; out[i++] = keys[k + 2]!; out[i++] = keys[k + 3]!;
  }
  return i - at;
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

  constructor(options: EncoderOptions = {}) {
    const role = resolveRole(options.role);
    this.role = role;
    this.#masked = role === 'client';
    const generateMask = options.generateMask;
    this.#randomFill = generateMask !== undefined
      ? (buf) => { for (let i = 0; i < buf.length; i += 4) generateMask(buf.subarray(i, i + 4)); }
      : options.randomFill ?? defaultRandomFill;
    this.#perFrameKeys = generateMask !== undefined;
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

  /** Takes `count` mask keys from the pool; returns their offset in it. */
  #takeKeys(count: number): number {
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

  /** Server role: header chunks and views of the payload, no copy. */
  #plainFrames(payload: Uint8Array, opcode: number, fin: boolean, size: number, count: number, lastLen: number): Uint8Array[] {
    if (count === 1) {
      const header = new Uint8Array(headerLength(lastLen, false));
      writeHeader(header, 0, (fin ? 0x80 : 0) | opcode, lastLen, null, 0);
      return lastLen === 0 ? [header] : [header, payload];
    }
    // First, middle and last frames differ only in their first byte and the
    // last one's length: the middle frames share one header chunk (chunks are
    // only ever read). Payload views are made with the constructor, cheaper
    // than subarray (which looks up a species constructor).
    const full = headerLength(size, false);
    const headers = new Uint8Array(2 * full + headerLength(lastLen, false));
    writeHeader(headers, 0, opcode, size, null, 0);
    writeHeader(headers, full, 0, size, null, 0);
    const lastHeaderLength = writeHeader(headers, 2 * full, (fin ? 0x80 : 0) | 0, lastLen, null, 0);
    const first = new Uint8Array(headers.buffer, 0, full);
    const middle = new Uint8Array(headers.buffer, full, full);
    const last = new Uint8Array(headers.buffer, 2 * full, lastHeaderLength);
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
   * Client role: masked frames in buffers it owns, one per slice of at most
   * ~128 KiB. Slices rather than one big buffer: a fresh multi-megabyte
   * allocation costs a page fault per 4 KiB on first touch, while slice-sized
   * allocations are recycled by the allocator.
   */
  #maskedFrames(payload: Uint8Array, opcode: number, fin: boolean, size: number, count: number, lastLen: number): Uint8Array[] {
    if (count === 1 && lastLen <= SMALL_MASKED) {
      const k = this.#takeKeys(1);
      const keys = this.#keys!;
      const out = allocUnsafe(headerLength(lastLen, true) + lastLen);
      let o = writeHeader(out, 0, (fin ? 0x80 : 0) | opcode, lastLen, keys, k);
      for (let i = 0; i < lastLen; i++) out[o++] = payload[i]! ^ keys[k + (i & 3)]!;
      return [out];
    }
    const w = (this.#wasm ??= getWasm());
    const chunks: Uint8Array[] = [];
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
        const out = allocUnsafe(written);
        out.set(u8.subarray(w.encodeDst, w.encodeDst + written));
        chunks.push(out);
      }
      return chunks;
    }
    // Frames larger than a slice: each slice masked in place, the header put before the first.
    let p = 0;
    for (let i = 0; i < count; i++) {
      const last = i === count - 1;
      const n = last ? lastLen : size;
      const k = this.#takeKeys(1);
      const keys = this.#keys!;
      let key = (keys[k]! | (keys[k + 1]! << 8) | (keys[k + 2]! << 16) | (keys[k + 3]! << 24)) >>> 0;
      const hl = headerLength(n, true);
      for (let q = 0; q < n || q === 0; ) {
        const m = Math.min(ENCODE_SLICE, n - q);
        const out = allocUnsafe((q === 0 ? hl : 0) + m);
        const o = q === 0 ? writeHeader(out, 0, (last && fin ? 0x80 : 0) | (i === 0 ? opcode : 0), n, keys, k) : 0;
        views.u8.set(payload.subarray(p + q, p + q + m), w.encodeSrc);
        key = w.exports.maskInto(w.encodeSrc, w.encodeSrc, m, key) >>> 0;
        out.set(views.u8.subarray(w.encodeSrc, w.encodeSrc + m), o);
        chunks.push(out);
        q += m;
        if (m === 0) break;
      }
      p += n;
    }
    return chunks;
  }
}
