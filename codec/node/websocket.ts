// The Node WebSocket: a Connection (the sans-I/O state machine) run over a
// net/tls socket. Handshakes live in accept.ts (server) and dial.ts (client),
// output batching in write-batch.ts, zero-copy reads in onread.ts.
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { Connection, type ConnectionHandlers, type ConnectionRole, type ConnectionState, type ConnectionTimer, type TransportShutdown } from '../core/connection.js';
import { DEFAULT_CLOSE_TIMEOUT, type BehaviourOptions, type DeliveryOptions, type LimitOptions } from '../core/options.js';
import { PerMessageDeflate, formatParams, type PerMessageDeflateOptions } from '../core/permessage-deflate.js';
import { zlibProvider } from './zlib.js';
import { dial, parseWebSocketUrl, type ClientHandshake, type DialOptions } from './dial.js';
import { switchToOnread, type ReadTarget } from './onread.js';
import { isWasmMemory } from '../core/wasm.js';
import { WriteBatch, type FlushListener } from './write-batch.js';
import { agePool } from './pool-aging.js';

/** @internal Hooks for wsframe/ws (codec/ws), which runs on this class. */
export const kMessageSink = Symbol('wsframe.messageSink');
export const kSendMessage = Symbol('wsframe.sendMessage');
export const kAfterFlush = Symbol('wsframe.afterFlush');

/** The readyState of a {@link WebSocket}: CONNECTING 0, OPEN 1, CLOSING 2, CLOSED 3 (as in the WHATWG WebSocket). */
export type WebSocketReadyState = 0 | 1 | 2 | 3;

const READY_STATE: Record<ConnectionState, WebSocketReadyState> = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };

/**
 * How socket reads reach the decoder:
 * - 'data': ordinary 'data' events (Node allocates a 64 KiB Buffer per read; the decoder copies it in);
 * - 'onread': net.Socket `onread` with the decoder's WASM input area (1 MiB) as the read
 *   buffer: the kernel writes straight into WASM memory, in fewer, larger reads.
 */
export type SocketReadMode = 'data' | 'onread';

export interface WebSocketOptions extends LimitOptions, BehaviourOptions, Pick<DeliveryOptions, 'arena'> {
  /** Sub-protocols: the server's supported list, or the client's offer (most preferred first). */
  protocols?: string[];
  /**
   * false (default): 'message'/'ping'/'pong' data is an owned Buffer (a copy the
   * listener may keep). true: a zero-copy view into WASM memory, valid only while
   * the listener runs (saves one allocation and one copy per message).
   */
  zeroCopy?: boolean;
  /** @deprecated Use `zeroCopy` (`copy: false` is `zeroCopy: true`). */
  copy?: boolean;
  /**
   * permessage-deflate (RFC 7692) with node:zlib: false, true, or options (README,
   * "permessage-deflate"). Default false for accept(), true for connect(), as in ws.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

export interface AcceptOptions extends WebSocketOptions {
  /** Extra headers for the 101 response. */
  headers?: Record<string, string>;
  /**
   * Default 'onread': measured on the 4 MiB / 4096-fragment echo round trip it
   * halves the server's CPU per round trip (about 10 ms against 19-23 ms with
   * 'data'). Falls back to 'data' where the socket cannot be switched
   * (TLS sockets, non-net streams, a Node whose internals differ).
   */
  readMode?: SocketReadMode;
}

export interface ConnectOptions extends WebSocketOptions, Omit<DialOptions, 'protocols'> {
  /** Time the server gets to answer the handshake, in ms. Default: closeTimeout. */
  handshakeTimeout?: number;
  /** Default 'onread' (also over TLS, where tls.connect takes `onread` too). See {@link SocketReadMode}. */
  readMode?: SocketReadMode;
}

export interface SendOptions {
  /** Binary (opcode 0x2) or text (0x1) message; default: binary unless `data` is a string. */
  binary?: boolean;
  /** Split the message into frames of at most this many payload bytes (§5.4). Default 0 = one frame. */
  fragmentSize?: number;
  /** With permessage-deflate negotiated: false sends this message uncompressed. Default true (threshold applies). */
  compress?: boolean;
}


/** @internal How a WebSocket gets its socket: an upgraded server socket, or a client URL. */
export type WebSocketTransport =
  | { kind: 'server'; socket: Duplex; head: Uint8Array | undefined; readMode: SocketReadMode; protocol: string; compression?: PerMessageDeflate | null }
  | { kind: 'client'; url: URL; options: ConnectOptions };

