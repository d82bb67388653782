// Decoder: bytes in, events out (sans-I/O). Pushed bytes are copied into the
// shared WebAssembly input area (or read there directly by a socket, see
// readBuffer), parsed in one WebAssembly call per slice, and dispatched to the
// handlers from the descriptor table that call filled.
//
// Lifetime rule: a message that arrived whole in one push (one frame), every
// streamed piece (onFragment, extension data) and every control payload is a
// view of WebAssembly memory, valid until the handler returns (and not across
// a push into any decoder from inside the handler); `data.slice()` keeps a
// copy. A message reassembled from several frames or pushes is, by default, a
// view of a recycled buffer (message-pool.ts), valid until the handler
// returns as well; with `ownMessages: true` it is an owned Uint8Array that is
// never written again (see Decoder.isDecoderMemory): keep it as it is.
//
// Reassembly happens here, not in WebAssembly: the shared linear memory never
// shrinks and cannot pass 4 GiB, while an owned buffer per message goes back
// to the garbage collector with its connection. A process-wide budget bounds
// the bytes all incomplete messages hold (Decoder.setMemoryBudget).

import { getWasm, parseArea, refreshViews, readAreaView, views, memoryBytes, isWasmMemory, INPUT_SIZE, TABLE_CAPACITY, type Wasm } from './wasm.js';
import { errorFromId, ProtocolError } from './errors.js';
import { asBytes, allocUnsafe } from './bytes.js';
import {
  EV_MESSAGE, EV_FRAGMENT, EV_PING, EV_PONG, EV_CLOSE, EV_ERROR, EV_PIECE, EV_UTF8, FLAG_BINARY, FLAG_FIN, FLAG_RSV1, PIECE_UNKNOWN,
  ERR_MEMORY_BUDGET, ERR_OUT_OF_MEMORY, ERR_MESSAGE_TOO_BIG, ERR_INVALID_UTF8,
  TABLE_HEAD, HEAD_CONSUMED, HEAD_YIELDED, ENTRY_SIZE, ENTRY_KIND, ENTRY_PTR, ENTRY_LEN, ENTRY_EXTRA,
  STAT_FRAMES, STAT_MESSAGES, STAT_BYTES_IN, STAT_BUFFERED, STAT_PEAK_BUFFERED,
} from './generated/wasm-interface.js';
import { resolveArena, resolveLimits, resolveOwnMessages, resolveRole, type DeliveryOptions, type LimitOptions, type Role } from './options.js';
import { takeBuffer, returnBuffer, markRecyclable, isRecyclable, joinPool, leavePool } from './message-pool.js';
import type { InboundExtension } from './extension.js';
import { hostUtf8Validator, type Utf8Validator } from './host.js';
import { arena, arenaPtr, ARENA_SIZE } from './arena.js';

/** A recycling decoder whose last message was at least this long reassembles the next one in the arena when it is free. */
const ARENA_MIN_HINT = 1 << 20;

export type { Role } from './options.js';

export interface DecoderSettings extends LimitOptions, DeliveryOptions {
  /** 'server' expects masked frames (from a client), 'client' unmasked ones. Default 'server'. */
  role?: Role;
  /** A negotiated extension (see extension.ts): messages with its RSV bits go to it, raw. Default none. */
  extension?: InboundExtension;
}

/** What the decoder calls; each is optional (missing ones ignore their event). */
export interface DecoderHandlers {
  /** A whole message; text has been validated as UTF-8. */
  onMessage?(data: Uint8Array, binary: boolean): void;
  /** Streaming mode (instead of onMessage): payload pieces as they arrive; `fin` marks the message's last. */
  onFragment?(data: Uint8Array, binary: boolean, fin: boolean): void;
  onPing?(payload: Uint8Array): void;
  onPong?(payload: Uint8Array): void;
  /** The peer's close frame; code 1005 when it had no body. Later input is ignored. */
  onClose?(code: number, reason: string): void;
  /** The peer broke a rule; close with error.closeCode. Later input is ignored. */
  onError?(error: ProtocolError): void;
}

