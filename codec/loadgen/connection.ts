// One load-generator connection: a raw net/tls socket (wsframe's dial), the
// core Encoder in client role (masked frames, RFC 6455 §5.3) and the core
// Decoder fed straight from the socket (onread into WebAssembly memory), with
// none of the WebSocket class's per-message machinery (events, queues,
// copies): the generator's CPU per message stays close to the bare syscalls.
import type * as net from 'node:net';
import { Decoder } from '../core/decoder.js';
import { Encoder } from '../core/encoder.js';
import { dial, type ClientHandshake, type DialOptions } from '../node/dial.js';
import { RunError, describeSocketError } from './errors.js';

export interface OpenOptions {
  /** Give up on connect + handshake after this many ms. */
  timeoutMs: number;
  /** Largest message accepted from the server. */
  maxMessageSize: number;
  /** Sub-protocols to offer, extra request headers, TLS options. */
  dial?: DialOptions;
}

/** Response-head reads land here (copied out at once), before the decoder takes over the socket. */
const headBuffer = new Uint8Array(16 * 1024);
const noop = (): void => {};
/**
 * Every decoder's socket reads land in the same WebAssembly input area (each
 * read is parsed before the next): one view of it serves every connection and
 * every read, until WebAssembly memory grows (which detaches it).
 */
let inputView: Uint8Array | null = null;
function inputArea(decoder: Decoder): Uint8Array {
  if (inputView === null || inputView.byteLength === 0) inputView = decoder.readBuffer();
  return inputView;
}

/** After the server's close frame, how long its TCP close may take before we close ours. */
const CLOSE_GRACE_MS = 200;

export class BenchConnection {
  readonly socket: net.Socket;
  /**
   * Called with each piece of a message as it is read (`fin` on its last), so
   * echoes are compared where they land instead of first being reassembled;
   * `data` is a view valid only during the call.
   */
  onPiece: (data: Uint8Array, binary: boolean, fin: boolean) => void = noop;
  onPong: (payload: Uint8Array) => void = noop;
  /** Called once if the connection fails or the server closes it while we did not ask to. */
  onFailure: (error: RunError) => void = noop;
  /** The close code the server answered our close with (1005: none in its frame), or null. */
  closeCode: number | null = null;
  #decoder: Decoder;
  #handshake: ClientHandshake | null;
  #url: string;
  #closing = false;
  #done = false;
  #closed: (() => void) | null = null;
  #encoder: Encoder | null = null;

  private constructor(url: URL, options: OpenOptions, opened: (error: RunError | null) => void) {
    this.#url = url.href;
    this.#decoder = new Decoder({
      role: 'client',
      maxMessageSize: options.maxMessageSize,
      maxFragments: 0,
      onFragment: (data, binary, fin) => this.onPiece(data, binary, fin),
      onPong: (payload) => this.onPong(payload),
      // §5.5.2: a ping from the server gets its pong, as any endpoint must.
      onPing: (payload) => { this.#write(this.encoder.pong(payload.slice())); },
      onClose: (code, reason) => this.#onClose(code, reason),
      onError: (error) => this.#fail(`server sent an invalid frame: ${error.message} (close code ${error.closeCode})`),
    });
    let decoder: Decoder | null = null;
    const target = {
      readBuffer: (): Uint8Array => (decoder === null ? headBuffer : inputArea(decoder)),
      pushReadBuffer: (n: number): void => {
        if (decoder !== null) { decoder.pushReadBuffer(n); return; }
        let progress;
        try {
          progress = this.#handshake!.push(headBuffer.slice(0, n));
        } catch (error) {
          // Not a 101 with the right Accept: report the status line or the reason.
          return finish(new RunError(`${this.#url}: server did not upgrade: ${(error as Error).message}`));
        }
        if (!progress.done) return;
        this.#handshake = null;
        decoder = this.#decoder;
        finish(null);
        if (progress.rest.length > 0) this.#decoder.push(progress.rest);
      },
    };
    // No permessage-deflate offer (dial offers it by default, as ws's client
    // does): the generator measures the echo of the bytes it sends and its
    // decoder reads frames raw; a server that compressed would fail the run
    // on the first RSV1 frame (RFC 6455 §5.2).
    const dialed = dial(url, { ...options.dial, perMessageDeflate: false }, target);
    this.socket = dialed.socket;
    this.#handshake = dialed.handshake;
    this.socket.setNoDelay(true);
    const timer = setTimeout(() => finish(new RunError(`${this.#url}: no WebSocket handshake within ${options.timeoutMs} ms`)), options.timeoutMs);
    let settled = false;
    const finish = (error: RunError | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== null) { this.#done = true; this.socket.destroy(); }
      opened(error);
    };
    this.socket.on('error', (error) => {
      const line = describeSocketError(error);
      if (!settled) finish(new RunError(`cannot connect to ${this.#url}: ${line}`));
      else this.#fail(line);
    });
    this.socket.on('close', () => {
      if (!settled) finish(new RunError(`${this.#url}: connection closed before the WebSocket handshake completed`));
      else if (this.#closing) this.#finishClose();
      else this.#fail('connection closed by the server without a close frame');
    });
  }

