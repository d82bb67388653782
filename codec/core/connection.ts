// A sans-I/O WebSocket connection: the RFC 6455 §7 state machine over one
// Decoder and one Encoder. It never touches a socket or a timer; it tells its
// adapter what to write, when to shut the transport down and which timers to
// run, and the adapter tells it what was read and when a timer fired.
import { Decoder, type DecoderHandlers } from './decoder.js';
import { Encoder, SMALL_FRAME } from './encoder.js';
import { isSendableCloseCode, type ProtocolError } from './errors.js';
import { asBytes, detachFromWasm } from './bytes.js';
import { OP_BINARY, OP_PING, OP_PONG, OP_TEXT } from './generated/wasm-interface.js';
import type { InboundExtension } from './extension.js';
import type { PerMessageDeflate } from './permessage-deflate.js';
import { resolveBehaviour, resolveLimits, type BehaviourOptions, type DeliveryOptions, type LimitOptions, type Role } from './options.js';

/** The WebSocket readyState values (RFC 6455 §4.1, §7). */
export type ConnectionState = 'CONNECTING' | 'OPEN' | 'CLOSING' | 'CLOSED';

export type ConnectionRole = Role;

/** How the adapter should take the transport down. */
export type TransportShutdown =
  /** Flush what was written, then half-close (TCP FIN) and wait for the peer's FIN. */
  | 'end'
  /** Drop the transport now. */
  | 'destroy';

/** Timers the connection asks its adapter to run (it never creates one itself). */
export type ConnectionTimer =
  /** Bounds the closing handshake: when it fires, drop the transport (§7.1.1). */
  | 'close'
  /** Fires after this long without any bytes read; the adapter restarts it on every read. */
  | 'idle';

/** Close codes used by the state machine (same values as the core's CloseCode). */
const GOING_AWAY = 1001;
const NO_STATUS_RECEIVED = 1005;
const ABNORMAL_CLOSURE = 1006;

/** FIN bit of a frame's first byte (§5.2). */
const FIN = 0x80;
/** Largest control frame payload (§5.5) and close reason (§5.5.1: 125 - 2 code bytes). */
const MAX_CONTROL_PAYLOAD = 125;
const MAX_CLOSE_REASON_BYTES = 123;

const utf8 = new TextEncoder();

export interface ConnectionHandlers {
  /**
   * Bytes to send, in order; write them all (cork/writev) before returning.
   * Return false when the transport is now above its high-water mark (the peer
   * is not taking what is written): automatic replies are then held back (at
   * most one pong, §5.5.3) until the adapter calls `outputDrained()`.
   */
  onWrite(chunks: Uint8Array[]): boolean | void;
  /**
   * Optional, server role: one frame of at most SMALL_FRAME (1 KiB) payload
   * bytes (a message in one uncompressed frame, a ping or a pong), for a
   * transport that copies small writes into a buffer of its own (the Node
   * adapter's per-tick batch): write it with `writeSmallFrame()` before
   * returning (`payload` is valid only during the call). Saves the chunk
   * objects of onWrite for every small frame. Returns as onWrite.
   */
  onWriteFrame?(firstByte: number, payload: Uint8Array): boolean | void;
  /** Take the transport down; called once per closing handshake, 'destroy' may follow 'end'. */
  onShutdown(how: TransportShutdown): void;
  /** Start (ms > 0) or cancel (ms = 0) one of the timers; call `timerFired(kind)` when it expires. */
  onTimer?(kind: ConnectionTimer, ms: number): void;
  /**
   * A whole message; `data` is a view valid only until this handler returns,
   * unless `ownMessages` is set (then a message reassembled from several
   * frames or reads is owned; one that arrived whole in a read is still a view).
   */
  onMessage?(data: Uint8Array, binary: boolean): void;
  /**
   * Streaming delivery, used instead of onMessage when given: payload pieces as
   * they arrive (even parts of one frame), `fin` on the message's last piece.
   * Views valid only until this handler returns; nothing is buffered.
   */
  onFragment?(data: Uint8Array, binary: boolean, fin: boolean): void;
  /** A ping; the pong is already written when `autoPong` is on. View valid during the call. */
  onPing?(payload: Uint8Array): void;
  onPong?(payload: Uint8Array): void;
  /** The peer's close frame arrived (1005 when it had no body). The reply is already written. */
  onPeerClose?(code: number, reason: string): void;
  /** The peer broke the protocol; the failing close frame is already written (§7.1.7). */
  onProtocolError?(error: ProtocolError): void;
  /** Final event: the transport is gone. `code` is what the application should see (§7.1.5). */
  onClosed?(code: number, reason: string, wasClean: boolean): void;
}

