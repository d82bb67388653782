// The ws-compatible WebSocket (wsframe/ws): the API of ws 8 over wsframe's
// Node WebSocket (codec/node/websocket.ts), which runs the RFC 6455 state
// machine on the socket. Server-side instances come from WebSocketServer; client
// ones run the opening handshake over http.request (agents, proxies, TLS
// options, redirects and 'unexpected-response' as Node's HTTP client gives them).
import { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type * as https from 'node:https';
import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { generateKey, verifyUpgradeResponse } from '../core/handshake.js';
import { buildDeflateOffer, type PerMessageDeflate } from '../core/permessage-deflate.js';
import { deflateSession, resolveWsDeflate, type WsPerMessageDeflateOptions } from './deflate.js';
import { WebSocket as NodeWebSocket, kAfterFlush, kMessageSink, kSendMessage, type WebSocketReadyState } from '../node/websocket.js';
import { WsCloseEvent, WsErrorEvent, WsEvent, WsMessageEvent, type EventListenerLike, type TypedOn } from './events.js';

const load = createRequire(process.execPath);
const lazyHttp = (): typeof import('node:http') => load('node:http');
const lazyHttps = (): typeof import('node:https') => load('node:https');
const lazyNet = (): typeof import('node:net') => load('node:net');
const lazyTls = (): typeof import('node:tls') => load('node:tls');

/** A message as 'message' delivers it, by binaryType. */
export type RawData = Buffer | ArrayBuffer | Buffer[];
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';
const BINARY_TYPES: readonly string[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];
const STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;
const EMPTY = new Uint8Array(0);

/** ws's default maxPayload: 100 MiB. */
export const DEFAULT_MAX_PAYLOAD = 100 * 2 ** 20;

/** Options a WebSocket takes on either side. */
export interface WebSocketBaseOptions {
  /** Largest message in bytes; larger ones close the connection with 1009. Default 100 MiB; 0: no limit (as in ws). */
  maxPayload?: number;
  /** Answer pings automatically (§5.5.2). Default true. */
  autoPong?: boolean;
  /**
   * Accepted for ws compatibility and ignored: wsframe always validates text
   * messages as UTF-8, as RFC 6455 §8.1 requires (in WebAssembly, at no measurable cost).
   */
  skipUTF8Validation?: boolean;
  /** Accepted for ws compatibility; wsframe emits messages synchronously as they are parsed (ws's default). */
  allowSynchronousEvents?: boolean;
  /**
   * wsframe only. false (default, as in ws): every message is an owned Buffer the
   * listener may keep. true: binary and text 'message' data (with binaryType
   * 'nodebuffer') is a Buffer view into wsframe's WebAssembly memory, valid only
   * until the listener returns: it saves one allocation and one copy per message,
   * but a view kept past the listener is overwritten by later messages.
   */
  zeroCopy?: boolean;
}

/** Options of `new WebSocket(url, protocols, options)` (ws's ClientOptions). */
export interface ClientOptions extends WebSocketBaseOptions, Omit<https.RequestOptions, 'protocol' | 'host' | 'port' | 'path' | 'timeout'> {
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** The Origin header. */
  origin?: string;
  /** Time the server gets to answer the opening handshake, in ms. Default: none. */
  handshakeTimeout?: number;
  /** Follow 3xx redirects. Default false. */
  followRedirects?: boolean;
  /** Most redirects followed. Default 10. */
  maxRedirects?: number;
  /** Accepted; must be 13 (the only version of RFC 6455). */
  protocolVersion?: number;
  /** permessage-deflate (RFC 7692), as in ws: offered by default (true), false, or ws's options object. */
  perMessageDeflate?: boolean | WsPerMessageDeflateOptions;
  /** Accepted; the handshake always uses 13. */
  host?: string;
  /** Custom mask generator: accepted and ignored (wsframe masks in WebAssembly with crypto-random keys). */
  generateMask?: (mask: Buffer) => void;
  /** Called with the request before it is sent (ws: finishRequest). Default: request.end(). */
  finishRequest?: (request: ClientRequest, websocket: WebSocket) => void;
}

export interface SendOptions {
  /** Binary (default unless data is a string) or text. */
  binary?: boolean;
  /** With permessage-deflate negotiated: false sends this message uncompressed. Default true (at or above the threshold). */
  compress?: boolean;
  /** false: the data is a fragment; it is sent with the fragments that follow, as one message, once one has fin true. */
  fin?: boolean;
  /** Accepted and ignored: a client always masks, a server never does (§5.1). */
  mask?: boolean;
}

/** Events of a WebSocket and their listener arguments (as @types/ws declares them). */
export interface WebSocketEvents {
  open: [];
  message: [data: RawData, isBinary: boolean];
  ping: [data: Buffer];
  pong: [data: Buffer];
  close: [code: number, reason: Buffer];
  error: [error: Error];
  upgrade: [response: IncomingMessage];
  'unexpected-response': [request: ClientRequest, response: IncomingMessage];
  redirect: [url: string, request: ClientRequest];
}

export type WebSocketMessageEvent = WsMessageEvent<WebSocket, string | RawData | Blob>;
export type WebSocketCloseEvent = WsCloseEvent<WebSocket>;
export type WebSocketErrorEvent = WsErrorEvent<WebSocket>;
export type WebSocketOpenEvent = WsEvent<WebSocket>;

/** addEventListener's events. */
export interface WebSocketEventObjects {
  open: WebSocketOpenEvent;
  message: WebSocketMessageEvent;
  close: WebSocketCloseEvent;
  error: WebSocketErrorEvent;
}

type SendCallback = (error?: Error) => void;
/** What send() takes (as ws: strings are text, the rest binary). */
export type Data = string | Buffer | ArrayBuffer | ArrayBufferView | readonly number[] | number | { valueOf(): unknown };

/** @internal The server attaches upgraded sockets through this. */
export const kAttach = Symbol('wsframe.attach');
const kListener = Symbol('wsframe.listener');
const kAttribute = Symbol('wsframe.onAttribute');

/**
 * A WebSocket connection with ws's API. Messages are owned Buffers unless
 * `zeroCopy` is set; readyState is numeric; listeners are typed per event.
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

  #native: NodeWebSocket | null = null;
  #socket: Duplex | null = null;
  #state: WebSocketReadyState = 0;
  #binaryType: BinaryType = 'nodebuffer';
  #zeroCopy = false;
  #isServer = false;
  #url = '';
  #protocol = '';
  #paused = false;
  #request: ClientRequest | null = null;
  #errorEmitted = false;
  #closeEmitted = false;
  /** send()/ping() callbacks waiting for 'drain'. */
  #waitingForDrain: SendCallback[] = [];
  /** Fragments of a message sent with fin: false. */
  #fragments: Uint8Array[] | null = null;
  #fragmentsBinary = false;
  /** What `_sender` returns (made on first use). */
  #sender: { sendFrame(list: readonly Uint8Array[], cb?: SendCallback): void } | null = null;

  /**
   * A client: `new WebSocket('ws://host/path', ['chat'], { headers })`.
   * (WebSocketServer creates the server-side ones; `address` null is internal.)
   */
  constructor(address: string | URL | null, protocols?: string | string[] | ClientOptions, options?: ClientOptions) {
    super();
    if (address === null) {
      this.#isServer = true;
      return;
    }
    if (protocols !== undefined && typeof protocols === 'object' && !Array.isArray(protocols)) {
      options = protocols;
      protocols = undefined;
    }
    const offered = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    const resolved: ClientOptions = { followRedirects: false, maxRedirects: 10, ...options };
    if (resolved.protocolVersion !== undefined && resolved.protocolVersion !== 13) {
      throw new RangeError(`Unsupported protocol version: ${resolved.protocolVersion} (supported versions: 13)`);
    }
    this.#zeroCopy = resolved.zeroCopy ?? false;
    this.#startClient(address, offered, resolved, 0);
  }

  // ---- ws properties --------------------------------------------------------------

  get readyState(): WebSocketReadyState {
    // Once a socket is attached the native WebSocket knows (CLOSING after the peer's close frame).
    return this.#native === null || this.#state === 3 ? this.#state : this.#native.readyState;
  }

  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(type: BinaryType) {
    if (!BINARY_TYPES.includes(type)) return;
    this.#binaryType = type;
  }

  /** Bytes queued for the socket and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#native?.bufferedAmount ?? 0;
  }

  /** Names of the negotiated extensions, comma-separated as in ws ('' if none): 'permessage-deflate'. */
  get extensions(): string {
    const agreed = this.#native?.extensions ?? '';
    return agreed === '' ? '' : agreed.split(',').map((element) => element.split(';')[0]!.trim()).join();
  }

  get protocol(): string {
    return this.#protocol;
  }

  get url(): string {
    return this.#url;
  }

  get isPaused(): boolean {
    return this.#paused;
  }

  /** The underlying socket (ws exposes it as `_socket`; some libraries read remoteAddress from it). */
  get _socket(): Duplex | null {
    return this.#socket;
  }

  /**
   * The one piece of ws's internal Sender that real consumers use: engine.io
   * (socket.io's broadcasts) hands over a frame encoded once for all
   * recipients as `_sender.sendFrame([header, payload], cb)`. The payload is
   * sent as a message through wsframe (its header re-encoded, the payload not
   * copied); anything but one final, unmasked text or binary frame is refused.
   */
  get _sender(): { sendFrame(list: readonly Uint8Array[], cb?: SendCallback): void } {
    // One object per connection: engine.io reads `_sender` twice per packet it sends.
    return this.#sender ??= { sendFrame: (list, cb) => this.#sendPreEncoded(list, cb) };
  }

  // ---- typed listeners ---------------------------------------------------------------

  declare on: TypedOn<WebSocketEvents, this>;
  declare once: TypedOn<WebSocketEvents, this>;
  declare off: TypedOn<WebSocketEvents, this>;
  declare addListener: TypedOn<WebSocketEvents, this>;
  declare removeListener: TypedOn<WebSocketEvents, this>;
  declare prependListener: TypedOn<WebSocketEvents, this>;
  declare prependOnceListener: TypedOn<WebSocketEvents, this>;

  // ---- ws methods ---------------------------------------------------------------------

  /**
   * Sends a message. `cb(error?)` runs once the data is handed to the socket
   * (after 'drain' when the socket's buffer was full), or with an Error if the
   * connection is not open. Throws while CONNECTING, as ws does.
   */
  send(data: Data, options?: SendOptions | SendCallback, cb?: SendCallback): void {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    // readyState read once: this is the per-message path.
    const state = this.readyState;
    if (state === 0) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    const payload = toPayload(data);
    const native = this.#native;
    if (state !== 1 || native === null) {
      this.#notOpen(cb);
      return;
    }
    const binary = options?.binary ?? typeof payload !== 'string';
    const compress = options?.compress !== false;
    if (this.#fragments === null && options?.fin !== false) {
      this.#afterWrite(native[kSendMessage](payload, binary, compress), cb);
      return;
    }
    if (!this.#queueFragment(payload, binary, options?.fin !== false)) {
      if (cb !== undefined) process.nextTick(cb);
      return;
    }
    const message = Buffer.concat(this.#fragments!);
    const messageBinary = this.#fragmentsBinary;
    this.#fragments = null;
    this.#afterWrite(native[kSendMessage](message, messageBinary, compress), cb);
  }

  ping(data?: Data, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.#control('ping', data, mask, cb);
  }

  pong(data?: Data, mask?: boolean | SendCallback, cb?: SendCallback): void {
    this.#control('pong', data, mask, cb);
  }

  /**
   * Starts the closing handshake (§7.1.2). While CONNECTING, aborts the
   * handshake ('error' then 'close' 1006), as ws does.
   */
  close(code?: number, reason?: string | Buffer): void {
    if (this.readyState === 3) return;
    if (this.readyState === 0) {
      this.#abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    if (code !== undefined && typeof code !== 'number') throw new TypeError('First argument must be a valid error code number');
    const text = reason === undefined ? undefined : typeof reason === 'string' ? reason : Buffer.from(reason).toString();
    try {
      this.#native!.close(code, text === '' && code === undefined ? undefined : text);
    } catch (error) {
      if (error instanceof RangeError && /code/i.test(error.message)) throw new TypeError('First argument must be a valid error code number');
      throw error;
    }
    if (this.readyState === 1) this.#state = 2;
  }

  /** Drops the connection at once (the close code seen is 1006). */
  terminate(): void {
    if (this.readyState === 3) return;
    if (this.readyState === 0) {
      this.#abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    this.#state = 2;
    this.#native!.terminate();
  }

  /** Stops reading from the socket: no 'message' until resume(). */
  pause(): void {
    if (this.readyState === 0 || this.readyState === 3) return;
    this.#paused = true;
    this.#native?.pause();
  }

  resume(): void {
    if (this.readyState === 0 || this.readyState === 3) return;
    this.#paused = false;
    this.#native?.resume();
  }

  // ---- the WHATWG side -------------------------------------------------------------------

  addEventListener<K extends keyof WebSocketEventObjects>(
    type: K,
    listener: EventListenerLike<WebSocketEventObjects[K]>,
    options?: { once?: boolean },
  ): void;
  addEventListener(type: string, listener: EventListenerLike<WsEvent<WebSocket>>, options?: { once?: boolean }): void;
  addEventListener(type: string, listener: EventListenerLike<any>, options: { once?: boolean } = {}): void {
    this.#addEventListener(type, listener, options.once === true, false);
  }

  removeEventListener<K extends keyof WebSocketEventObjects>(type: K, listener: EventListenerLike<WebSocketEventObjects[K]>): void;
  removeEventListener(type: string, listener: EventListenerLike<WsEvent<WebSocket>>): void;
  removeEventListener(type: string, listener: EventListenerLike<any>): void {
    for (const wrapper of this.listeners(type) as Array<{ [kListener]?: unknown; [kAttribute]?: boolean }>) {
      if (wrapper[kListener] === listener && wrapper[kAttribute] !== true) {
        this.removeListener(type, wrapper as (...args: any[]) => void);
        return;
      }
    }
  }

  get onopen(): ((event: WebSocketOpenEvent) => void) | null {
    return this.#attribute('open');
  }
  set onopen(handler: ((event: WebSocketOpenEvent) => void) | null) {
    this.#setAttribute('open', handler);
  }
  get onmessage(): ((event: WebSocketMessageEvent) => void) | null {
    return this.#attribute('message');
  }
  set onmessage(handler: ((event: WebSocketMessageEvent) => void) | null) {
    this.#setAttribute('message', handler);
  }
  get onclose(): ((event: WebSocketCloseEvent) => void) | null {
    return this.#attribute('close');
  }
  set onclose(handler: ((event: WebSocketCloseEvent) => void) | null) {
    this.#setAttribute('close', handler);
  }
  get onerror(): ((event: WebSocketErrorEvent) => void) | null {
    return this.#attribute('error');
  }
  set onerror(handler: ((event: WebSocketErrorEvent) => void) | null) {
    this.#setAttribute('error', handler);
  }

  #attribute<E>(type: string): ((event: E) => void) | null {
    for (const wrapper of this.listeners(type) as Array<{ [kListener]?: unknown; [kAttribute]?: boolean }>) {
      if (wrapper[kAttribute] === true) return wrapper[kListener] as (event: E) => void;
    }
    return null;
  }

  #setAttribute(type: string, handler: ((event: never) => void) | null): void {
    for (const wrapper of this.listeners(type) as Array<{ [kAttribute]?: boolean }>) {
      if (wrapper[kAttribute] === true) {
        this.removeListener(type, wrapper as (...args: any[]) => void);
        break;
      }
    }
    if (typeof handler === 'function') this.#addEventListener(type, handler as EventListenerLike<any>, false, true);
  }

  #addEventListener(type: string, listener: EventListenerLike<any>, once: boolean, attribute: boolean): void {
    if (!attribute) {
      // Like EventTarget: the same listener added twice is called once.
      for (const wrapper of this.listeners(type) as Array<{ [kListener]?: unknown; [kAttribute]?: boolean }>) {
        if (wrapper[kListener] === listener && wrapper[kAttribute] !== true) return;
      }
    }
    const call = (event: WsEvent<WebSocket>) => {
      if (typeof listener === 'function') listener.call(this, event);
      else listener.handleEvent(event);
    };
    let wrapper: (...args: any[]) => void;
    switch (type) {
      case 'message':
        wrapper = (data: RawData | Blob, isBinary: boolean) =>
          call(new WsMessageEvent(this, isBinary ? data : (data as Buffer).toString()));
        break;
      case 'close':
        wrapper = (code: number, reason: Buffer) => call(new WsCloseEvent(this, code, reason.toString(), this.#wasClean));
        break;
      case 'error':
        wrapper = (error: Error) => call(new WsErrorEvent(this, error));
        break;
      case 'open':
        wrapper = () => call(new WsEvent('open', this));
        break;
      default:
        return;
    }
    Object.assign(wrapper, { [kListener]: listener, [kAttribute]: attribute });
    if (once) this.once(type as 'open', wrapper);
    else this.on(type as 'open', wrapper);
  }

  #wasClean = false;

  // ---- wiring -------------------------------------------------------------------------------

  /** @internal Takes an upgraded socket (server side, or a client after its 101). */
  [kAttach](socket: Duplex, head: Uint8Array | undefined, protocol: string, options: WebSocketBaseOptions, role: 'server' | 'client', compression: PerMessageDeflate | null = null): void {
    this.#socket = socket;
    this.#protocol = protocol;
    if (this.#isServer) this.#zeroCopy = options.zeroCopy ?? false;
    const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    const native = new NodeWebSocket(
      role,
      {
        // Without zeroCopy the native socket hands out owned Buffers (a
        // reassembled message as the decoder built it): no second copy here.
        zeroCopy: this.#zeroCopy,
        maxMessageSize: maxPayload === 0 ? Infinity : maxPayload,
        autoPong: options.autoPong ?? true,
      },
      { kind: 'server', socket, head, readMode: 'onread', protocol, compression },
    );
    this.#native = native;
    this.#state = 1;
    native[kMessageSink] = this.#onMessage;
    native.on('ping', (payload: Buffer) => this.emit('ping', this.#zeroCopy ? Buffer.from(payload) : payload));
    native.on('pong', (payload: Buffer) => this.emit('pong', this.#zeroCopy ? Buffer.from(payload) : payload));
    native.on('error', (error: Error) => this.#emitError(error));
    native.on('drain', () => this.#drained());
    native.on('close', (code: number, reason: string, wasClean: boolean) => this.#closed(code, reason, wasClean));
    // The native socket emits 'open' on the next tick, before frames that came with the 101.
    if (role === 'client') native.once('open', () => this.emit('open'));
  }

  readonly #onMessage = (view: Uint8Array, binary: boolean): void => {
    // The common case first: a Buffer as the native socket delivered it.
    if (!this.#zeroCopy && (!binary || this.#binaryType === 'nodebuffer')) {
      this.emit('message', view as Buffer, binary);
      return;
    }
    let data: RawData | Blob;
    const type = binary ? this.#binaryType : 'nodebuffer';
    if (type === 'nodebuffer' || type === 'fragments') {
      const buffer = this.#zeroCopy ? Buffer.from(view.buffer, view.byteOffset, view.byteLength) : view as Buffer;
      data = type === 'fragments' ? [buffer] : buffer;
    } else if (type === 'arraybuffer') {
      // Uint8Array's slice copies; a Buffer's (a reassembled message) would alias the decoder's buffer.
      data = Uint8Array.prototype.slice.call(view).buffer;
    } else {
      data = new Blob([Uint8Array.prototype.slice.call(view)]);
    }
    this.emit('message', data, binary);
  };

  #afterWrite(written: boolean, cb: SendCallback | undefined): void {
    if (cb === undefined) return;
    // The native send() queued the frames for this tick's write: cb runs when
    // that write hands them to the socket. false means the socket's buffer is
    // full: the write completes when 'drain' comes.
    if (written) this.#native![kAfterFlush](cb);
    else this.#waitingForDrain.push(cb);
  }

  #drained(): void {
    const callbacks = this.#waitingForDrain;
    this.#waitingForDrain = [];
    for (const cb of callbacks) cb();
  }

  #sendPreEncoded(list: readonly Uint8Array[], cb: SendCallback | undefined): void {
    // ws's Sender.frame() gives [header, payload] (socket.io's broadcasts): the
    // payload is sent as it is, never joined to its header. Any other cut is joined once.
    let head = list.length === 0 ? EMPTY : list[0]!;
    let headerBytes = preEncodedHeaderBytes(head);
    let payload: Uint8Array | null = null;
    if (list.length === 2 && head.length === headerBytes) {
      payload = list[1]!;
    } else {
      if (list.length > 1) {
        head = Buffer.concat(list as Uint8Array[]);
        headerBytes = preEncodedHeaderBytes(head);
      }
      if (head.length >= headerBytes) payload = head.subarray(headerBytes);
    }
    const first = head[0] ?? 0;
    const second = head[1] ?? 0x80;
    const opcode = first & 0x0f;
    const marker = second & 0x7f;
    const length = payload === null ? -1 : marker < 126 ? marker : marker === 126
      ? (head[2]! << 8) | head[3]!
      : Number(Buffer.from(head.buffer, head.byteOffset, head.byteLength).readBigUInt64BE(2));
    // FIN set, RSV clear, text or binary, unmasked (§5.2), and exactly one frame.
    if (payload === null || (first & 0xf0) !== 0x80 || (opcode !== 1 && opcode !== 2) || (second & 0x80) !== 0 || payload.length !== length) {
      const error = new Error('wsframe/ws: _sender.sendFrame takes one final, unmasked text or binary frame');
      if (cb === undefined) throw error;
      process.nextTick(cb, error);
      return;
    }
    const native = this.#native;
    if (this.readyState !== 1 || native === null) {
      this.#notOpen(cb);
      return;
    }
    // As ws writes it: the frame was encoded uncompressed (RSV1 clear), so it stays uncompressed.
    this.#afterWrite(native[kSendMessage](payload, opcode === 2, false), cb);
  }

  #notOpen(cb: SendCallback | undefined): void {
    if (cb === undefined) return;
    const state = this.readyState;
    process.nextTick(cb, new Error(`WebSocket is not open: readyState ${state} (${STATE_NAMES[state]})`));
  }

  #control(kind: 'ping' | 'pong', data: Data | undefined, mask: boolean | SendCallback | undefined, cb: SendCallback | undefined): void {
    if (typeof mask === 'function') cb = mask;
    if (this.readyState === 0) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    const payload = data === undefined ? new Uint8Array(0) : toPayload(data);
    const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (length > 125) throw new RangeError('The data size must not be greater than 125 bytes');
    if (this.readyState !== 1 || this.#native === null) {
      this.#notOpen(cb);
      return;
    }
    this.#afterWrite(kind === 'ping' ? this.#native.ping(payload) : this.#native.pong(payload), cb);
  }

  /** Collects a fin: false fragment; true when the message is complete. */
  #queueFragment(payload: string | Uint8Array, binary: boolean, fin: boolean): boolean {
    if (this.#fragments === null) {
      this.#fragments = [];
      this.#fragmentsBinary = binary;
    }
    // Copied: the caller may reuse its buffer before the message is complete.
    this.#fragments.push(typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload));
    return fin;
  }

  #emitError(error: Error): void {
    // ws emits 'error' unconditionally (an unhandled one crashes the process);
    // wsframe emits it only to listeners, so a hostile peer cannot crash a
    // server that did not subscribe. 'close' always follows.
    this.#errorEmitted = true;
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #closed(code: number, reason: string, wasClean: boolean): void {
    this.#state = 3;
    this.#wasClean = wasClean;
    const callbacks = this.#waitingForDrain;
    this.#waitingForDrain = [];
    if (callbacks.length > 0) {
      const error = new Error('WebSocket is not open: readyState 3 (CLOSED)');
      for (const cb of callbacks) cb(error);
    }
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    this.emit('close', code, Buffer.from(reason));
  }

  // ---- client handshake (RFC 6455 §4.1) over Node's HTTP client ------------------------

  #startClient(address: string | URL, protocols: string[], options: ClientOptions, redirects: number): void {
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      return this.#invalidUrl(new SyntaxError(`Invalid URL: ${String(address)}`), redirects);
    }
    if (url.protocol === 'http:') url.protocol = 'ws:';
    else if (url.protocol === 'https:') url.protocol = 'wss:';
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      return this.#invalidUrl(new SyntaxError(`The URL's protocol must be one of "ws:", "wss:", "http:" or "https:"`), redirects);
    }
    if (url.hash !== '') return this.#invalidUrl(new SyntaxError('The URL contains a fragment identifier'), redirects);
    for (const protocol of protocols) {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(protocol)) throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    if (new Set(protocols).size !== protocols.length) throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    this.#url = url.href;
    const secure = url.protocol === 'wss:';
    const key = generateKey();
    const {
      headers: extraHeaders, origin, handshakeTimeout, followRedirects, maxRedirects, protocolVersion: _version,
      perMessageDeflate: _deflate, maxPayload: _maxPayload, autoPong: _autoPong, skipUTF8Validation: _skip,
      allowSynchronousEvents: _sync, zeroCopy: _zeroCopy, generateMask: _mask, finishRequest, host: _host, ...requestOptions
    } = options;
    const headers: Record<string, string> = {
      ...extraHeaders,
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': key,
      Connection: 'Upgrade',
      Upgrade: 'websocket',
    };
    if (protocols.length > 0) headers['Sec-WebSocket-Protocol'] = protocols.join(',');
    // ws offers permessage-deflate by default (RFC 7692 §5).
    const deflateOptions = resolveWsDeflate(_deflate as boolean | WsPerMessageDeflateOptions | undefined, true);
    if (deflateOptions !== null) headers['Sec-WebSocket-Extensions'] = buildDeflateOffer(deflateOptions);
    if (origin !== undefined) headers.Origin = origin;
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const request = (secure ? lazyHttps() : lazyHttp()).request({
      ...requestOptions,
      ...(requestOptions.agent === undefined && requestOptions.createConnection === undefined
        ? { createConnection: (secure ? tlsConnect : netConnect) as unknown as https.RequestOptions['createConnection'] }
        : {}),
      host: hostname,
      port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
      path: url.pathname + url.search,
      headers,
      ...(url.username !== '' || url.password !== '' ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
      ...(handshakeTimeout !== undefined && handshakeTimeout > 0 ? { timeout: handshakeTimeout } : {}),
    });
    this.#request = request;
    if (handshakeTimeout !== undefined && handshakeTimeout > 0) {
      request.on('timeout', () => this.#abortHandshake(new Error('Opening handshake has timed out')));
    }
    request.on('error', (error: Error) => {
      if (this.#request !== request) return;
      this.#abortHandshake(error);
    });
    request.on('response', (response: IncomingMessage) => {
      const location = response.headers.location;
      const status = response.statusCode ?? 0;
      if (location !== undefined && followRedirects === true && status >= 300 && status < 400) {
        this.#request = null;
        request.destroy();
        response.resume();
        if (redirects + 1 > (maxRedirects ?? 10)) {
          this.#request = request;
          this.#abortHandshake(new Error('Maximum redirects exceeded'));
          return;
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          this.#request = request;
          this.#abortHandshake(new SyntaxError(`Invalid URL: ${location}`));
          return;
        }
        // Credentials are not sent to another origin unless a 'redirect' listener decides.
        const sameOrigin = next.host === url.host;
        const nextHeaders = { ...extraHeaders };
        if (!sameOrigin && this.listenerCount('redirect') === 0) {
          for (const name of Object.keys(nextHeaders)) {
            if (/^(authorization|cookie|host)$/i.test(name)) delete nextHeaders[name];
          }
        }
        this.#startClient(next, protocols, { ...options, headers: nextHeaders }, redirects + 1);
        return;
      }
      if (this.listenerCount('unexpected-response') > 0) {
        this.emit('unexpected-response', request, response);
      } else {
        this.#abortHandshake(new Error(`Unexpected server response: ${status}`));
      }
    });
    request.on('upgrade', (response: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.emit('upgrade', response);
      // A listener may have closed or terminated us.
      if (this.readyState !== 0) {
        socket.destroy();
        return;
      }
      this.#request = null;
      const verdict = verifyUpgradeResponse(
        { statusCode: response.statusCode ?? 0, headers: response.headers },
        key,
        protocols,
        deflateOptions,
      );
      if (!verdict.ok) {
        socket.destroy();
        this.#failClient(new Error(verdict.reason === 'Server selected a sub-protocol that was not offered' && protocols.length === 0
          ? 'Server sent a subprotocol but none was requested'
          : verdict.reason));
        return;
      }
      this.#socket = socket;
      const compression = verdict.deflate === null ? null : deflateSession('client', verdict.deflate, deflateOptions!);
      this[kAttach](socket, head.length > 0 ? head : undefined, verdict.protocol, options, 'client', compression);
      this.#state = 1;
    });
    if (redirects > 0 && this.listenerCount('redirect') > 0) this.emit('redirect', url.href, request);
    if (finishRequest !== undefined) finishRequest(request, this);
    else request.end();
  }

  #invalidUrl(error: SyntaxError, redirects: number): void {
    // The constructor throws; a bad redirect target fails the connection instead.
    if (redirects === 0) throw error;
    this.#failClient(error);
  }

  /** Aborts a client handshake in progress: 'error' then 'close' 1006, as ws does. */
  #abortHandshake(error: Error): void {
    const request = this.#request;
    this.#request = null;
    if (request !== null) {
      request.destroy();
      request.on('error', () => {});
    }
    this.#failClient(error);
  }

  #failClient(error: Error): void {
    if (this.readyState === 3) return;
    this.#state = 2;
    this.#emitError(error);
    this.#closed(1006, '', false);
  }
}

