// Node.js glue: runs a Connection over a net/tls socket. `accept` embeds wsframe
// in an existing http(s).Server through its 'upgrade' event; `connect` opens a
// client connection (RFC 6455 §4.1) over net (ws://) or tls (wss://).
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import { lazyNet, lazyTls } from './builtins.js';
import { Connection, type ConnectionRole, type ConnectionState, type ConnectionTimer, type TransportShutdown } from './connection.js';
import {
  buildAcceptResponse,
  buildRejection,
  buildUpgradeRequest,
  parseResponseHead,
  selectSubprotocol,
  validateUpgradeRequest,
  verifyUpgradeResponse,
} from './handshake.js';

/** The readyState of a {@link WebSocket}. */
export type WebSocketReadyState = ConnectionState;

/**
 * How socket reads reach the decoder:
 * - 'data': ordinary 'data' events (Node allocates a 64 KiB Buffer per read; the decoder copies it in);
 * - 'onread': net.Socket `onread` with the decoder's WASM input area (1 MiB) as the read
 *   buffer: the kernel writes straight into WASM memory, in fewer, larger reads.
 */
export type SocketReadMode = 'data' | 'onread';

export interface WebSocketOptions {
  /** Largest message accepted; larger ones close the connection with 1009. Default 64 MiB. */
  maxMessageSize?: number;
  /** Most frames per message; more close the connection with 1008. Default 0 = no cap. */
  maxFragments?: number;
  /** Answer pings automatically (§5.5.2). Default true. */
  autoPong?: boolean;
  /** Time the peer gets to finish the closing handshake, in ms. Default 30000. */
  closeTimeout?: number;
  /** Close with 1001 after this many ms without reads. Default 0 = off. */
  idleTimeout?: number;
  /** Sub-protocols: the server's supported list, or the client's offer (most preferred first). */
  protocols?: string[];
  /**
   * false (default): 'message'/'ping'/'pong' data is a zero-copy view into WASM memory,
   * valid only while the listener runs. true: an owned Buffer copy.
   */
  copy?: boolean;
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

export interface ConnectOptions extends WebSocketOptions {
  /** Extra request headers. */
  headers?: Record<string, string>;
  origin?: string;
  /** Time the server gets to answer the handshake, in ms. Default: closeTimeout. */
  handshakeTimeout?: number;
  /** Extra options for tls.connect (wss:), e.g. `ca`, `rejectUnauthorized`, `servername`. */
  tls?: tls.ConnectionOptions;
  /** Default 'onread' (also over TLS, where tls.connect takes `onread` too). See {@link SocketReadMode}. */
  readMode?: SocketReadMode;
}

export interface SendOptions {
  /** Binary (opcode 0x2) or text (0x1) message; default: binary unless `data` is a string. */
  binary?: boolean;
  /** Split the message into frames of at most this many payload bytes (§5.4). Default 0 = one frame. */
  fragmentSize?: number;
}

const DEFAULT_CLOSE_TIMEOUT = 30_000;
/** Frames up to this size are copied into the per-tick batch buffer rather than queued alone. */
const SMALL_WRITE = 4096;
const BATCH_BYTES = 64 * 1024;
/** Largest HTTP response head we accept from a server before giving up. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

/** @internal How a WebSocket gets its socket: an upgraded server socket, or a client URL. */
export type WebSocketTransport =
  | { kind: 'server'; socket: Duplex; head: Uint8Array | undefined; readMode: SocketReadMode; protocol: string }
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
  #closeTimer: NodeJS.Timeout | null = null;
  #handshakeTimer: NodeJS.Timeout | null = null;
  /** Client only: response bytes read so far while CONNECTING; null once the handshake is over. */
  #handshakeBytes: Buffer[] | null = null;
  #handshakeLength = 0;
  #handshakeKey = '';
  #offeredProtocols: readonly string[] = [];
  #closeEmitted = false;
  /** Idle timeout requested by the connection; applied once the socket exists. */
  #idleTimeout = 0;
  /** Output of this tick not yet handed to the socket (see #writeChunks). */
  #queued: Uint8Array[] = [];
  #queuedBytes = 0;
  #batch: Buffer | null = null;
  #batchLength = 0;
  #flushScheduled = false;