export interface DecoderOptions extends DecoderSettings, DecoderHandlers {}

/** The handlers as the decoder calls them: all present (onFragment is only called in streaming mode, where it is). */
type Handlers = Required<DecoderHandlers>;
const EVENT_HANDLERS = ['onMessage', 'onPing', 'onPong', 'onClose', 'onError'] as const;

/**
 * `handlers` itself when it has every handler; else an object of them bound
 * to it (methods still run on `handlers`), the missing ones ignoring their event.
 */
function withEveryHandler(handlers: DecoderHandlers): Handlers {
  if (EVENT_HANDLERS.every((name) => typeof handlers[name] === 'function')) return handlers as Handlers;
  const bound = (name: keyof DecoderHandlers) => {
    const handler = handlers[name];
    return typeof handler === 'function' ? (handler as (...args: never[]) => void).bind(handlers) : noop;
  };
  return {
    onMessage: bound('onMessage'), onFragment: bound('onFragment'), onPing: bound('onPing'),
    onPong: bound('onPong'), onClose: bound('onClose'), onError: bound('onError'),
  } as Handlers;
}

export interface DecoderStats {
  frames: number;
  messages: number;
  bytesIn: number;
  /** Bytes held for an incomplete message (its received payload), frame or header right now. */
  bufferedBytes: number;
  peakBufferedBytes: number;
  /** Close code of the error reported, 0 if none. */
  lastErrorCode: number;
}

export type DecoderState = 'open' | 'closed' | 'failed' | 'destroyed';

export { DEFAULT_MAX_MESSAGE_SIZE } from './options.js';

// The descriptor table in u32 units (the layout is wasm/protocol.ts's).
const W_HEAD = TABLE_HEAD >>> 2, W_ENTRY = ENTRY_SIZE >>> 2;
const W_CONSUMED = HEAD_CONSUMED >>> 2, W_YIELDED = HEAD_YIELDED >>> 2;
const W_KIND = ENTRY_KIND >>> 2, W_PTR = ENTRY_PTR >>> 2, W_LEN = ENTRY_LEN >>> 2, W_EXTRA = ENTRY_EXTRA >>> 2;

/** Bytes copied into WebAssembly per parse call when pushing a large chunk. */
const COPY_SLICE = 128 << 10;

/**
 * Text runs (past their leading ASCII) at least this long are validated by
 * the host's UTF-8 validator (EV_UTF8), shorter ones in WebAssembly, where
 * there is no call to pay for. Measured: see README, "UTF-8 validation".
 */
const HOST_UTF8_MIN = 256;

const noop = (): void => {};
// ignoreBOM: a close reason starting with U+FEFF keeps it (it is text, not a byte-order mark).
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Nesting depth of parse runs: a handler may push into another decoder. */
let depth = 0;

/**
 * Default process-wide budget for the bytes held by incomplete messages: 1 GiB.
 * Chosen so that one process outlives any number of peers each holding an
 * unfinished message just under the default maxMessageSize (64 MiB): past
 * ~16 such peers, further ones fail with 1013 instead of the process running
 * out of memory. A multiple of maxMessageSize keeps honest large messages
 * flowing; lower it on small machines, raise it for many large uploads.
 */
export const DEFAULT_MEMORY_BUDGET = 2 ** 30;
let memoryBudget = DEFAULT_MEMORY_BUDGET;
/** Bytes reserved for incomplete messages by all decoders (capacity of their message buffers). */
let heldBytes = 0;

/** First capacity of a message buffer: growth doubles from here. */
const MIN_MESSAGE_BUFFER = 64 << 10;
/** A message may take any idle pooled buffer up to this size (see #grow). */
const TAKE_ANY_UP_TO = 8 << 20;

/** What a dropped (not destroyed) decoder had: its WebAssembly state and the budget its message held. */
interface Held { ptr: number; bytes: number; poolUser: boolean }