/** Everything a Connection takes but its handlers. */
export interface ConnectionSettings extends LimitOptions, BehaviourOptions, DeliveryOptions {
  /** 'server' reads masked frames and writes unmasked ones; 'client' the reverse (§5.1). */
  role: ConnectionRole;
  /** Mask key source for the client role (inject for deterministic output in tests). */
  randomFill?: (buffer: Uint8Array) => void;
  /** A negotiated extension's inbound side (see extension.ts). Default none. */
  extension?: InboundExtension;
  /**
   * A negotiated permessage-deflate session (RFC 7692; see permessage-deflate.ts):
   * messages at or above its threshold go out compressed, RSV1 messages are
   * inflated before onMessage/onFragment. Freed when the connection closes. Default none.
   */
  compression?: PerMessageDeflate;
  /** Start in OPEN instead of CONNECTING (the handshake is already done). Default false. */
  open?: boolean;
}

export interface ConnectionOptions extends ConnectionHandlers, ConnectionSettings {}

/**
 * The RFC 6455 connection state machine. Feed it transport bytes with `push`
 * (or `readBuffer`/`pushReadBuffer`), drive it with `send`/`ping`/`close`,
 * and tell it about the transport with `transportEnded`/`transportClosed`.
 */
export class Connection {
  readonly role: ConnectionRole;
  private decoder: Decoder;
  private readonly encoder: Encoder;
  private readonly handlers: ConnectionHandlers;
  private readonly options: ConnectionSettings;
  private compression: PerMessageDeflate | null = null;
  /** An extension failed the connection: input is no longer parsed. */
  private inputFailed = false;
  private readonly autoPong: boolean;
  private readonly closeTimeout: number;
  private readonly idleTimeout: number;
  private currentState: ConnectionState;
  private closeFrameSent = false;
  private closeFrameReceived = false;
  private shutdownRequested: TransportShutdown | null = null;
  /** What the application will be told in onClosed (§7.1.5, §7.1.6). */
  private closeCode = ABNORMAL_CLOSURE;
  private closeReason = '';
  /** Set while the decoder is calling us, so that a re-entrant destroy is deferred. */
  private pushing = false;
  private decoderDestroyPending = false;
  /** The last onWrite said the transport is above its mark; cleared by outputDrained(). */
  private outputBlocked = false;
  /**
   * Payload of the most recent ping not answered while output was blocked
   * (§5.5.3: only the latest needs a pong): heldPongLength bytes of
   * heldPongBytes, -1 for none. The buffer is allocated once, at the first hold.
   */
  private heldPongBytes: Uint8Array | null = null;
  private heldPongLength = -1;
  /** fail() was called: nothing more read is delivered, even from the read in progress. */
  private inputStopped = false;

  /**
   * The decoder's handlers: one small object per connection whose methods
   * all connections share, instead of a closure per event and connection
   * (idle connections are mostly their objects).
   */
  private static readonly DecoderEvents = class implements DecoderHandlers {
    constructor(readonly connection: Connection) {}
    onMessage(data: Uint8Array, binary: boolean): void {
      this.connection.receivedMessage(data, binary);
    }
    onPing(payload: Uint8Array): void {
      this.connection.receivedPing(payload);
    }
    onPong(payload: Uint8Array): void {
      this.connection.receivedPong(payload);
    }
    onClose(code: number, reason: string): void {
      this.connection.receivedClose(code, reason);
    }
    onError(error: ProtocolError): void {
      this.connection.receivedProtocolError(error);
    }
  };

  /** The same for an application that takes messages piece by piece (onFragment: the decoder streams). */
  private static readonly StreamingDecoderEvents = class extends Connection.DecoderEvents {
    onFragment(data: Uint8Array, binary: boolean, fin: boolean): void {
      this.connection.receivedFragment(data, binary, fin);
    }
  };

