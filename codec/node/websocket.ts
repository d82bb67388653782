// The Node WebSocket: a Connection (the sans-I/O state machine) run over a
// net/tls socket. Handshakes live in accept.ts (server) and dial.ts (client),
// output batching in write-batch.ts, zero-copy reads in onread.ts.
import { EventEmitter } from 'node:events';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { Connection, type ConnectionRole, type ConnectionState, type ConnectionTimer, type TransportShutdown } from '../core/connection.js';
import { DEFAULT_CLOSE_TIMEOUT, type BehaviourOptions, type LimitOptions } from '../core/options.js';
import { PerMessageDeflate, formatParams, type PerMessageDeflateOptions } from '../core/permessage-deflate.js';
import { zlibProvider } from './zlib.js';
import { dial, parseWebSocketUrl, type ClientHandshake, type DialOptions } from './dial.js';
import { switchToOnread, type ReadTarget } from './onread.js';
import { WriteBatch } from './write-batch.js';

/** The readyState of a {@link WebSocket}. */
export type WebSocketReadyState = ConnectionState;

/**
 * How socket reads reach the decoder:
 * - 'data': ordinary 'data' events (Node allocates a 64 KiB Buffer per read; the decoder copies it in);
 * - 'onread': net.Socket `onread` with the decoder's WASM input area (1 MiB) as the read
 *   buffer: the kernel writes straight into WASM memory, in fewer, larger reads.
 */
export type SocketReadMode = 'data' | 'onread';

export interface WebSocketOptions extends LimitOptions, BehaviourOptions {
  /** Sub-protocols: the server's supported list, or the client's offer (most preferred first). */
  protocols?: string[];
  /**
   * false (default): 'message'/'ping'/'pong' data is a zero-copy view into WASM memory,
   * valid only while the listener runs. true: an owned Buffer copy.
   */
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

/**
 * One WebSocket connection over a Node socket.
 *
 * Events: 'open'(), 'message'(data: Uint8Array, binary: boolean), 'ping'(payload),
 * 'pong'(payload), 'close'(code: number, reason: string), 'error'(err), 'drain'().
 * 'error' is only emitted when someone listens for it (a peer's protocol error or
 * a reset must not crash a process that did not subscribe); 'close' always follows.
 */
export class WebSocket extends EventEmitter {
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
  /** Idle timeout requested by the connection; applied once the socket exists. */
  #idleTimeout = 0;

  /** Use {@link accept} or {@link connect}; the constructor is internal. */
  constructor(role: ConnectionRole, options: WebSocketOptions, transport: WebSocketTransport) {
    super();
    this.role = role;
    this.#copyPayloads = options.copy ?? false;
    this.#connection = new Connection({
      ...options,
      role,
      open: role === 'server',
      ...(transport.kind === 'server' && transport.compression != null ? { compression: transport.compression } : {}),
      onWrite: (chunks) => this.#output?.write(chunks),
      onShutdown: (how) => this.#shutdownTransport(how),
      onTimer: (kind, ms) => this.#setTimer(kind, ms),
      onMessage: (data, binary) => this.emit('message', this.#copyPayloads ? Buffer.from(data) : data, binary),
      onPing: (payload) => this.emit('ping', this.#copyPayloads ? Buffer.from(payload) : payload),
      onPong: (payload) => this.emit('pong', this.#copyPayloads ? Buffer.from(payload) : payload),
      onProtocolError: (error) => this.#emitError(error),
      onClosed: (code, reason) => this.#closed(code, reason),
    });
    if (transport.kind === 'server') {
      this.protocol = transport.protocol;
      this.#attachServerSocket(transport.socket, transport.head, transport.readMode);
    } else {
      this.#startClient(transport.url, transport.options);
    }
  }

  get readyState(): WebSocketReadyState {
    return this.#connection.state;
  }

  /** The negotiated extensions as in Sec-WebSocket-Extensions ('' if none), e.g. 'permessage-deflate'. */
  get extensions(): string {
    const deflate = this.#connection.perMessageDeflate;
    return deflate === null ? '' : formatParams(deflate.params);
  }

  /** Bytes handed to the socket but not yet flushed to the kernel. */
  get bufferedAmount(): number {
    const socket = this.#socket;
    return socket === null ? 0 : socket.writableLength + (this.#output?.queuedBytes ?? 0);
  }

  /** Decoder statistics (frames, messages, bytesIn, buffered bytes). */
  get stats(): Connection['stats'] {
    return this.#connection.stats;
  }

  /**
   * Sends a message. Returns false when the socket's buffer is above its
   * high-water mark (wait for 'drain') or the connection is not open.
   * Throws while CONNECTING.
   */
  send(data: Uint8Array | string, options: SendOptions = {}): boolean {
    const sent = this.#connection.send(data, options.binary ?? typeof data !== 'string', options.fragmentSize ?? 0, options.compress ?? true);
    return sent && !this.#needsDrain();
  }

  ping(payload?: Uint8Array | string): boolean {
    return this.#connection.ping(payload) && !this.#needsDrain();
  }

  pong(payload?: Uint8Array | string): boolean {
    return this.#connection.pong(payload) && !this.#needsDrain();
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
    this.#output = new WriteBatch(socket);
    prepareSocket(socket);
    this.#applyIdleTimeout();
    socket.on('end', () => this.#connection.transportEnded());
    socket.on('close', () => this.#connection.transportClosed());
    socket.on('error', (error: Error) => this.#emitError(error));
    socket.on('drain', () => this.emit('drain'));
    socket.on('timeout', () => this.#connection.timerFired('idle'));
  }

  /** Attaches an upgraded server socket and the bytes that followed the request head. */
  #attachServerSocket(socket: Duplex, head: Uint8Array | undefined, readMode: SocketReadMode): void {
    this.#useSocket(socket);
    const readsViaOnread = readMode === 'onread' && switchToOnread(socket, this.#connection);
    if (!readsViaOnread) socket.on('data', (chunk: Buffer) => this.#connection.push(chunk));
    // The caller attaches its listeners after accept() returns: deliver 'open' and
    // anything that arrived with the request head on the next tick, before any read.
    process.nextTick(() => {
      if (this.#connection.state === 'OPEN') this.emit('open');
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
    this.emit('open');
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

  #needsDrain(): boolean {
    const socket = this.#socket;
    return socket !== null && (socket.writableNeedDrain || socket.writableLength + (this.#output?.queuedBytes ?? 0) >= socket.writableHighWaterMark);
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

  #applyIdleTimeout(): void {
    // socket.setTimeout restarts itself on every read and write, at no cost per read.
    const socket = this.#socket as net.Socket | null;
    if (socket !== null && typeof socket.setTimeout === 'function' && !socket.destroyed) socket.setTimeout(this.#idleTimeout);
  }

  #emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #closed(code: number, reason: string): void {
    this.#clearHandshakeTimer();
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    const socket = this.#socket as net.Socket | null;
    if (socket !== null && typeof socket.setTimeout === 'function' && !socket.destroyed) socket.setTimeout(0);
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.emit('close', code, reason);
  }
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
