// Per-tick write batching for one socket: everything a connection writes
// while handling one read (or in one synchronous loop) goes to the socket in
// one writev when the tick ends. An echo server answering one read of 1,000
// small messages then makes one system call, not 1,000.
//
// Memory: small frames are copied into a batch buffer that lives for one tick
// only. It starts small (from Node's shared Buffer pool), grows while a tick
// writes more, and is dropped at the flush: an idle connection holds no
// output buffer at all.
import type { Duplex } from 'node:stream';
import { releaseAdopted, retainAdopted } from '../core/message-pool.js';
import { isArenaView, releaseArena } from '../core/arena.js';
import { writeSmallFrame } from '../core/encoder.js';

/** Frames up to this size are copied into the batch buffer rather than queued alone. */
const SMALL_WRITE = 4096;
/**
 * A chunk this large goes to the socket at once, with everything queued
 * before it, instead of at the end of the tick: batching saves nothing when
 * one write is already this big, and the kernel usually takes it whole, so
 * `bufferedAmount` is back to 0 before send() returns and the sender is not
 * told to wait (and resume) for a write that already happened.
 */
const WRITE_THROUGH = 64 * 1024;
/**
 * First batch buffer of a tick: a slice of Node's shared Buffer pool. Small,
 * because a server broadcasting one message to many connections allocates one
 * per connection per tick; a tick that writes more grows the next one 8x.
 */
const FIRST_BATCH = 512;
/** Batch buffers grow 8x per refill up to this size. */
const MAX_BATCH = 64 * 1024;

/** Told after each end-of-tick flush (back-pressure bookkeeping). */
export interface FlushListener {
  flushed(): void;
}

/**
 * A chunk to the socket. An echoed message's reassembly buffer that was taken
 * over instead of copied (message-pool.ts adopt()) goes back to the pool once
 * the socket has written it, so the next message reuses resident memory.
 */
function write(socket: Duplex, chunk: Uint8Array, straightThrough: boolean): void {
  if (retainAdopted(chunk)) socket.write(chunk, () => releaseAdopted(chunk));
  else if (isArenaView(chunk)) writeArena(socket, chunk, straightThrough);
  else socket.write(chunk);
}

/**
 * A message delivered from the arena (arena.ts) and sent back as it is. It
 * is written from there only when the socket had nothing waiting: then Node
 * hands it to the system at once and only the kernel holds on to its bytes
 * (WebAssembly memory grows in place, so their address stays valid). Bytes
 * that would wait in the socket's own queue are copied first, because a
 * growth of the memory would empty the queued view. The arena is free for
 * the next message once the socket has written them.
 */
function writeArena(socket: Duplex, chunk: Uint8Array, straightThrough: boolean): void {
  if (straightThrough) {
    socket.write(chunk, releaseArena);
    return;
  }
  socket.write(Buffer.from(chunk));
  releaseArena();
}

/** Chunks that will not be written: an arena message among them frees the arena. */
function releaseArenaIn(chunks: Uint8Array[]): void {
  for (const chunk of chunks) if (isArenaView(chunk)) releaseArena();
}

/** The end-of-tick flush, shared by all batches (no closure per connection). */
function flushTick(batch: WriteBatch): void {
  batch.flushTick();
}

export class WriteBatch {
  readonly #socket: Duplex;
  readonly #listener: FlushListener;
  #queued: Uint8Array[] = [];
  #queuedBytes = 0;
  #batch: Uint8Array | null = null;
  #batchLength = 0;
  /** Size of the last batch buffer allocated this tick (0: none yet). */
  #batchSize = 0;
  #flushScheduled = false;
  /** Run once this tick's bytes are handed to the socket (wsframe/ws's send callbacks). */
  #afterFlush: Array<() => void> | null = null;

  constructor(socket: Duplex, listener: FlushListener) {
    this.#socket = socket;
    this.#listener = listener;
  }

