// Every option that more than one layer takes, declared once with its default
// and its validation. Decoder, Connection, the stream adapters and the Node
// edge accept these interfaces and pass them down unchanged; only the layer
// that uses an option resolves it, here.

/** 'server' reads masked frames and writes unmasked ones; 'client' the reverse (RFC 6455 §5.1). */
export type Role = 'server' | 'client';

/** Limits on what a peer may send (checked from frame headers, before anything is stored). */
export interface LimitOptions {
  /** Largest message (and frame) in bytes; past it the connection fails with 1009. Default 64 MiB. */
  maxMessageSize?: number;
  /** Most frames in one message; past it the connection fails with 1008. Default 0: no cap. */
  maxFragments?: number;
}

/** Behaviour of a connection (the RFC 6455 §7 state machine). */
export interface BehaviourOptions {
  /** Answer pings with pongs automatically (§5.5.2). Default true. */
  autoPong?: boolean;
  /** Time the peer gets to complete the closing handshake, in ms. Default 30000; 0 = wait forever. */
  closeTimeout?: number;
  /** Start the closing handshake (1001) after this many ms without reads. Default 0 = off. */
  idleTimeout?: number;
}

/** What a decoder may do with a reassembled message's buffer once its handler returns. */
export interface DeliveryOptions {
  /**
   * true: the consumer keeps messages; a message reassembled from several
   * frames or pushes is delivered as an owned buffer that is never written
   * again. false (default): every message is a view valid until its handler
   * returns; reassembly buffers are recycled for later messages (no fresh
   * multi-megabyte buffer, no page faults per message).
   */
  ownMessages?: boolean;
  /**
   * true (a recycling decoder, ownMessages false): a message of 1–8 MiB from a
   * peer whose previous message was that large is reassembled in one shared
   * 8 MiB region of WebAssembly memory that its socket reads into directly
   * (unmasked and compacted in place), and a server that sends the delivered
   * view back sends it from there: one copy of the message less. The region
   * is taken on first use and never shrinks; it holds one message at a time,
   * and every other message is reassembled as usual. Default false.
   */
  arena?: boolean;
}

export const DEFAULT_ROLE: Role = 'server';
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 2 ** 20;
export const DEFAULT_MAX_FRAGMENTS = 0;
export const DEFAULT_AUTO_PONG = true;
export const DEFAULT_CLOSE_TIMEOUT = 30_000;
export const DEFAULT_IDLE_TIMEOUT = 0;
export const DEFAULT_OWN_MESSAGES = false;
export const DEFAULT_ARENA = false;

export function resolveRole(role: Role | undefined): Role {
  const value = role ?? DEFAULT_ROLE;
  if (value !== 'server' && value !== 'client') throw new TypeError(`role must be 'server' or 'client', got ${String(value)}`);
  return value;
}

export function resolveLimits(options: LimitOptions): Required<LimitOptions> {
  const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
  if (typeof maxMessageSize !== 'number' || !(maxMessageSize >= 0)) throw new RangeError('maxMessageSize must be a number >= 0');
  const maxFragments = options.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
  if (!Number.isInteger(maxFragments) || maxFragments < 0 || maxFragments > 0xffffffff) {
    throw new RangeError('maxFragments must be an integer >= 0');
  }
  return { maxMessageSize, maxFragments };
}

function milliseconds(name: string, value: number): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a finite number of ms >= 0`);
  return value;
}

export function resolveBehaviour(options: BehaviourOptions): Required<BehaviourOptions> {
  return {
    autoPong: options.autoPong ?? DEFAULT_AUTO_PONG,
    closeTimeout: milliseconds('closeTimeout', options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT),
    idleTimeout: milliseconds('idleTimeout', options.idleTimeout ?? DEFAULT_IDLE_TIMEOUT),
  };
}

export function resolveOwnMessages(options: DeliveryOptions): boolean {
  const value = options.ownMessages ?? DEFAULT_OWN_MESSAGES;
  if (typeof value !== 'boolean') throw new TypeError(`ownMessages must be a boolean, got ${String(value)}`);
  return value;
}

export function resolveArena(options: DeliveryOptions): boolean {
  const value = options.arena ?? DEFAULT_ARENA;
  if (typeof value !== 'boolean') throw new TypeError(`arena must be a boolean, got ${String(value)}`);
  return value;
}
