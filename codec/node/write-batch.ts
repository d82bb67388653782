// Per-tick write batching for one socket: everything a connection writes
// while handling one read (or in one synchronous loop) goes to the socket in
// one writev when the tick ends. An echo server answering one read of 1,000
// small messages then makes one system call, not 1,000.
import type { Duplex } from 'node:stream';

/** Frames up to this size are copied into the batch buffer rather than queued alone. */
const SMALL_WRITE = 4096;
const BATCH_BYTES = 64 * 1024;

export class WriteBatch {
  readonly #socket: Duplex;
  #queued: Uint8Array[] = [];
  #queuedBytes = 0;
  #batch: Uint8Array | null = null;
  #batchLength = 0;
  #flushScheduled = false;

  constructor(socket: Duplex) {
    this.#socket = socket;
  }

  /** Bytes written this tick and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues chunks for this tick's writev; small ones are copied into one batch buffer. */
  write(chunks: Uint8Array[]): void {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return;
    for (const chunk of chunks) {
      if (chunk.length <= SMALL_WRITE) {
        if (this.#batch === null || this.#batchLength + chunk.length > this.#batch.length) this.#startBatch();
        this.#batch!.set(chunk, this.#batchLength);
        this.#batchLength += chunk.length;
      } else {
        this.#endBatch();
        this.#queued.push(chunk);
      }
      this.#queuedBytes += chunk.length;
    }
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  /** Hands everything queued to the socket now (also run at the end of each tick). */
  readonly flush = (): void => {
    this.#flushScheduled = false;
    this.#endBatch();
    const queued = this.#queued;
    if (queued.length === 0) return;
    this.#queued = [];
    this.#queuedBytes = 0;
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) return;
    if (queued.length === 1) {
      socket.write(queued[0]!);
      return;
    }
    socket.cork();
    for (const chunk of queued) socket.write(chunk);
    socket.uncork();
  };

  /** Drops what is queued (the transport is being destroyed). */
  clear(): void {
    this.#queued = [];
    this.#queuedBytes = 0;
    this.#batchLength = 0;
  }

  #startBatch(): void {
    this.#endBatch();
    this.#batch = Buffer.allocUnsafe(BATCH_BYTES);
    this.#batchLength = 0;
  }

  /** Queues the filled part of the batch buffer; the next small write continues after it. */
  #endBatch(): void {
    if (this.#batch !== null && this.#batchLength > 0) {
      this.#queued.push(this.#batch.subarray(0, this.#batchLength));
      this.#batch = this.#batch.length - this.#batchLength >= SMALL_WRITE ? this.#batch.subarray(this.#batchLength) : null;
      this.#batchLength = 0;
    }
  }
}