  /** Bytes written this tick and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues chunks for this tick's writev; small ones are copied into the tick's batch buffer. */
  write(chunks: Uint8Array[]): void {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) {
      releaseArenaIn(chunks);
      return;
    }
    let writeThrough = false;
    for (const chunk of chunks) {
      if (chunk.length <= SMALL_WRITE) {
        if (this.#batch === null || this.#batchLength + chunk.length > this.#batch.length) this.#startBatch(chunk.length);
        this.#batch!.set(chunk, this.#batchLength);
        this.#batchLength += chunk.length;
        // A small message lent from the arena is copied here: the arena is free again.
        if (isArenaView(chunk)) releaseArena();
      } else {
        this.#endBatch();
        this.#queued.push(chunk);
        if (chunk.length >= WRITE_THROUGH) writeThrough = true;
      }
      this.#queuedBytes += chunk.length;
    }
    if (writeThrough) {
      // Handed over now; a flush already scheduled still runs (its send callbacks wait for it).
      this.#handOver();
      return;
    }
    this.#scheduleFlush();
  }

  /** One small unmasked frame (encoder.ts writeSmallFrame), written straight into the batch buffer. */
  writeFrame(firstByte: number, payload: Uint8Array): void {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return;
    const most = payload.length + 4;  // the 16-bit length header at most
    if (this.#batch === null || this.#batchLength + most > this.#batch.length) this.#startBatch(most);
    const n = writeSmallFrame(this.#batch!, this.#batchLength, firstByte, payload);
    this.#batchLength += n;
    this.#queuedBytes += n;
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(flushTick, this);
    }
  }

  /** The flush scheduled by write(): hands the tick's bytes over, then tells the listener. */
  flushTick(): void {
    this.#flushScheduled = false;
    // Told even when this flush found nothing left: a large frame may have
    // taken the tick's bytes to the socket already (write-through), and a
    // 'drain' owed for them is due now.
    this.#handOver();
    this.#listener.flushed();
    const callbacks = this.#afterFlush;
    if (callbacks === null) return;
    this.#afterFlush = null;
    for (const callback of callbacks) callback();
  }

  /**
   * Runs `callback` right after this tick's flush, once what was written
   * before it is handed to the socket: one tick queued per batch instead of
   * one per callback. False (the caller schedules it) when no flush is due.
   */
  afterFlush(callback: () => void): boolean {
    if (!this.#flushScheduled) return false;
    (this.#afterFlush ??= []).push(callback);
    return true;
  }

  /** Hands everything queued to the socket now (the transport is being ended). */
  flush(): void {
    this.#flushScheduled = false;
    this.#handOver();
  }

  /** Drops what is queued (the transport is being destroyed). */
  clear(): void {
    releaseArenaIn(this.#queued);
    this.#queued = [];
    this.#queuedBytes = 0;
    this.#batch = null;
    this.#batchLength = 0;
    this.#batchSize = 0;
  }

  /** Writes the queue to the socket. */
  #handOver(): void {
    this.#endBatch();
    this.#batch = null;  // the tick's buffer goes with the write; the next tick starts small again
    this.#batchSize = 0;
    const queued = this.#queued;
    if (queued.length === 0) return;
    this.#queued = [];
    this.#queuedBytes = 0;
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) {
      releaseArenaIn(queued);
      return;
    }
    // Nothing waiting in the socket: what we write now goes to the system at once.
    const straightThrough = socket.writableLength === 0;
    if (queued.length === 1) {
      write(socket, queued[0]!, straightThrough);
    } else {
      socket.cork();
      for (const chunk of queued) write(socket, chunk, straightThrough);
      socket.uncork();
    }
  }

  #startBatch(needed: number): void {
    this.#endBatch();
    const size = this.#batchSize === 0 ? FIRST_BATCH : Math.min(MAX_BATCH, this.#batchSize * 8);
    this.#batchSize = Math.max(size, needed);
    this.#batch = Buffer.allocUnsafe(this.#batchSize);
    this.#batchLength = 0;
  }

  /** Queues the filled part of the batch buffer; the next small write continues after it. */
  #endBatch(): void {
    if (this.#batch !== null && this.#batchLength > 0) {
      this.#queued.push(this.#batch.subarray(0, this.#batchLength));
      this.#batch = this.#batch.subarray(this.#batchLength);
      this.#batchLength = 0;
    }
  }
}