  /**
   * Handlers come with the options, or as a separate object (then only that
   * object is kept: an adapter can share one prototype of handler methods
   * among all its connections instead of a closure per event and connection).
   */
  constructor(options: ConnectionOptions);
  constructor(options: ConnectionSettings, handlers: ConnectionHandlers);
  constructor(options: ConnectionSettings, handlers: ConnectionHandlers = options as ConnectionOptions) {
    this.role = options.role;
    this.handlers = handlers;
    this.options = options;
    ({ autoPong: this.autoPong, closeTimeout: this.closeTimeout, idleTimeout: this.idleTimeout } = resolveBehaviour(options));
    this.currentState = options.open === true ? 'OPEN' : 'CONNECTING';
    this.encoder = new Encoder(
      options.randomFill === undefined ? { role: this.role } : { role: this.role, randomFill: options.randomFill },
    );
    this.decoder = this.createDecoder(options.compression ?? null);
    if (this.currentState === 'OPEN') this.startIdleTimer();
  }

  /** The decoder, with the inbound side of a negotiated permessage-deflate when there is one. */
  private createDecoder(compression: PerMessageDeflate | null): Decoder {
    const options = this.options;
    this.compression = compression;
    let extension = options.extension;
    if (compression !== null) {
      extension = compression.inbound({
        // The limit applies to the inflated message (RFC 7692 §8 bombs); the decoder
        // applies the same limit to the compressed bytes.
        maxMessageSize: resolveLimits(options).maxMessageSize,
        onMessage: (data, binary) => this.receivedMessage(data, binary),
        onFragment: this.handlers.onFragment === undefined ? undefined : (data, binary, fin) => this.receivedFragment(data, binary, fin),
        onError: (error) => {
          this.inputFailed = true;
          this.receivedProtocolError(error);
        },
      });
    }
    return new Decoder({
      role: this.role,
      ...(options.maxMessageSize === undefined ? {} : { maxMessageSize: options.maxMessageSize }),
      ...(options.maxFragments === undefined ? {} : { maxFragments: options.maxFragments }),
      ...(options.ownMessages === undefined ? {} : { ownMessages: options.ownMessages }),
      ...(options.arena === undefined ? {} : { arena: options.arena }),
      ...(extension === undefined ? {} : { extension }),
    }, this.handlers.onFragment === undefined ? new Connection.DecoderEvents(this) : new Connection.StreamingDecoderEvents(this));
  }