/** Close code sent when one of the application's listeners throws (§7.4.1 "unexpected condition"). */
const INTERNAL_ERROR = 1011;

/** A socket in use by a WebSocket carries its events object here (read by the shared socket listeners). */
const kEvents = Symbol('wsframe.events');
type OwnedSocket = Duplex & { [kEvents]: WebSocketEvents };

/** The part of a WebSocket that its Connection, socket and write batch call back into. */
interface WebSocketEvents extends ConnectionHandlers, FlushListener {
  socketEnded(): void;
  socketClosed(): void;
  socketError(error: Error): void;
  socketDrained(): void;
  socketTimedOut(): void;
}

// Socket listeners shared by every connection (`this` is the socket): no closures per connection.
function socketOnEnd(this: OwnedSocket): void {
  this[kEvents].socketEnded();
}
function socketOnClose(this: OwnedSocket): void {
  this[kEvents].socketClosed();
}
function socketOnError(this: OwnedSocket, error: Error): void {
  this[kEvents].socketError(error);
}
function socketOnDrain(this: OwnedSocket): void {
  this[kEvents].socketDrained();
}
function socketOnTimeout(this: OwnedSocket): void {
  this[kEvents].socketTimedOut();
}

/**
 * One WebSocket connection over a Node socket.
 *
 * Events: 'open'(), 'message'(data: Buffer, binary: boolean) (a view with `zeroCopy`),
 * 'ping'(payload), 'pong'(payload), 'close'(code: number, reason: string, wasClean: boolean),
 * 'error'(err), 'drain'().
 * 'error' is only emitted when someone listens for it (a peer's protocol error or
 * a reset must not crash a process that did not subscribe); 'close' always follows.
 *
 * Back-pressure: send()/ping()/pong() return false when `bufferedAmount` has
 * reached the socket's high-water mark; exactly one 'drain' follows once it is
 * below the mark again (or 'close', if the connection ends first).
 *
 * A listener of 'open', 'message', 'ping', 'pong' or 'drain' that throws fails
 * the connection with 1011 (nothing more read is delivered), then the error is
 * rethrown, as from any EventEmitter listener.
 */
export class WebSocket extends EventEmitter {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  /** The negotiated sub-protocol, '' if none. */
  protocol = '';
  readonly role: ConnectionRole;
  readonly #connection: Connection;
  readonly #copyPayloads: boolean;
  #socket: net.Socket | Duplex | null = null;
  #output: WriteBatch | null = null;
  #closeTimer: ReturnType<typeof setTimeout> | null = null;
  #handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  /** Client only: reads the server's response head while CONNECTING; null once the handshake is over. */
  #handshake: ClientHandshake | null = null;
  #closeEmitted = false;
  /** The last write left bufferedAmount at or above the socket's high-water mark. */
  #aboveMark = false;
  /** A send()/ping()/pong() returned false for back-pressure: one 'drain' is owed. */
  #drainOwed = false;
  /** Idle timeout requested by the connection; applied once the socket exists. */
  #idleTimeout = 0;
  /** bytesIn when the heartbeat ping went out; -1: no ping outstanding. */
  #heartbeatBytesIn = -1;