  /** Client-role encoder (masks every frame), made on first use. */
  get encoder(): Encoder {
    // Mask keys come from the process-wide pool of the default random source: nothing per connection.
    return (this.#encoder ??= new Encoder({ role: 'client' }));
  }

  /** Connects and completes the opening handshake; rejects with a RunError. */
  static open(url: URL, options: OpenOptions): Promise<BenchConnection> {
    return new Promise((resolve, reject) => {
      const connection: BenchConnection = new BenchConnection(url, options, (error) => {
        if (error === null) resolve(connection);
        else reject(error);
      });
    });
  }

  /** Writes pre-encoded frame bytes (never changed afterwards, so they can be re-sent as they are). */
  write(bytes: Uint8Array): void {
    if (!this.#done) this.socket.write(bytes);
  }

  #write(chunks: Uint8Array[]): void {
    if (this.#done) return;
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  /**
   * Closing handshake (§7.1.2): our 1000, the server's close frame, then the
   * server closes TCP first (§7.1.1), so the TIME_WAIT state is the server's
   * and not the generator's. Waits at most `timeoutMs`.
   */
  close(timeoutMs: number): Promise<void> {
    if (this.#done) return Promise.resolve();
    this.#closing = true;
    return new Promise((resolve) => {
      this.#closed = resolve;
      this.#write(this.encoder.close(1000));
      setTimeout(() => this.#finishClose(), timeoutMs).unref();
    });
  }

  /** Drops the connection at once (after a failure). */
  destroy(): void {
    this.#done = true;
    this.#closing = true;
    this.socket.destroy();
    this.#decoder.destroy();
  }

  #onClose(code: number, reason: string): void {
    if (this.#closing) {
      // The 'close' event (the server's FIN) completes the closing handshake;
      // a server that does not close TCP gets a moment, then we do (§7.1.1 allows it).
      this.closeCode = code;
      setTimeout(() => this.#finishClose(), CLOSE_GRACE_MS).unref();
      return;
    }
    this.#fail(`server closed the connection during the run: close code ${code}${reason === '' ? '' : ` "${reason}"`}`);
  }

  #finishClose(): void {
    if (this.#closed === null) return;
    const resolve = this.#closed;
    this.#closed = null;
    this.#done = true;
    this.socket.destroy();
    this.#decoder.destroy();
    resolve();
  }

  #fail(line: string): void {
    if (this.#closing) { this.#finishClose(); return; }
    if (this.#done) return;
    this.#done = true;
    this.socket.destroy();
    this.onFailure(new RunError(`${this.#url}: ${line}`));
  }
}