  /** The negotiated permessage-deflate session, or null. */
  get perMessageDeflate(): PerMessageDeflate | null {
    return this.compression;
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Decoder statistics (frames, messages, bytes, buffered bytes). */
  get stats(): Decoder['stats'] {
    return this.decoder.stats;
  }

  /**
   * The opening handshake succeeded: frames may flow now (§4.1 "_The WebSocket
   * Connection is Established_"). A client passes the permessage-deflate session
   * its handshake agreed on, if any.
   */
  open(compression?: PerMessageDeflate): void {
    if (this.currentState !== 'CONNECTING') {
      compression?.close();
      return;
    }
    if (compression !== undefined) {
      // The parser's RSV policy is fixed when it is created: nothing was parsed yet, start a fresh one.
      this.decoder.destroy();
      this.decoder = this.createDecoder(compression);
    }
    this.currentState = 'OPEN';
    this.startIdleTimer();
  }

  // ---- input from the transport -------------------------------------------------

  /** Bytes read from the transport, in any chunking. */
  push(chunk: Uint8Array): void {
    if (!this.beginInput()) return;
    try {
      this.decoder.push(chunk);
    } finally {
      this.finishPush();
    }
  }

  /**
   * The decoder's input area, for zero-copy reads (net.Socket `onread`): the
   * transport writes up to `.length` bytes into it, then calls `pushReadBuffer(n)`.
   * Ask again before every read: WASM memory growth detaches earlier views.
   */
  readBuffer(): Uint8Array {
    return this.decoder.readBuffer();
  }

  /** Parse the `n` bytes the transport just wrote into `readBuffer()`. */
  pushReadBuffer(n: number): void {
    if (!this.beginInput()) return;
    try {
      this.decoder.pushReadBuffer(n);
    } finally {
      this.finishPush();
    }
  }

  /** Before a decoder input call: false when input is no longer accepted; marks the call so a re-entrant destroy waits for it. */
  private beginInput(): boolean {
    if (!this.acceptsInput()) return false;
    this.pushing = true;
    return true;
  }

  /** The peer half-closed the transport (TCP FIN). */
  transportEnded(): void {
    if (this.currentState === 'CLOSED') return;
    // Without a close frame this is an abnormal closure (§7.1.5: code 1006);
    // either way nothing more can arrive, so finish our side too.
    this.requestShutdown('end');
  }

  /** The transport is gone; emits onClosed once. */
  transportClosed(): void {
    if (this.currentState === 'CLOSED') return;
    this.currentState = 'CLOSED';
    this.setTimer('close', 0);
    this.setTimer('idle', 0);
    this.destroyDecoder();
    // zlib state goes with the connection, however it ended.
    this.compression?.close();
    const wasClean = this.closeFrameSent && this.closeFrameReceived;
    // closeCode stays 1006 unless a close frame was received (§7.1.5) or we
    // failed the connection ourselves, in which case our own code is reported.
    this.handlers.onClosed?.(this.closeCode, this.closeReason, wasClean);
  }

  /** A timer requested through onTimer expired. */
  timerFired(kind: ConnectionTimer): void {
    if (this.currentState === 'CLOSED') return;
    if (kind === 'close') {
      // The peer did not finish the closing handshake in time (§7.1.1 "MAY close the connection").
      this.requestShutdown('destroy');
    } else if (this.currentState === 'OPEN') {
      this.close(GOING_AWAY, 'idle timeout');
    }
  }

  // ---- output requested by the application ------------------------------------

  /**
   * Sends one message. Returns false (and sends nothing) unless the connection is OPEN.
   * With permessage-deflate negotiated, a message at or above the threshold goes out
   * compressed unless `compress` is false (RFC 7692 §6: compression is per message).
   */
  send(data: Uint8Array | string, binary: boolean = typeof data !== 'string', fragmentSize = 0, compress = true): boolean {
    if (this.currentState === 'CONNECTING') throw new Error('WebSocket is not open: the handshake is not complete');
    if (this.currentState !== 'OPEN' || this.closeFrameSent) return false;
    const compression = this.compression;
    if (compress && compression !== null) {
      const bytes = typeof data === 'string' ? utf8.encode(data) : data;
      if (compression.wants(bytes.byteLength)) {
        // Compressed synchronously: the frames are written before any later message's (order kept).
        this.write(this.encoder.message(compression.compress(bytes), { binary, fragmentSize, rsv1: true }));
        return true;
      }
      data = bytes;
    }
    // A small single frame goes straight into a transport that copies it (no chunk objects).
    if (this.role === 'server' && this.handlers.onWriteFrame !== undefined) {
      const bytes = typeof data === 'string' ? utf8.encode(data) : asBytes(data);
      if ((fragmentSize === 0 || fragmentSize >= bytes.length) && this.writeFrame(FIN | (binary ? OP_BINARY : OP_TEXT), bytes)) return true;
      data = bytes;
    }
    this.write(this.encoder.message(data, { binary, fragmentSize }));
    return true;
  }

  /** Sends one piece of a message streamed piece by piece (§5.4); `fin` ends the message. */
  sendFragment(data: Uint8Array | string, binary: boolean, fin: boolean): boolean {
    if (this.currentState === 'CONNECTING') throw new Error('WebSocket is not open: the handshake is not complete');
    if (this.currentState !== 'OPEN' || this.closeFrameSent) return false;
    this.write(this.encoder.fragment(data, { binary, fin }));
    return true;
  }

  ping(payload: Uint8Array | string = new Uint8Array(0)): boolean {
    return this.sendControl(payload, OP_PING);
  }

  pong(payload: Uint8Array | string = new Uint8Array(0)): boolean {
    return this.sendControl(payload, OP_PONG);
  }

  /**
   * Starts the closing handshake (§7.1.2): sends a close frame and waits for the
   * peer's. Without a code the frame has no body (the peer then sees 1005).
   */
  close(code?: number, reason = ''): void {
    if (code !== undefined && !isSendableCloseCode(code)) {
      throw new RangeError(`Invalid close code: ${code}`);
    }
    const reasonBytes = utf8.encode(reason);
    if (reasonBytes.length > MAX_CLOSE_REASON_BYTES) throw new RangeError('Close reason must be at most 123 bytes');
    if (code === undefined && reason !== '') throw new TypeError('A close reason needs a close code');
    if (this.currentState === 'CONNECTING') {
      // Nothing to negotiate yet: just drop the transport (§7.1.7 for a handshake in progress).
      this.leaveOpenState();
      this.requestShutdown('destroy');
      return;
    }
    if (this.currentState !== 'OPEN' || this.closeFrameSent) return;
    this.sendCloseFrame(code, reason);
    this.leaveOpenState();
    this.setTimer('close', this.closeTimeout);
  }

  /**
   * The transport went back below its high-water mark (the peer reads again):
   * writes the pong held back for the most recent ping, if any.
   */
  outputDrained(): void {
    this.outputBlocked = false;
    const length = this.heldPongLength;
    if (length < 0) return;
    this.heldPongLength = -1;
    // A copy: a server-role frame refers to its payload, and the held buffer is reused.
    if (this.currentState === 'CLOSED' || this.closeFrameSent) return;
    const held = this.heldPongBytes!.subarray(0, length);
    if (!this.writeFrame(FIN | OP_PONG, held)) this.write(this.encoder.pong(held.slice()));
  }

  /**
   * Fails the connection on the application's behalf (§7.1.7), e.g. 1011 when
   * one of its handlers threw: sends a close frame with `code` (unless one was
   * sent), stops decoding (what followed in the same read is not delivered)
   * and ends the transport. onClosed reports `code`.
   */
  fail(code: number, reason = ''): void {
    if (this.currentState === 'CLOSED') return;
    if (!isSendableCloseCode(code)) throw new RangeError(`Invalid close code: ${code}`);
    if (this.currentState !== 'CONNECTING' && !this.closeFrameSent) this.sendCloseFrame(code, reason);
    if (!this.closeFrameReceived) {
      this.closeCode = code;
      this.closeReason = reason;
    }
    this.leaveOpenState();
    this.inputStopped = true;
    this.destroyDecoder();
    this.setTimer('close', this.closeTimeout);
    this.requestShutdown(this.closeFrameSent ? 'end' : 'destroy');
  }

  /** Drops the transport without a closing handshake (the application sees 1006). */
  terminate(): void {
    if (this.currentState === 'CLOSED') return;
    this.leaveOpenState();
    this.compression?.close();
    this.requestShutdown('destroy');
  }

  // ---- decoder events -----------------------------------------------------------

  private receivedMessage(data: Uint8Array, binary: boolean): void {
    // §7.1.2 / §1.4: after sending our close frame we no longer process data frames.
    if (this.currentState !== 'OPEN' || this.closeFrameSent) return;
    this.handlers.onMessage?.(data, binary);
  }

  private receivedFragment(data: Uint8Array, binary: boolean, fin: boolean): void {
    if (this.currentState !== 'OPEN' || this.closeFrameSent) return;
    this.handlers.onFragment?.(data, binary, fin);
  }

  private receivedPing(payload: Uint8Array): void {
    if (this.currentState === 'CLOSED' || this.inputStopped) return;
    // §5.5.2: answer with a pong carrying the same payload, unless we already sent
    // a close frame (§5.5.1: nothing may follow it).
    if (this.autoPong && !this.closeFrameSent) {
      // A peer that pings without reading must not grow our output: while the
      // transport is above its mark, keep only the latest ping's payload
      // (§5.5.3 allows answering only the most recent) and answer it on drain.
      if (this.outputBlocked) this.holdPong(payload);
      else if (!this.writeFrame(FIN | OP_PONG, payload)) this.write(this.encoder.pong(payload));
    }
    this.handlers.onPing?.(payload);
  }

  private receivedPong(payload: Uint8Array): void {
    if (this.currentState === 'CLOSED' || this.inputStopped) return;
    this.handlers.onPong?.(payload);
  }

  private receivedClose(code: number, reason: string): void {
    if (this.currentState === 'CLOSED' || this.inputStopped) return;
    this.closeFrameReceived = true;
    if (!this.closeFrameSent) {
      // §5.5.1: answer with a close frame, echoing the status code received
      // (and its reason, as ws does); a close frame without a body (1005) is
      // answered without a body.
      this.sendCloseFrame(code === NO_STATUS_RECEIVED ? undefined : code, reason);
    }
    // §7.1.5: "The WebSocket Connection Close Code" is the one in the first close
    // frame received, whichever side started the handshake.
    this.closeCode = code;
    this.closeReason = reason;
    this.leaveOpenState();
    this.handlers.onPeerClose?.(code, reason);
    this.finishClosingHandshake();
  }

  private receivedProtocolError(error: ProtocolError): void {
    if (this.currentState === 'CLOSED' || this.inputStopped) return;
    // §7.1.7 "Fail the WebSocket Connection": send a close frame with the
    // decoder's code (unless one was already sent), then close the transport.
    if (!this.closeFrameSent) this.sendCloseFrame(error.closeCode, '');
    this.leaveOpenState();
    // Nothing more is compressed or inflated on a failed connection.
    this.compression?.close();
    this.closeCode = error.closeCode;
    this.closeReason = error.message;
    this.handlers.onProtocolError?.(error);
    this.setTimer('close', this.closeTimeout);
    this.requestShutdown('end');
  }

  // ---- internals ----------------------------------------------------------------

  private acceptsInput(): boolean {
    return this.currentState !== 'CLOSED' && !this.inputStopped && !this.inputFailed && !this.decoderDestroyPending && this.decoder.state === 'open';
  }

  private finishPush(): void {
    this.pushing = false;
    if (this.decoderDestroyPending) {
      this.decoderDestroyPending = false;
      this.decoder.destroy();
    }
  }

  private destroyDecoder(): void {
    if (this.pushing) this.decoderDestroyPending = true;
    else if (this.decoder.state !== 'destroyed') this.decoder.destroy();
  }

  /** Both close frames are known: the transport can go (§7.1.1, §7.1.2). */
  private finishClosingHandshake(): void {
    if (this.role === 'server') {
      // §7.1.1: the server closes the TCP connection first...
      this.setTimer('close', this.closeTimeout);
      this.requestShutdown('end');
    } else {
      // ...and the client waits for it, but not forever.
      this.setTimer('close', this.closeTimeout);
    }
  }

  private holdPong(payload: Uint8Array): void {
    this.heldPongBytes ??= new Uint8Array(MAX_CONTROL_PAYLOAD);
    this.heldPongBytes.set(payload);
    this.heldPongLength = payload.length;
  }

  private sendCloseFrame(code: number | undefined, reason: string): void {
    this.closeFrameSent = true;
    this.heldPongLength = -1;  // §5.5.1: nothing follows a close frame
    this.write(code === undefined ? this.encoder.close() : this.encoder.close(code, reason));
  }

  private sendControl(payload: Uint8Array | string, opcode: typeof OP_PING | typeof OP_PONG): boolean {
    if (this.currentState === 'CONNECTING') throw new Error('WebSocket is not open: the handshake is not complete');
    const bytes = typeof payload === 'string' ? utf8.encode(payload) : payload;
    if (bytes.length > MAX_CONTROL_PAYLOAD) throw new RangeError('Control frame payload must be at most 125 bytes');
    if (this.currentState !== 'OPEN' || this.closeFrameSent) return false;
    if (!this.writeFrame(FIN | opcode, bytes)) this.write(opcode === OP_PING ? this.encoder.ping(bytes) : this.encoder.pong(bytes));
    return true;
  }

  /**
   * A server frame of at most SMALL_FRAME payload bytes, copied by the
   * transport's onWriteFrame when it has one (no chunk objects); false when
   * it must go through write() instead.
   */
  private writeFrame(firstByte: number, payload: Uint8Array): boolean {
    if (this.role !== 'server' || this.handlers.onWriteFrame === undefined || payload.length > SMALL_FRAME) return false;
    if (this.handlers.onWriteFrame(firstByte, payload) === false) this.outputBlocked = true;
    return true;
  }

  /** Everything written passes here: decoder views among the frames are copied (see detachFromWasm). */
  private write(chunks: Uint8Array[]): void {
    if (chunks.length === 0) return;
    if (this.handlers.onWrite(this.role === 'server' ? detachFromWasm(chunks) : chunks) === false) this.outputBlocked = true;
  }

  private requestShutdown(how: TransportShutdown): void {
    if (this.shutdownRequested === 'destroy' || this.shutdownRequested === how) return;
    this.shutdownRequested = how;
    this.handlers.onShutdown(how);
  }

  private startIdleTimer(): void {
    if (this.idleTimeout > 0) this.setTimer('idle', this.idleTimeout);
  }

  private setTimer(kind: ConnectionTimer, ms: number): void {
    this.handlers.onTimer?.(kind, ms);
  }

  private leaveOpenState(): void {
    if (this.currentState === 'OPEN' && this.idleTimeout > 0) this.setTimer('idle', 0);
    if (this.currentState !== 'CLOSED') this.currentState = 'CLOSING';
  }
}