const registry = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<Held>((held) => {
    getWasm().exports.destroyDecoder(held.ptr);
    heldBytes -= held.bytes;
    if (held.poolUser) leavePool();
  })
  : null;

export class Decoder {
  #wasm: Wasm;
  #ptr: number;
  #state: DecoderState = 'open';
  #running = false;
  #queue: Uint8Array[] | null = null;
  #streaming: boolean;
  /** Called as methods of this object: an adapter passes one object per connection, not a closure per event. */
  #handlers: Handlers;
  #extension: InboundExtension | null;
  #lastErrorCode = 0;
  /** A payload was delivered from the decoder's own buffers (not the input area): release them after the run. */
  #deliveredHeld = false;
  /** The message being reassembled: its buffer (owned), bytes received, and the budget it holds. */
  #message: Uint8Array | null = null;
  #messageLength = 0;
  #held: Held = { ptr: 0, bytes: 0, poolUser: false };
  #peakMessage = 0;
  /** Length of the last reassembled message: the first buffer of the next one is that big (peers repeat sizes). */
  #sizeHint = 0;
  /** The consumer keeps messages: reassembly buffers are handed over, never recycled. */
  #ownMessages: boolean;
  /** The host's UTF-8 validator for the runs WebAssembly hands over (EV_UTF8); null: WebAssembly validates all. */
  #isUtf8: Utf8Validator | null;
  /** The arena option (recycling decoders only): large messages may be reassembled in the arena (arena.ts). */
  #arena: boolean;
  /** The message being reassembled lies in the arena. */
  #inArena = false;
  /** The last readBuffer() was the arena after the message's bytes. */
  #readArena = false;