  /** Use {@link accept} or {@link connect}; the constructor is internal. */
  constructor(role: ConnectionRole, options: WebSocketOptions, transport: WebSocketTransport) {
    super();
    this.role = role;
    this.#copyPayloads = options.copy ?? false;
    this.#connection = new Connection({
      role,
      open: role === 'server',
      maxMessageSize: options.maxMessageSize ?? 64 * 2 ** 20,
      maxFragments: options.maxFragments ?? 0,
      autoPong: options.autoPong ?? true,
      closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
      idleTimeout: options.idleTimeout ?? 0,
      onWrite: (chunks) => this.#writeChunks(chunks),
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

  /** Bytes handed to the socket but not yet flushed to the kernel. */
  get bufferedAmount(): number {
    const socket = this.#socket;
    return socket === null ? 0 : socket.writableLength + this.#queuedBytes;
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
    const sent = this.#connection.send(data, options.binary ?? typeof data !== 'string', options.fragmentSize ?? 0);
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

  /** Attaches an upgraded server socket and the bytes that followed the request head. */
  #attachServerSocket(socket: Duplex, head: Uint8Array | undefined, readMode: SocketReadMode): void {
    this.#socket = socket;
    prepareSocket(socket);
    this.#applyIdleTimeout();
    this.#listenToSocket(socket);
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
    const secure = url.protocol === 'wss:' || url.protocol === 'https:';
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const defaultPort = port === (secure ? 443 : 80);
    const { request, key } = buildUpgradeRequest({
      host: defaultPort ? url.hostname : `${url.hostname}:${port}`,
      path: (url.pathname === '' ? '/' : url.pathname) + url.search,
      protocols: options.protocols ?? [],
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    this.#handshakeKey = key;
    this.#offeredProtocols = options.protocols ?? [];
    this.#handshakeBytes = [];
    const onread =
      (options.readMode ?? 'onread') === 'onread'
        ? {
            // Node re-calls a buffer function after every read, so each read gets a
            // fresh view even if WASM memory grew (growth detaches old views).
            buffer: () => this.#connection.readBuffer(),
            callback: (bytesRead: number): boolean => {
              this.#readIntoDecoder(bytesRead);
              return true;
            },
          }
        : undefined;
    let socket: net.Socket;
    if (secure) {
      const servername = options.tls?.servername ?? (lazyNet().isIP(host) === 0 ? host : undefined);
      socket = lazyTls().connect({
        ALPNProtocols: ['http/1.1'],
        ...options.tls,
        host,
        port,
        ...(servername === undefined ? {} : { servername }),
        ...(onread === undefined ? {} : { onread }),
      });
      socket.once('secureConnect', () => socket.write(request));
    } else {
      socket = lazyNet().connect({ host, port, ...(onread === undefined ? {} : { onread }) });
      socket.once('connect', () => socket.write(request));
    }
    this.#socket = socket;
    prepareSocket(socket);
    this.#applyIdleTimeout();
    this.#listenToSocket(socket);
    if (onread === undefined) {
      socket.on('data', (chunk: Buffer) => {
        if (this.#handshakeBytes !== null) this.#handshakeData(chunk);
        else this.#connection.push(chunk);
      });
    }
    const handshakeTimeout = options.handshakeTimeout ?? options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT;
    if (handshakeTimeout > 0) {
      this.#handshakeTimer = setTimeout(() => this.#failHandshake(new Error('Opening handshake timed out')), handshakeTimeout);
    }
  }

  #readIntoDecoder(bytesRead: number): void {
    if (this.#handshakeBytes === null) {
      this.#connection.pushReadBuffer(bytesRead);
      return;
    }
    // Still reading the HTTP response: copy it out of the shared input area.
    const bytes = Buffer.from(this.#connection.readBuffer().subarray(0, bytesRead));
    this.#handshakeData(bytes);
  }

  #handshakeData(chunk: Buffer): void {
    const pending = this.#handshakeBytes;
    if (pending === null) return;
    pending.push(chunk);
    this.#handshakeLength += chunk.length;
    const bytes = pending.length === 1 ? chunk : Buffer.concat(pending, this.#handshakeLength);
    let head;
    try {
      head = parseResponseHead(bytes);
    } catch (error) {
      this.#failHandshake(error as Error);
      return;
    }
    if (head === null) {
      if (this.#handshakeLength > MAX_RESPONSE_HEAD_BYTES) this.#failHandshake(new Error('Server response head too large'));
      else if (pending.length > 1) this.#handshakeBytes = [bytes];
      return;
    }
    const verdict = verifyUpgradeResponse(head, this.#handshakeKey, this.#offeredProtocols);
    if (!verdict.ok) {
      this.#failHandshake(new Error(verdict.reason));
      return;
    }
    this.#handshakeBytes = null;
    this.#clearHandshakeTimer();
    this.protocol = verdict.protocol;
    this.#connection.open();
    this.emit('open');
    // Frames that arrived in the same read as the response head (§4.1: data may follow at once).
    if (bytes.length > head.headBytes) this.#connection.push(bytes.subarray(head.headBytes));
  }

  #failHandshake(error: Error): void {
    if (this.#connection.state !== 'CONNECTING') return;
    this.#handshakeBytes = null;
    this.#clearHandshakeTimer();
    this.#emitError(error);
    this.#connection.terminate();
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== null) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = null;
  }

  #listenToSocket(socket: Duplex): void {
    socket.on('end', () => this.#connection.transportEnded());
    socket.on('close', () => this.#connection.transportClosed());
    socket.on('error', (error: Error) => this.#emitError(error));
    socket.on('drain', () => this.emit('drain'));
    socket.on('timeout', () => this.#connection.timerFired('idle'));
  }

  /**
   * Writes are batched per tick: small frames are copied into one batch
   * buffer, large ones queued as they are, and everything goes to the socket
   * in one writev when the current tick ends. An echo server answering one read
   * of 1,000 small messages then makes one system call, not 1,000.
   */
  #writeChunks(chunks: Uint8Array[]): void {
    const socket = this.#socket;
    if (socket === null || socket.destroyed || !socket.writable) return;
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
      process.nextTick(this.#flush);
    }
  }

  #startBatch(): void {
    this.#endBatch();
    this.#batch = Buffer.allocUnsafe(BATCH_BYTES);
    this.#batchLength = 0;
  }

  /** Queues the filled part of the batch buffer; the next small write starts a new one. */
  #endBatch(): void {
    if (this.#batch !== null && this.#batchLength > 0) {
      this.#queued.push(this.#batch.subarray(0, this.#batchLength));
      this.#batch = this.#batch.length - this.#batchLength >= SMALL_WRITE ? this.#batch.subarray(this.#batchLength) : null;
      this.#batchLength = 0;
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    this.#endBatch();
    const queued = this.#queued;
    if (queued.length === 0) return;
    this.#queued = [];
    this.#queuedBytes = 0;
    const socket = this.#socket;
    if (socket === null || socket.destroyed || !socket.writable) return;
    if (queued.length === 1) {
      socket.write(queued[0]!);
      return;
    }
    socket.cork();
    for (const chunk of queued) socket.write(chunk);
    socket.uncork();
  };

  #needsDrain(): boolean {
    const socket = this.#socket;
    return socket !== null && (socket.writableNeedDrain || socket.writableLength + this.#queuedBytes >= socket.writableHighWaterMark);
  }

  #shutdownTransport(how: TransportShutdown): void {
    const socket = this.#socket;
    if (socket === null) return;
    if (how === 'end') {
      this.#flush();  // what was sent goes out before the FIN
      socket.end();
    } else {
      this.#queued = [];
      this.#queuedBytes = 0;
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

/** The parts of a Node 20 net.Socket / TCPWrap that an `onread` handoff touches (internals). */
interface OnreadCapableHandle {
  reading?: boolean;
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * Switches an already-open net.Socket (an http 'upgrade' socket) to `onread`
 * reads into the decoder's input area, as if it had been created with
 * `new net.Socket({ onread: { buffer: () => ..., callback } })`.
 *
 * Node only takes `onread` as a constructor option. Its implementation (Node 20
 * lib/net.js, lib/internal/stream_base_commons.js onStreamRead) keeps the
 * buffer, callback and buffer generator in three per-socket symbol properties
 * and hands the buffer to the C++ handle with `useUserBuffer`; after every read
 * it calls the callback, then re-calls the generator and gives the new buffer to
 * the handle. We set the same three properties and call `useUserBuffer` ourselves.
 * This relies on Node internals, so every precondition is checked and any
 * mismatch returns false, leaving the socket on ordinary 'data' events.
 */
function switchToOnread(socket: Duplex, connection: Connection): boolean {
  // A TLS socket (`encrypted`) decrypts in JS: its reads cannot land in our buffer.
  if (!(socket instanceof lazyNet().Socket) || (socket as { encrypted?: boolean }).encrypted === true) return false;
  const handle = (socket as unknown as { _handle?: OnreadCapableHandle | null })._handle;
  if (handle === null || handle === undefined || typeof handle.useUserBuffer !== 'function') return false;
  // Bytes Node already buffered would be read before ours: keep the simple path then.
  if (socket.readableLength > 0 || socket.destroyed) return false;
  const symbols = Object.getOwnPropertySymbols(socket);
  const symbol = (description: string) => symbols.find((candidate) => candidate.description === description);
  const kBuffer = symbol('kBuffer');
  const kBufferCb = symbol('kBufferCb');
  const kBufferGen = symbol('kBufferGen');
  if (kBuffer === undefined || kBufferCb === undefined || kBufferGen === undefined) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[kBuffer] !== null || fields[kBufferCb] !== null || fields[kBufferGen] !== null) return false;
  // The generator is re-called after each read: WASM memory growth during a
  // push detaches the previous view, so a cached one would be empty.
  const nextBuffer = () => connection.readBuffer();
  const buffer = nextBuffer();
  fields[kBuffer] = buffer;
  fields[kBufferGen] = nextBuffer;
  fields[kBufferCb] = (bytesRead: number) => {
    connection.pushReadBuffer(bytesRead);
  };
  handle.useUserBuffer(buffer);
  // With a user buffer nothing is pushed into the Readable; resume() restarts
  // the handle's reads if the upgrade left them stopped.
  socket.resume();
  return true;
}

/** Answers a bad upgrade request with 400/426 and the reason, then drops the socket (§4.2.1). */
function rejectUpgrade(socket: Duplex, response: string): void {
  if (socket.destroyed) return;
  socket.on('error', () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(response, () => socket.destroy());
  // A peer that never reads must not keep the socket alive.
  setTimeout(() => socket.destroy(), 5_000).unref();
}

/**
 * Completes the server side of the opening handshake for an http(s).Server
 * 'upgrade' event (RFC 6455 §4.2). On a bad request, writes 400 or 426 with the
 * reason, destroys the socket and returns null.
 *
 *     server.on('upgrade', (req, socket, head) => {
 *       const ws = accept(req, socket, head);
 *       ws?.on('message', (data, binary) => ws.send(data, { binary }));
 *     });
 */
export function accept(
  request: IncomingMessage,
  socket: Duplex,
  head?: Uint8Array,
  options: AcceptOptions = {},
): WebSocket | null {
  const validation = validateUpgradeRequest(request);
  if (!validation.ok) {
    rejectUpgrade(socket, buildRejection(validation));
    return null;
  }
  if (socket.destroyed || !socket.writable) return null;
  const protocol = selectSubprotocol(validation.protocols, options.protocols ?? []);
  socket.write(
    buildAcceptResponse({
      key: validation.key,
      ...(protocol === undefined ? {} : { protocol }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    }),
  );
  return new WebSocket('server', options, {
    kind: 'server',
    socket,
    head,
    readMode: options.readMode ?? 'onread',
    protocol: protocol ?? '',
  });
}

/** Opens a client connection to a ws:// or wss:// URL (RFC 6455 §4.1); listen for 'open'. */
export function connect(url: string | URL, options: ConnectOptions = {}): WebSocket {
  const target = new URL(url);
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(target.protocol)) {
    throw new SyntaxError(`Unsupported URL scheme: ${target.protocol}`);
  }
  if (target.hash !== '') throw new SyntaxError('A WebSocket URL must not have a fragment (§3)');
  return new WebSocket('client', options, { kind: 'client', url: target, options });
}