type WebSocketClass = typeof WebSocket;
type WebSocketInstance = WebSocket;

/**
 * The rest of the module hangs off the class, as in ws (the values are
 * assigned in index.ts): `WebSocket.Server`, `WebSocket.WebSocketServer`...
 * As a namespace it also gives `require('wsframe/ws')` users (whose module is
 * the class itself) named imports of the values and the types.
 */
export declare namespace WebSocket {
  const WebSocket: WebSocketClass;
  type WebSocket = WebSocketInstance;
  const WebSocketServer: typeof import('./server.js').WebSocketServer;
  type WebSocketServer<T extends WebSocketClass = WebSocketClass> = import('./server.js').WebSocketServer<T>;
  const Server: typeof import('./server.js').WebSocketServer;
  type Server<T extends WebSocketClass = WebSocketClass> = import('./server.js').WebSocketServer<T>;
  const createWebSocketStream: typeof import('./stream.js').createWebSocketStream;
  type ServerOptions = import('./server.js').ServerOptions;
  type VerifyClientInfo = import('./server.js').VerifyClientInfo;
  type RawData = import('./websocket.js').RawData;
  type Data = import('./websocket.js').Data;
  type BinaryType = import('./websocket.js').BinaryType;
  type ClientOptions = import('./websocket.js').ClientOptions;
  type SendOptions = import('./websocket.js').SendOptions;
  type WebSocketEvents = import('./websocket.js').WebSocketEvents;
  type MessageEvent = import('./websocket.js').WebSocketMessageEvent;
  type CloseEvent = import('./websocket.js').WebSocketCloseEvent;
  type ErrorEvent = import('./websocket.js').WebSocketErrorEvent;
  type Event = import('./websocket.js').WebSocketOpenEvent;
}

function netConnect(options: net.NetConnectOpts & { path?: string; socketPath?: string }): net.Socket {
  // http.request passes the request path as `path`, which net.connect would take for an IPC path.
  return lazyNet().connect({ ...options, path: options.socketPath } as net.NetConnectOpts);
}

function tlsConnect(options: import('node:tls').ConnectionOptions & { path?: string; host?: string }): net.Socket {
  const servername = options.servername ?? (lazyNet().isIP(options.host ?? '') === 0 ? options.host : undefined);
  const { path: _path, ...rest } = options;
  return lazyTls().connect({ ...rest, ...(servername === undefined ? {} : { servername }) });
}

/** The header length a frame's second byte announces (§5.2): 2, 4 or 10; past the bytes given when they are fewer. */
function preEncodedHeaderBytes(head: Uint8Array): number {
  if (head.length < 2) return head.length + 1;
  const marker = head[1]! & 0x7f;
  return marker < 126 ? 2 : marker === 126 ? 4 : 10;
}

/** ws's conversions of what send() takes: strings stay text, views and buffers are sent as bytes. */
function toPayload(data: Data): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || data instanceof SharedArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data)) return Buffer.from(data as number[]);
  return String(data);
}