  /**
   * Handlers come with the options, or as a separate object whose methods are
   * called on it (then only that object is kept). Streaming mode is chosen by
   * the presence of `onFragment`.
   */
  constructor(options?: DecoderOptions);
  constructor(options: DecoderSettings, handlers: DecoderHandlers);
  constructor(options: DecoderSettings = {}, handlers: DecoderHandlers = options as DecoderOptions) {
    const role = resolveRole(options.role);
    const { maxMessageSize, maxFragments } = resolveLimits(options);
    this.#streaming = typeof handlers.onFragment === 'function';
    this.#handlers = withEveryHandler(handlers);
    this.#extension = options.extension ?? null;
    this.#ownMessages = resolveOwnMessages(options);
    this.#arena = resolveArena(options) && !this.#ownMessages;
    this.#isUtf8 = hostUtf8Validator();
    this.#wasm = getWasm();
    this.#ptr = this.#wasm.exports.createDecoder(role === 'server' ? 1 : 0, this.#streaming ? 1 : 0, Math.floor(maxMessageSize), maxFragments,
      this.#extension?.rsvBits ?? 0, this.#isUtf8 === null ? 0 : HOST_UTF8_MIN);
    refreshViews();
    if (this.#ptr === 0) throw new RangeError('wsframe: cannot allocate WebAssembly memory for a decoder');
    this.#held.ptr = this.#ptr;
    if (!this.#ownMessages) {
      joinPool();
      this.#held.poolUser = true;
    }
    registry?.register(this, this.#held, this);
  }

  /** 'open', 'closed' (close frame received), 'failed' (protocol error reported) or 'destroyed'. */
  get state(): DecoderState {
    return this.#state;
  }

  /** Feeds bytes from the peer, in any chunking. Never throws for peer input; a handler's exception propagates. */
  push(chunk: Uint8Array): void {
    if (!(chunk instanceof Uint8Array)) chunk = asBytes(chunk);
    if (this.#state !== 'open' || chunk.length === 0) return;
    if (this.#running) {
      // A handler pushed into this same decoder: keep wire order by queueing.
      (this.#queue ??= []).push(chunk.slice());
      return;
    }
    this.#running = true;
    depth++;
    try {
      const area = parseArea(this.#wasm, depth - 1);
      if (chunk.length <= COPY_SLICE && chunk.length <= area.size) {
        // The common case, one slice: no loop.
        views.u8.set(chunk, area.input);
        this.#run(area.input, chunk.length, area.table);
      } else {
        this.#pushThrough(area.input, area.size, area.table, chunk);
      }
      if (this.#queue !== null) this.#drainQueue(area.input, area.size, area.table);
    } finally {
      depth--;
      this.#finishRun();
    }
  }

  /**
   * A view of the shared input area for a socket to read into directly
   * (net.Socket `onread`). Valid until the next push or readBuffer call;
   * write at most `.length` bytes, then call pushReadBuffer(n).
   */
  readBuffer(): Uint8Array {
    if (this.#inArena) {
      const at = arena.ptr + this.#messageLength;
      const room = Math.min(INPUT_SIZE, arena.ptr + ARENA_SIZE - at);
      if (room >= 64 << 10) {
        this.#readArena = true;
        refreshViews();
        return new Uint8Array(views.buffer, at, room);
      }
    }
    this.#readArena = false;
    return readAreaView();
  }

  /** Parses `n` bytes that were just written into readBuffer(). */
  pushReadBuffer(n: number): void {
    if (this.#state !== 'open' || n <= 0) return;
    const area = this.#wasm.areas[0]!;
    n = Math.min(n, INPUT_SIZE);
    if (this.#running || depth !== 0) {
      // Not at top level: the read area may be in use; copy out and push normally.
      const from = this.#readArena && this.#inArena ? arena.ptr + this.#messageLength : area.input;
      this.#readArena = false;
      this.push(views.u8.slice(from, from + n));
      return;
    }
    this.#running = true;
    depth++;
    try {
      if (this.#readArena && this.#inArena) {
        // Read straight after the message's bytes: pieces are packed from there.
        const at = arena.ptr + this.#messageLength;
        this.#wasm.exports.setPackTo(this.#ptr, at);
        this.#readArena = false;
        this.#run(at, n, area.table);
      } else {
        this.#run(area.input, n, area.table);
      }
      this.#drainQueue(area.input, area.size, area.table);
    } finally {
      depth--;
      this.#finishRun();
    }
  }

  /** Telemetry: readable at any time. */
  get stats(): DecoderStats {
    if (this.#state === 'destroyed') {
      return { frames: 0, messages: 0, bytesIn: 0, bufferedBytes: 0, peakBufferedBytes: 0, lastErrorCode: this.#lastErrorCode };
    }
    const stat = this.#wasm.exports.decoderStat;
    const p = this.#ptr;
    return {
      frames: stat(p, STAT_FRAMES),
      messages: stat(p, STAT_MESSAGES),
      bytesIn: stat(p, STAT_BYTES_IN),
      bufferedBytes: stat(p, STAT_BUFFERED) + this.#messageLength,
      peakBufferedBytes: Math.max(stat(p, STAT_PEAK_BUFFERED), this.#peakMessage),
      lastErrorCode: this.#lastErrorCode,
    };
  }

  /** Frees this decoder's WebAssembly memory now; later pushes are ignored. */
  destroy(): void {
    if (this.#state === 'destroyed') return;
    this.#state = 'destroyed';
    this.#queue = null;
    registry?.unregister(this);
    if (!this.#running) this.#free();
    // else: freed when the current run unwinds (#finishRun).
  }

  /** Size of the shared WebAssembly memory in bytes (all decoders share it; it never shrinks). */
  static memoryBytes(): number {
    return memoryBytes();
  }

  /**
   * True when `view` is a view of decoder memory, valid only until its handler
   * returns: WebAssembly memory, or a recycled reassembly buffer (decoders
   * without `ownMessages`).
   */
  static isDecoderMemory(view: ArrayBufferView): boolean {
    return isWasmMemory(view) || isRecyclable(view);
  }

  /**
   * Sets the process-wide budget for bytes held by incomplete (reassembled)
   * messages, all decoders together; default DEFAULT_MEMORY_BUDGET (1 GiB).
   * A message that would take the total past it fails its connection with
   * 1013 (Try Again Later); messages already held are not affected.
   */
  static setMemoryBudget(bytes: number): void {
    if (typeof bytes !== 'number' || !(bytes >= 0)) throw new RangeError('memory budget must be a number of bytes >= 0');
    memoryBudget = bytes;
  }

  /** Bytes all decoders hold for incomplete messages right now (counted against the budget). */
  static heldMessageBytes(): number {
    return heldBytes;
  }

  #free(): void {
    this.#dropMessage();
    if (this.#ptr !== 0) {
      this.#wasm.exports.destroyDecoder(this.#ptr);
      this.#ptr = 0;
    }
    if (this.#held.poolUser) {
      this.#held.poolUser = false;
      leavePool();
    }
  }

  /** Gives the message buffer (and its share of the budget) back. */
  #dropMessage(): void {
    if (this.#inArena) {
      this.#inArena = false;
      if (arena.owner === this) arena.owner = null;
    }
    heldBytes -= this.#held.bytes;
    this.#held.bytes = 0;
    this.#message = null;
    this.#messageLength = 0;
  }

  /**
   * Appends a piece of the message being reassembled (a view of the input
   * area) to its owned buffer; on the last piece, delivers the message.
   * `toCome`: bytes still to come in the final frame, PIECE_UNKNOWN before it.
   */
  #piece(ptr: number, len: number, kind: number, toCome: number): void {
    const have = this.#messageLength;
    const need = have + len;
    const fin = (kind & FLAG_FIN) !== 0;
    if (this.#inArena || (have === 0 && this.#message === null && this.#claimArena(need, fin, toCome))) {
      if (need <= ARENA_SIZE) {
        this.#arenaPiece(ptr, len, kind, need, fin);
        return;
      }
      this.#leaveArena(need, toCome);
      if (this.#state !== 'open') return;
    }
    let buf = this.#message;
    if (buf === null || need > buf.length) {
      buf = this.#grow(need, fin ? need : toCome === PIECE_UNKNOWN ? Infinity : need + toCome);
      if (buf === null) return;
    }
    if (len !== 0) buf.set(new Uint8Array(views.buffer, ptr, len), have);
    this.#messageLength = need;
    if (need > this.#peakMessage) this.#peakMessage = need;
    if (!fin) return;
    // The message leaves the budget: it is the caller's now, or goes back to
    // the pool once the handler returns.
    this.#sizeHint = need;
    this.#dropMessage();
    if (this.#ownMessages) {
      this.#handlers.onMessage(need === buf.length ? buf : buf.subarray(0, need), (kind & FLAG_BINARY) !== 0);
      return;
    }
    try {
      // A plain Uint8Array, not the Node Buffer it views: its slice() copies
      // (a Buffer's would alias the recycled memory).
      this.#handlers.onMessage(new Uint8Array(buf.buffer, buf.byteOffset, need), (kind & FLAG_BINARY) !== 0);
    } finally {
      returnBuffer(buf);
    }
  }

  #claimArena(need: number, fin: boolean, toCome: number): boolean {
    if (!this.#arena || fin || arena.owner !== null || arena.lent) return false;
    const hint = toCome === PIECE_UNKNOWN ? this.#sizeHint : need + toCome;
    if (hint < ARENA_MIN_HINT || hint > ARENA_SIZE) return false;
    arenaPtr();
    arena.owner = this;
    this.#inArena = true;
    return true;
  }

  #arenaPiece(ptr: number, len: number, kind: number, need: number, fin: boolean): void {
    const at = arena.ptr + this.#messageLength;
    if (len !== 0 && ptr !== at) views.u8.copyWithin(at, ptr, ptr + len);
    this.#messageLength = need;
    if (need > this.#peakMessage) this.#peakMessage = need;
    if (!fin) return;
    this.#sizeHint = need;
    this.#messageLength = 0;
    this.#inArena = false;
    try {
      this.#handlers.onMessage(new Uint8Array(views.buffer, arena.ptr, need), (kind & FLAG_BINARY) !== 0);
    } finally {
      if (arena.owner === this) arena.owner = null;
    }
  }

  /** The message outgrew the arena: it moves to a buffer of its own. */
  #leaveArena(need: number, toCome: number): void {
    const have = this.#messageLength;
    this.#inArena = false;
    this.#messageLength = 0;
    const buf = this.#grow(need, toCome === PIECE_UNKNOWN ? Infinity : need + toCome);
    if (buf !== null) {
      buf.set(new Uint8Array(views.buffer, arena.ptr, have));
      this.#messageLength = have;
    }
    if (arena.owner === this) arena.owner = null;
  }

  /** A buffer for at least `need` bytes (of a message of `total` bytes, Infinity when unknown), or null after failing the connection. */
  #grow(need: number, total: number): Uint8Array | null {
    const old = this.#message;
    const oldBytes = this.#held.bytes;
    // A message's first buffer is as big as the decoder's last message: one
    // fresh allocation, filled once, when a peer repeats sizes (a fresh buffer
    // costs a page fault per 4 KiB page it touches, regrowth touches twice).
    // Then doubling keeps the copies of a message that grows piece by piece
    // within one more pass over it. Never past what the message is known to need.
    let size = Math.max(need, 2 * (old?.length ?? 0), MIN_MESSAGE_BUFFER);
    if (old === null && this.#sizeHint > size) size = this.#sizeHint;
    size = Math.min(size, total);
    if (heldBytes - oldBytes + size > memoryBudget) size = need;
    if (heldBytes - oldBytes + size > memoryBudget) {
      this.#failFromTs(ERR_MEMORY_BUDGET);
      return null;
    }
    // A recycling decoder first looks for an idle, already resident buffer:
    // the smallest of at least `size`, and at most twice that, the message's
    // known length, or TAKE_ANY_UP_TO, within what the budget allows. A larger
    // one than needed costs no page faults (it is resident, and back in the
    // pool after the message) and saves the regrowth: a large message after
    // small ones (no size hint) would otherwise fault in a doubling run of
    // fresh buffers (~2 MiB of them for 4 MiB) while the pool holds idle ones
    // of its size. Larger idle buffers are left for large messages.
    const most = Math.max(2 * size, total === Infinity ? 0 : total, TAKE_ANY_UP_TO);
    let buf = this.#ownMessages ? null : takeBuffer(size, Math.min(most, memoryBudget - heldBytes + oldBytes));
    if (buf !== null) {
      size = buf.length;
    } else {
      try {
        buf = allocUnsafe(size);
      } catch {
        // Past what one buffer can be (or what the host will give): this connection only.
        this.#failFromTs(size > 2 ** 31 ? ERR_MESSAGE_TOO_BIG : ERR_OUT_OF_MEMORY);
        return null;
      }
      if (!this.#ownMessages) markRecyclable(buf);
    }
    if (old !== null && this.#messageLength !== 0) buf.set(old.length === this.#messageLength ? old : old.subarray(0, this.#messageLength));
    // The outgrown buffer is no one's: another message may use it.
    if (old !== null && !this.#ownMessages) returnBuffer(old);
    heldBytes += size - oldBytes;
    this.#held.bytes = size;
    this.#message = buf;
    return buf;
  }

  /** Fails the connection for a reason found on this side (memory), as the parser would. */
  #failFromTs(id: number): void {
    this.#state = 'failed';
    this.#dropMessage();
    const error = errorFromId(id, 0);
    this.#lastErrorCode = error.closeCode;
    this.#handlers.onError(error);
  }

  #finishRun(): void {
    this.#running = false;
    if (this.#state === 'destroyed') this.#free();
    else if (this.#state !== 'open') {
      // closed or failed: nothing more to decode
      this.#dropMessage();
      this.#wasm.exports.releaseAll(this.#ptr);
    }
    else if (this.#deliveredHeld) this.#wasm.exports.releaseHeld(this.#ptr);
    this.#deliveredHeld = false;
  }

  #pushThrough(input: number, size: number, table: number, chunk: Uint8Array): void {
    // Large pushes go through in cache-sized slices: the copy-in stays in L2.
    const slice = Math.min(size, COPY_SLICE);
    for (let off = 0; off < chunk.length && this.#state === 'open';) {
      const n = Math.min(slice, chunk.length - off);
      views.u8.set(n === chunk.length ? chunk : chunk.subarray(off, off + n), input);
      this.#run(input, n, table);
      off += n;
    }
  }

  #drainQueue(input: number, size: number, table: number): void {
    while (this.#queue !== null && this.#state === 'open') {
      const queued = this.#queue;
      this.#queue = null;
      for (const chunk of queued) this.#pushThrough(input, size, table, chunk);
    }
  }

  /** Parses [input, input+len) to the end, dispatching each batch of descriptors. */
  #run(input: number, len: number, table: number): void {
    const parse = this.#wasm.exports.parse;
    const head = table >>> 2;
    // Head of the table: [count, consumed, yielded]. A yield can leave work
    // that needs no more input (a zero-length frame), so loop on it too.
    for (let off = 0, more = true; (off < len || more) && this.#state === 'open';) {
      const count = parse(this.#ptr, input + off, len - off, table, TABLE_CAPACITY);
      refreshViews();
      const u32 = views.u32;
      off += u32[head + W_CONSUMED]!;
      more = u32[head + W_YIELDED] !== 0;
      if (count !== 0) this.#dispatch(head + W_HEAD, count, input, input + len);
    }
  }

  /** Calls the handlers for `count` descriptors; [inputStart, inputEnd) is the input area parsed. */
  #dispatch(entry: number, count: number, inputStart: number, inputEnd: number): void {
    for (let i = 0; i < count; i++, entry += W_ENTRY) {
      if (this.#state === 'destroyed') return;
      const u32 = views.u32;
      const kind = u32[entry + W_KIND]!;
      const ptr = u32[entry + W_PTR]!;
      const len = u32[entry + W_LEN]!;
      if (ptr < inputStart || ptr >= inputEnd) this.#deliveredHeld = true;
      switch (kind & 0xff) {
        case EV_UTF8:
          // Complete code points of a text piece (the next descriptor): WebAssembly checked the rest.
          if (!this.#isUtf8!(new Uint8Array(views.buffer, ptr, len))) {
            this.#failFromTs(ERR_INVALID_UTF8);
            return;
          }
          break;
        case EV_PIECE:
          this.#piece(ptr, len, kind, u32[entry + W_EXTRA]!);
          if (this.#state !== 'open') return;
          break;
        case EV_MESSAGE:
          this.#handlers.onMessage(new Uint8Array(views.buffer, ptr, len), (kind & FLAG_BINARY) !== 0);
          break;
        case EV_FRAGMENT:
          if ((kind & FLAG_RSV1) !== 0) {
            this.#extension!.onData(new Uint8Array(views.buffer, ptr, len), (kind & FLAG_BINARY) !== 0, (kind & FLAG_FIN) !== 0);
            break;
          }
          this.#handlers.onFragment(new Uint8Array(views.buffer, ptr, len), (kind & FLAG_BINARY) !== 0, (kind & FLAG_FIN) !== 0);
          break;
        case EV_PING:
          this.#handlers.onPing(new Uint8Array(views.buffer, ptr, len));
          break;
        case EV_PONG:
          this.#handlers.onPong(new Uint8Array(views.buffer, ptr, len));
          break;
        case EV_CLOSE: {
          this.#state = 'closed';
          const reason = len === 0 ? '' : utf8.decode(new Uint8Array(views.buffer, ptr, len));
          this.#handlers.onClose(u32[entry + W_EXTRA]!, reason);
          return;
        }
        case EV_ERROR: {
          this.#state = 'failed';
          const error = errorFromId(u32[entry + W_EXTRA]!, ptr);
          this.#lastErrorCode = error.closeCode;
          this.#handlers.onError(error);
          return;
        }
      }
    }
  }
}