  /**
   * The Connection's handlers, the socket's listeners and the write batch's
   * callback, as methods on one prototype: each WebSocket gets one small object
   * instead of a closure per event (idle connections are mostly this).
   */
  static readonly #Events = class implements WebSocketEvents {
    readonly #ws: WebSocket;
    constructor(ws: WebSocket) {
      this.#ws = ws;
    }
    onWrite(chunks: Uint8Array[]): boolean {
      return this.#ws.#write(chunks);
    }
    onWriteFrame(firstByte: number, payload: Uint8Array): boolean {
      return this.#ws.#writeFrame(firstByte, payload);
    }
    onShutdown(how: TransportShutdown): void {
      this.#ws.#shutdownTransport(how);
    }
    onTimer(kind: ConnectionTimer, ms: number): void {
      this.#ws.#setTimer(kind, ms);
    }
    onMessage(data: Uint8Array, binary: boolean): void {
      const ws = this.#ws;
      ws.#deliverMessage(ws.#copyPayloads ? ownedBuffer(data) : data, binary);
    }
    onPing(payload: Uint8Array): void {
      const ws = this.#ws;
      ws.#emitGuarded('ping', ws.#copyPayloads ? ownedBuffer(payload) : payload);
    }
    onPong(payload: Uint8Array): void {
      const ws = this.#ws;
      ws.#emitGuarded('pong', ws.#copyPayloads ? ownedBuffer(payload) : payload);
    }
    onProtocolError(error: Error): void {
      this.#ws.#emitError(error);
    }
    onClosed(code: number, reason: string, wasClean: boolean): void {
      this.#ws.#closed(code, reason, wasClean);
    }
    flushed(): void {
      this.#ws.#checkDrained();
    }
    socketEnded(): void {
      this.#ws.#connection.transportEnded();
    }
    socketClosed(): void {
      this.#ws.#connection.transportClosed();
    }
    socketError(error: Error): void {
      this.#ws.#emitError(error);
    }
    socketDrained(): void {
      this.#ws.#checkDrained();
    }
    socketTimedOut(): void {
      this.#ws.#idle();
    }
  };

  readonly #events: WebSocketEvents;

  /** Use {@link accept} or {@link connect}; the constructor is internal. */
  constructor(role: ConnectionRole, options: WebSocketOptions, transport: WebSocketTransport) {
    super();
    this.role = role;
    this.#copyPayloads = options.zeroCopy !== undefined ? !options.zeroCopy : (options.copy ?? true);
    this.#events = new WebSocket.#Events(this);
    // An upgraded socket (accept(), or a client whose handshake ran elsewhere) starts OPEN.
    // Owned payloads: the decoder hands reassembled messages over (ownedBuffer
    // then copies only WebAssembly views); zero-copy: it may recycle them.
    this.#connection = new Connection({
      ...options,
      role,
      open: transport.kind === 'server',
      ownMessages: this.#copyPayloads,
      ...(transport.kind === 'server' && transport.compression != null ? { compression: transport.compression } : {}),
    }, this.#events);
    // Pooled buffers left idle (recycled messages, written frames) go back after 15-30 s unused.
    agePool();
    if (transport.kind === 'server') {
      this.protocol = transport.protocol;
      this.#attachServerSocket(transport.socket, transport.head, transport.readMode);
    } else {
      this.#startClient(transport.url, transport.options);
    }
  }

  get readyState(): WebSocketReadyState {
    return READY_STATE[this.#connection.state];
  }

  /** The negotiated extensions as in Sec-WebSocket-Extensions ('' if none), e.g. 'permessage-deflate'. */
  get extensions(): string {
    const deflate = this.#connection.perMessageDeflate;
    return deflate === null ? '' : formatParams(deflate.params);
  }

  /** Bytes sent but not yet taken by the kernel: this tick's write batch plus the socket's buffer. */
  get bufferedAmount(): number {
    const socket = this.#socket;
    return socket === null ? 0 : socket.writableLength + (this.#output?.queuedBytes ?? 0);
  }

  /** Decoder statistics (frames, messages, bytesIn, buffered bytes). */
  get stats(): Connection['stats'] {
    return this.#connection.stats;
  }

  /**
   * Sends a message (it is queued whatever the return value). Returns false
   * when `bufferedAmount` has reached the socket's high-water mark: wait for
   * 'drain', which then follows exactly once. Also false, with no 'drain',
   * when the connection is CLOSING or CLOSED (nothing is sent; 'close' follows).
   * Throws while CONNECTING.
   */
  send(data: Uint8Array | string, options: SendOptions = {}): boolean {
    return this.#accepted(this.#connection.send(data, options.binary ?? typeof data !== 'string', options.fragmentSize ?? 0, options.compress ?? true));
  }

  /** Sends a ping; returns as send() does. */
  ping(payload?: Uint8Array | string): boolean {
    return this.#accepted(this.#connection.ping(payload));
  }

  /** Sends a pong; returns as send() does. */
  pong(payload?: Uint8Array | string): boolean {
    return this.#accepted(this.#connection.pong(payload));
  }

  /** Starts the closing handshake (§7.1.2); 'close' is emitted when the transport is gone. */
  close(code?: number, reason?: string): void {
    this.#connection.close(code, reason);
  }

  /** Drops the connection at once, without a closing handshake (the code seen is 1006). */
  terminate(): void {
    this.#connection.terminate();
  }

  /** Stops reading from the socket (back-pressure towards the peer). */
  pause(): void {
    this.#socket?.pause();
  }

  resume(): void {
    this.#socket?.resume();
  }

  // ---- wiring, used by accept() and connect() ------------------------------------

  #useSocket(socket: Duplex): void {
    this.#socket = socket;
    this.#output = new WriteBatch(socket, this.#events);
    prepareSocket(socket);
    this.#applyIdleTimeout();
    (socket as OwnedSocket)[kEvents] = this.#events;
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('error', socketOnError);
    socket.on('drain', socketOnDrain);
    socket.on('timeout', socketOnTimeout);
  }

  /** Attaches an upgraded server socket and the bytes that followed the request head. */
  #attachServerSocket(socket: Duplex, head: Uint8Array | undefined, readMode: SocketReadMode): void {
    this.#useSocket(socket);
    const readsViaOnread = readMode === 'onread' && switchToOnread(socket, this.#connection);
    if (!readsViaOnread) socket.on('data', (chunk: Buffer) => this.#connection.push(chunk));
    // The caller attaches its listeners after accept() returns: deliver 'open' and
    // anything that arrived with the request head on the next tick, before any read.
    process.nextTick(() => {
      if (this.#connection.state === 'OPEN') this.#emitGuarded('open');
      if (head !== undefined && head.length > 0) this.#connection.push(head);
    });
  }

  /** Opens the client socket and runs the opening handshake (§4.1). */
  #startClient(url: URL, options: ConnectOptions): void {
    const connection = this.#connection;
    // While CONNECTING, reads into the shared input area are copied out for the handshake.
    const readTarget: ReadTarget = {
      readBuffer: () => connection.readBuffer(),
      pushReadBuffer: (bytesRead) => {
        if (this.#handshake === null) connection.pushReadBuffer(bytesRead);
        else this.#handshakeData(Buffer.from(connection.readBuffer().subarray(0, bytesRead)));
      },
    };
    const { socket, handshake } = dial(url, options, (options.readMode ?? 'onread') === 'onread' ? readTarget : undefined);
    this.#handshake = handshake;
    this.#useSocket(socket);
    if ((options.readMode ?? 'onread') !== 'onread') {
      socket.on('data', (chunk: Buffer) => {
        if (this.#handshake !== null) this.#handshakeData(chunk);
        else connection.push(chunk);
      });
    }
    const handshakeTimeout = options.handshakeTimeout ?? options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    if (handshakeTimeout > 0) {
      this.#handshakeTimer = setTimeout(() => this.#failHandshake(new Error('Opening handshake timed out')), handshakeTimeout);
    }
  }

  #handshakeData(chunk: Uint8Array): void {
    const handshake = this.#handshake;
    if (handshake === null) return;
    let progress;
    try {
      progress = handshake.push(chunk);
    } catch (error) {
      this.#failHandshake(error as Error);
      return;
    }
    if (!progress.done) return;
    this.#handshake = null;
    this.#clearHandshakeTimer();
    this.protocol = progress.protocol;
    const deflate = progress.deflate;
    const provider = deflate === null ? null : zlibProvider();
    this.#connection.open(deflate === null || provider === null ? undefined : new PerMessageDeflate('client', deflate.params, deflate.options, provider));
    this.#emitGuarded('open');
    if (progress.rest.length > 0) this.#connection.push(progress.rest);
  }

  #failHandshake(error: Error): void {
    if (this.#connection.state !== 'CONNECTING') return;
    this.#handshake = null;
    this.#clearHandshakeTimer();
    this.#emitError(error);
    this.#connection.terminate();
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== null) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = null;
  }

  // ---- back-pressure ------------------------------------------------------------
  //
  // Node's Writable decides write()'s return value after the synchronous write
  // attempt: a batch the kernel takes at once returns true and no socket 'drain'
  // ever follows, so the socket's own 'drain' cannot keep our promise. We track
  // the mark ourselves and emit our own 'drain' when bufferedAmount falls below
  // it: on the socket's 'drain', or right after a flush the socket accepted.

  /** Every frame the connection writes passes here; false tells it the peer is behind. */
  #write(chunks: Uint8Array[]): boolean {
    const output = this.#output;
    if (output === null) return true;
    output.write(chunks);
    return this.#belowMark();
  }

  /** A small server frame, copied into this tick's batch (Connection's onWriteFrame). */
  #writeFrame(firstByte: number, payload: Uint8Array): boolean {
    const output = this.#output;
    if (output === null) return true;
    output.writeFrame(firstByte, payload);
    return this.#belowMark();
  }

  /** After a write: false once `bufferedAmount` has reached the socket's high-water mark. */
  #belowMark(): boolean {
    if (this.bufferedAmount >= this.#socket!.writableHighWaterMark) this.#aboveMark = true;
    return !this.#aboveMark;
  }

  /** send()/ping()/pong()'s answer: false owes the caller one 'drain'. */
  #accepted(sent: boolean): boolean {
    if (!sent) return false;
    if (!this.#aboveMark) return true;
    this.#drainOwed = true;
    return false;
  }

  /** After a flush or a socket 'drain': below the mark again means held replies go out and 'drain' is due. */
  #checkDrained(): void {
    const socket = this.#socket;
    if (!this.#aboveMark || socket === null) return;
    // writableNeedDrain: the socket itself owes a 'drain', which will call us again.
    if (socket.writableNeedDrain || this.bufferedAmount >= socket.writableHighWaterMark) return;
    this.#aboveMark = false;
    this.#connection.outputDrained();  // may write a held pong (and go above the mark again)
    if (this.#aboveMark || !this.#drainOwed) return;
    this.#drainOwed = false;
    this.#emitGuarded('drain');
  }

  /** Emits an application event; a listener that throws fails the connection (1011) before the error propagates. */
  /**
   * @internal wsframe/ws's own message handler: called instead of emitting
   * 'message' (one dispatch per message instead of two). Guarded alike.
   */
  [kMessageSink]: ((data: Uint8Array, binary: boolean) => void) | null = null;

  #deliverMessage(data: Uint8Array, binary: boolean): void {
    try {
      const sink = this[kMessageSink];
      if (sink !== null) sink(data, binary);
      else this.emit('message', data, binary);
    } catch (error) {
      this.#connection.fail(INTERNAL_ERROR);
      throw error;
    }
  }

  /** @internal send() without an options object, for wsframe/ws's per-message path. */
  [kSendMessage](data: Uint8Array | string, binary: boolean, compress: boolean): boolean {
    return this.#accepted(this.#connection.send(data, binary, 0, compress));
  }

  /**
   * @internal Runs `callback` once what was sent so far is handed to the
   * socket: right after this tick's flush (wsframe/ws's send callbacks).
   */
  [kAfterFlush](callback: () => void): void {
    if (this.#output === null || !this.#output.afterFlush(callback)) process.nextTick(callback);
  }

  #emitGuarded(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (error) {
      this.#connection.fail(INTERNAL_ERROR);
      throw error;
    }
  }

  #shutdownTransport(how: TransportShutdown): void {
    const socket = this.#socket;
    if (socket === null) return;
    if (how === 'end') {
      this.#output?.flush();  // what was sent goes out before the FIN
      socket.end();
    } else {
      this.#output?.clear();
      socket.destroy();
    }
  }

  #setTimer(kind: ConnectionTimer, ms: number): void {
    if (kind === 'idle') {
      this.#idleTimeout = ms;
      this.#applyIdleTimeout();
      return;
    }
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = ms > 0 ? setTimeout(() => this.#connection.timerFired('close'), ms) : null;
  }

  /**
   * idleTimeout ms passed without reads or writes. A quiet peer may be healthy:
   * ping it first (§5.5.2 obliges it to answer) and give up with 1001 only if
   * nothing at all was read during another idleTimeout.
   */
  #idle(): void {
    if (this.#connection.state !== 'OPEN') return;
    const bytesIn = this.#connection.stats.bytesIn;
    if (this.#heartbeatBytesIn === bytesIn) {
      this.#connection.timerFired('idle');
      return;
    }
    this.#heartbeatBytesIn = bytesIn;
    this.#connection.ping();
  }

  #applyIdleTimeout(): void {
    // socket.setTimeout restarts itself on every read and write, at no cost per read.
    const socket = this.#socket as net.Socket | null;
    if (socket !== null && typeof socket.setTimeout === 'function' && !socket.destroyed) socket.setTimeout(this.#idleTimeout);
  }

  #emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #closed(code: number, reason: string, wasClean: boolean): void {
    this.#clearHandshakeTimer();
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    const socket = this.#socket as net.Socket | null;
    if (socket !== null && typeof socket.setTimeout === 'function' && !socket.destroyed) socket.setTimeout(0);
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.emit('close', code, reason, wasClean);
  }
}

/**
 * `data` as a Buffer the listener may keep: copied only when it is a view of
 * decoder (WebAssembly) memory; a message reassembled from several frames or
 * reads is already an owned buffer and is handed over as it is.
 */
function ownedBuffer(data: Uint8Array): Buffer {
  if (isWasmMemory(data)) return Buffer.from(data);
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function prepareSocket(socket: Duplex): void {
  const tcp = socket as Partial<net.Socket>;
  // Frames are written whole (cork/writev); Nagle would only delay small ones.
  tcp.setNoDelay?.(true);
  tcp.setTimeout?.(0);
}

/** Opens a client connection to a ws:// or wss:// URL (RFC 6455 §4.1); listen for 'open'. */
export function connect(url: string | URL, options: ConnectOptions = {}): WebSocket {
  return new WebSocket('client', options, { kind: 'client', url: parseWebSocketUrl(url), options });
}
