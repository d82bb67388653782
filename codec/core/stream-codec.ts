// What the stream adapters share: a decoder that queues owned copies of its
// events, and a frame writer for stream input. Payloads handed downstream are
// owned copies: a stream consumer reads them long after the decoder handler
// returned, and decoder views (WASM memory) are only valid during the handler.
import { detachFromWasm } from './bytes.js';
import { Decoder } from './decoder.js';
import { Encoder } from './encoder.js';
import { isWasmMemory } from './wasm.js';
import type { LimitOptions, Role } from './options.js';

/** A decoded WebSocket event, as produced by the decoder streams. */
export type WebSocketStreamEvent =
  | { type: 'message'; data: Uint8Array; binary: boolean }
  | { type: 'ping'; data: Uint8Array }
  | { type: 'pong'; data: Uint8Array }
  | { type: 'close'; code: number; reason: string };

/**
 * What the encoder streams accept: a Uint8Array (binary message) or string (text
 * message), `{ data, binary? }` for a message, or one of the decoder's event
 * objects (so a decoder stream can be piped into an encoder stream).
 */
export type WebSocketStreamInput =
  | Uint8Array
  | string
  | { data: Uint8Array | string; binary?: boolean; type?: 'message' }
  | { type: 'ping' | 'pong'; data?: Uint8Array | string }
  | { type: 'close'; code?: number; reason?: string };

/** Role and limits as for a Decoder; a protocol error errors the stream with the ProtocolError. */
export interface DecoderStreamOptions extends LimitOptions {
  /** 'server' (default) expects masked frames, 'client' unmasked ones (§5.1). */
  role?: Role;
}

export interface EncoderStreamOptions {
  /** 'server' (default) writes unmasked frames, 'client' masked ones (§5.3). */
  role?: Role;
  /** Split messages into frames of at most this many payload bytes (§5.4). Default 0 = one frame. */
  fragmentSize?: number;
  /** Mask key source for the client role. */
  randomFill?: (buffer: Uint8Array) => void;
}

/** A payload that outlives its handler: decoder views are copied, owned (reassembled) messages are not. */
function owned(data: Uint8Array): Uint8Array {
  return isWasmMemory(data) ? data.slice() : data;
}

/** A decoder that queues copies of its events; `take()` hands them over. */
export class EventCollector {
  readonly decoder: Decoder;
  private events: WebSocketStreamEvent[] = [];
  error: Error | null = null;

  constructor(options: DecoderStreamOptions) {
    this.decoder = new Decoder({
      ...options,
      // Events are queued past the handler: reassembled messages must be owned.
      ownMessages: true,
      onMessage: (data, binary) => this.events.push({ type: 'message', data: owned(data), binary }),
      onPing: (data) => this.events.push({ type: 'ping', data: owned(data) }),
      onPong: (data) => this.events.push({ type: 'pong', data: owned(data) }),
      onClose: (code, reason) => this.events.push({ type: 'close', code, reason }),
      onError: (error) => {
        this.error = error;
      },
    });
  }

  /** Decodes a chunk; returns the events it completed (those before an error included). */
  push(chunk: Uint8Array): WebSocketStreamEvent[] {
    this.decoder.push(chunk);
    const events = this.events;
    this.events = [];
    return events;
  }
}

/** Turns stream input into frames; decoder views are copied since frames are queued downstream. */
export class FrameWriter {
  private readonly encoder: Encoder;
  private readonly fragmentSize: number;
  private readonly copyViews: boolean;

  constructor(options: EncoderStreamOptions) {
    this.encoder = new Encoder(options);
    const role = this.encoder.role;
    this.fragmentSize = options.fragmentSize ?? 0;
    // Only the server role aliases payloads in its output.
    this.copyViews = role === 'server';
  }

  encode(input: WebSocketStreamInput): Uint8Array[] {
    const frames = this.frames(input);
    return this.copyViews ? detachFromWasm(frames) : frames;
  }

  private frames(input: WebSocketStreamInput): Uint8Array[] {
    if (typeof input === 'string' || input instanceof Uint8Array) {
      return this.encoder.message(input, { binary: typeof input !== 'string', fragmentSize: this.fragmentSize });
    }
    if (input === null || typeof input !== 'object') throw new TypeError('Expected a Uint8Array, a string or a message object');
    switch (input.type) {
      case 'ping':
        return this.encoder.ping(input.data ?? new Uint8Array(0));
      case 'pong':
        return this.encoder.pong(input.data ?? new Uint8Array(0));
      case 'close':
        return input.code === undefined ? this.encoder.close() : this.encoder.close(input.code, input.reason ?? '');
      case undefined:
      case 'message': {
        const data = input.data;
        if (typeof data !== 'string' && !(data instanceof Uint8Array)) throw new TypeError('message data must be a Uint8Array or a string');
        return this.encoder.message(data, {
          binary: input.binary ?? typeof data !== 'string',
          fragmentSize: this.fragmentSize,
        });
      }
      default:
        throw new TypeError(`Unknown message type: ${String((input as { type: unknown }).type)}`);
    }
  }
}
