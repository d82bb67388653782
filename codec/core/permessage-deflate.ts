// permessage-deflate (RFC 7692), sans-I/O: the negotiation in the opening
// handshake (§5-7) for both roles, and the per-connection session that
// compresses outgoing messages and inflates incoming ones through an injected
// CompressionProvider (compression.ts). The parser hands us the raw payload
// of every message whose first frame has RSV1 (extension.ts); everything after
// that — inflation, the size limit on the inflated bytes, UTF-8 validation of
// inflated text, delivery — happens here.
import type { CompressionProvider, RawDeflater, RawInflater } from './compression.js';
import type { InboundExtension } from './extension.js';
import { ProtocolError } from './errors.js';
import type { Role } from './options.js';
import { allocUnsafe } from './bytes.js';

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** What an application configures (`perMessageDeflate` on accept()/connect()). */
export interface PerMessageDeflateOptions {
  /** Messages of at least this many bytes are compressed; smaller ones go out plain. Default 1024. */
  threshold?: number;
  /**
   * Server: always answer with server_no_context_takeover (our compressor forgets its
   * window after each message). Client: offer it (ask the server to). Default false.
   */
  serverNoContextTakeover?: boolean;
  /** Server: answer with client_no_context_takeover. Client: offer it (and honour it). Default false. */
  clientNoContextTakeover?: boolean;
  /** Server: largest window for its own compressor. Client: offer it as server_max_window_bits. 8..15, default 15 (client: not offered). */
  serverMaxWindowBits?: number;
  /**
   * Client: offer client_max_window_bits with this value (default: offered without a
   * value, as browsers do). Server: ask a client that offered the parameter for at most
   * this window. 8..15.
   */
  clientMaxWindowBits?: number;
  /** zlib compression level 0..9, or -1 for zlib's default (6). Default -1. */
  level?: number;
  /** zlib memLevel 1..9. Default 8. */
  memLevel?: number;
  /**
   * Accepted for compatibility with ws; no effect: compression runs synchronously
   * in the calling thread (see README), so there is never more than one job at a time.
   * Default 10.
   */
  concurrencyLimit?: number;
}

export interface ResolvedPerMessageDeflateOptions {
  threshold: number;
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | undefined;
  level: number;
  memLevel: number;
  concurrencyLimit: number;
}

/** The parameters agreed in the handshake (RFC 7692 §7.1). */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** Window of the server's compressor; undefined: 15. */
  serverMaxWindowBits: number | undefined;
  /** Window of the client's compressor; undefined: 15 (or what the client offered). */
  clientMaxWindowBits: number | undefined;
}

export const DEFAULT_DEFLATE_THRESHOLD = 1024;
const DEFAULT_LEVEL = -1;
const DEFAULT_MEM_LEVEL = 8;
const DEFAULT_CONCURRENCY = 10;

function windowBitsOption(name: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 8 || value > 15) throw new RangeError(`perMessageDeflate.${name} must be an integer 8..15`);
  return value;
}

function intOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`perMessageDeflate.${name} must be an integer ${min}..${max}`);
  return v;
}

/** Resolves the `perMessageDeflate` option: false/undefined-with-default-off -> null. */
export function resolvePerMessageDeflate(
  value: boolean | PerMessageDeflateOptions | undefined,
  enabledByDefault: boolean,
): ResolvedPerMessageDeflateOptions | null {
  const on = value ?? enabledByDefault;
  if (on === false) return null;
  const options: PerMessageDeflateOptions = on === true ? {} : on;
  if (typeof options !== 'object' || options === null) throw new TypeError('perMessageDeflate must be a boolean or an object');
  const threshold = options.threshold ?? DEFAULT_DEFLATE_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold >= 0)) throw new RangeError('perMessageDeflate.threshold must be a number >= 0');
  return {
    threshold,
    serverNoContextTakeover: options.serverNoContextTakeover === true,
    clientNoContextTakeover: options.clientNoContextTakeover === true,
    serverMaxWindowBits: windowBitsOption('serverMaxWindowBits', options.serverMaxWindowBits),
    clientMaxWindowBits: windowBitsOption('clientMaxWindowBits', options.clientMaxWindowBits),
    level: intOption('level', options.level, DEFAULT_LEVEL, -1, 9),
    memLevel: intOption('memLevel', options.memLevel, DEFAULT_MEM_LEVEL, 1, 9),
    concurrencyLimit: intOption('concurrencyLimit', options.concurrencyLimit, DEFAULT_CONCURRENCY, 1, 2 ** 31 - 1),
  };
}

// ---- Sec-WebSocket-Extensions syntax (RFC 6455 §9.1, RFC 7692 §7.1) ----------------

/** One extension element: its name and parameters in order (value true when it had none). */
export interface ExtensionOffer {
  name: string;
  params: Array<[string, string | true]>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Parses a Sec-WebSocket-Extensions value into its elements. Quoted values
 * are unquoted (RFC 7692 §7.1: they must then be tokens). Returns null when
 * the header is malformed.
 */
export function parseExtensions(header: string): ExtensionOffer[] | null {
  const out: ExtensionOffer[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = (): void => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const token = (): string | null => {
    const start = i;
    while (i < n && !' \t,;="'.includes(header[i]!)) i++;
    const t = header.slice(start, i);
    return TOKEN.test(t) ? t : null;
  };
  for (;;) {
    skipSpace();
    if (i >= n) break;
    if (header[i] === ',') { i++; continue; }  // empty list elements are allowed (RFC 7230 §7)
    const name = token();
    if (name === null) return null;
    const element: ExtensionOffer = { name: name.toLowerCase(), params: [] };
    skipSpace();
    while (i < n && header[i] === ';') {
      i++;
      skipSpace();
      const key = token();
      if (key === null) return null;
      skipSpace();
      let value: string | true = true;
      if (header[i] === '=') {
        i++;
        skipSpace();
        if (header[i] === '"') {
          i++;
          let text = '';
          while (i < n && header[i] !== '"') {
            if (header[i] === '\\') i++;
            if (i < n) text += header[i++];
          }
          if (i >= n) return null;
          i++;
          if (!TOKEN.test(text)) return null;
          value = text;
        } else {
          const v = token();
          if (v === null) return null;
          value = v;
        }
        skipSpace();
      }
      element.params.push([key.toLowerCase(), value]);
    }
    out.push(element);
    skipSpace();
    if (i < n) {
      if (header[i] !== ',') return null;
      i++;
    }
  }
  return out;
}

const WINDOW_BITS = /^(?:8|9|1[0-5])$/;

/** The parameters of one permessage-deflate element, or a reason it is invalid (RFC 7692 §7.1). */
type ParsedParams =
  | { ok: true; serverNoContextTakeover: boolean; clientNoContextTakeover: boolean; serverMaxWindowBits: number | undefined; clientMaxWindowBits: number | true | undefined }
  | { ok: false; reason: string };

function parseParams(element: ExtensionOffer): ParsedParams {
  const seen = new Set<string>();
  let serverNoContextTakeover = false;
  let clientNoContextTakeover = false;
  let serverMaxWindowBits: number | undefined;
  let clientMaxWindowBits: number | true | undefined;
  for (const [key, value] of element.params) {
    // §7.1: a repeated parameter makes the element invalid.
    if (seen.has(key)) return { ok: false, reason: `repeated parameter ${key}` };
    seen.add(key);
    switch (key) {
      case 'server_no_context_takeover':
        if (value !== true) return { ok: false, reason: 'server_no_context_takeover takes no value' };
        serverNoContextTakeover = true;
        break;
      case 'client_no_context_takeover':
        if (value !== true) return { ok: false, reason: 'client_no_context_takeover takes no value' };
        clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        if (value === true || !WINDOW_BITS.test(value)) return { ok: false, reason: 'server_max_window_bits must be 8..15' };
        serverMaxWindowBits = Number(value);
        break;
      case 'client_max_window_bits':
        // §7.1.2.2: in an offer it may have no value.
        if (value !== true && !WINDOW_BITS.test(value)) return { ok: false, reason: 'client_max_window_bits must be 8..15' };
        clientMaxWindowBits = value === true ? true : Number(value);
        break;
      default:
        return { ok: false, reason: `unknown parameter ${key}` };
    }
  }
  return { ok: true, serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits };
}

/** Formats parameters as a permessage-deflate element (the value of Sec-WebSocket-Extensions). */
export function formatParams(p: { serverNoContextTakeover: boolean; clientNoContextTakeover: boolean; serverMaxWindowBits?: number | undefined; clientMaxWindowBits?: number | true | undefined }): string {
  let s = PERMESSAGE_DEFLATE;
  if (p.serverNoContextTakeover) s += '; server_no_context_takeover';
  if (p.clientNoContextTakeover) s += '; client_no_context_takeover';
  if (p.serverMaxWindowBits !== undefined) s += `; server_max_window_bits=${p.serverMaxWindowBits}`;
  if (p.clientMaxWindowBits === true) s += '; client_max_window_bits';
  else if (p.clientMaxWindowBits !== undefined) s += `; client_max_window_bits=${p.clientMaxWindowBits}`;
  return s;
}

/** The server's answer to an offer: the response element and the agreed parameters. */
export interface DeflateAcceptance {
  /** The Sec-WebSocket-Extensions response value. */
  response: string;
  params: DeflateParams;
}

/**
 * Server side (RFC 7692 §5, §7.1): picks the first acceptable permessage-deflate
 * offer in the client's header. Offers with unknown, repeated or out-of-range
 * parameters are declined (§5: "decline"), the next one tried. Returns null
 * when compression is off or nothing is acceptable: the response then names no extension.
 */
export function acceptDeflateOffer(header: string | undefined, options: ResolvedPerMessageDeflateOptions | null): DeflateAcceptance | null {
  if (options === null || header === undefined) return null;
  const elements = parseExtensions(header);
  if (elements === null) return null;
  for (const element of elements) {
    if (element.name !== PERMESSAGE_DEFLATE) continue;
    const offer = parseParams(element);
    if (!offer.ok) continue;
    // §7.1.2.1: our compressor's window is at most what the client allows.
    let serverMaxWindowBits = options.serverMaxWindowBits;
    if (offer.serverMaxWindowBits !== undefined) serverMaxWindowBits = Math.min(offer.serverMaxWindowBits, serverMaxWindowBits ?? 15);
    // §7.1.2.2: client_max_window_bits may only be answered when offered; the
    // answer is at most the offered value.
    let clientMaxWindowBits: number | undefined;
    if (offer.clientMaxWindowBits !== undefined) {
      const offered = offer.clientMaxWindowBits === true ? 15 : offer.clientMaxWindowBits;
      if (options.clientMaxWindowBits !== undefined) clientMaxWindowBits = Math.min(offered, options.clientMaxWindowBits);
      else if (offer.clientMaxWindowBits !== true) clientMaxWindowBits = offered;
    }
    const params: DeflateParams = {
      // §7.1.1.1: an offered server_no_context_takeover must be accepted as offered.
      serverNoContextTakeover: offer.serverNoContextTakeover || options.serverNoContextTakeover,
      clientNoContextTakeover: offer.clientNoContextTakeover || options.clientNoContextTakeover,
      serverMaxWindowBits,
      clientMaxWindowBits,
    };
    return { response: formatParams(params), params };
  }
  return null;
}

/** Client side: the Sec-WebSocket-Extensions offer for our options (§7.1). */
export function buildDeflateOffer(options: ResolvedPerMessageDeflateOptions): string {
  return formatParams({
    serverNoContextTakeover: options.serverNoContextTakeover,
    clientNoContextTakeover: options.clientNoContextTakeover,
    serverMaxWindowBits: options.serverMaxWindowBits,
    // Offered even without a configured value: the server may then limit our window.
    clientMaxWindowBits: options.clientMaxWindowBits ?? true,
  });
}

export type DeflateResponseVerification = { ok: true; params: DeflateParams | null } | { ok: false; reason: string };

/**
 * Client side (RFC 7692 §7.1, RFC 6455 §4.1): checks the server's
 * Sec-WebSocket-Extensions answer to our offer. Anything we did not offer,
 * more than one element, or parameters repeated, unknown or out of range
 * fail the connection.
 */
export function verifyDeflateResponse(header: string | undefined, offered: ResolvedPerMessageDeflateOptions | null): DeflateResponseVerification {
  if (header === undefined || header.trim() === '') return { ok: true, params: null };
  const elements = parseExtensions(header);
  if (elements === null) return { ok: false, reason: 'Invalid Sec-WebSocket-Extensions header' };
  if (elements.length === 0) return { ok: true, params: null };
  if (offered === null || elements.some((e) => e.name !== PERMESSAGE_DEFLATE)) {
    return { ok: false, reason: 'Server accepted an extension that was not offered' };
  }
  if (elements.length > 1) return { ok: false, reason: 'Server accepted permessage-deflate more than once' };
  const answer = parseParams(elements[0]!);
  if (!answer.ok) return { ok: false, reason: `Invalid permessage-deflate response: ${answer.reason}` };
  if (offered.serverNoContextTakeover && !answer.serverNoContextTakeover) {
    return { ok: false, reason: 'Server did not accept server_no_context_takeover' };
  }
  if (offered.serverMaxWindowBits !== undefined && answer.serverMaxWindowBits !== undefined && answer.serverMaxWindowBits > offered.serverMaxWindowBits) {
    return { ok: false, reason: 'server_max_window_bits larger than offered' };
  }
  if (answer.clientMaxWindowBits === true) return { ok: false, reason: 'client_max_window_bits needs a value in a response' };
  if (answer.clientMaxWindowBits !== undefined && offered.clientMaxWindowBits !== undefined && answer.clientMaxWindowBits > offered.clientMaxWindowBits) {
    return { ok: false, reason: 'client_max_window_bits larger than offered' };
  }
  return {
    ok: true,
    params: {
      serverNoContextTakeover: answer.serverNoContextTakeover,
      clientNoContextTakeover: answer.clientNoContextTakeover,
      serverMaxWindowBits: answer.serverMaxWindowBits,
      clientMaxWindowBits: answer.clientMaxWindowBits ?? offered.clientMaxWindowBits,
    },
  };
}

// ---- the session ---------------------------------------------------------------------

/** RFC 7692 §7.2.2: appended to a message's payload before inflating it. */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
const RSV1 = 0x40;

/** zlib refuses (or silently widens) a 256-byte raw window: 8 is used as 9, as ws does. */
function zlibWindowBits(bits: number | undefined): number {
  return Math.max(9, bits ?? 15);
}

/** Where the inflated messages go (the Connection's handlers). */
export interface InflatedSink {
  maxMessageSize: number;
  onMessage(data: Uint8Array, binary: boolean): void;
  /** Streaming delivery; when given, used instead of onMessage. */
  onFragment?: ((data: Uint8Array, binary: boolean, fin: boolean) => void) | undefined;
  onError(error: ProtocolError): void;
}

/**
 * One connection's permessage-deflate state: a compressor and a
 * decompressor, each created on first use and freed by close().
 */
export class PerMessageDeflate {
  readonly role: Role;
  readonly params: DeflateParams;
  readonly threshold: number;
  readonly #provider: CompressionProvider;
  readonly #options: ResolvedPerMessageDeflateOptions;
  #deflater: RawDeflater | null = null;
  #inflater: RawInflater | null = null;
  #closed = false;

  constructor(role: Role, params: DeflateParams, options: ResolvedPerMessageDeflateOptions, provider: CompressionProvider) {
    this.role = role;
    this.params = params;
    this.threshold = options.threshold;
    this.#options = options;
    this.#provider = provider;
  }

  /** True when `byteLength` bytes should go compressed (at or above the threshold). */
  wants(byteLength: number): boolean {
    return !this.#closed && byteLength >= this.threshold;
  }

  /** Compressed payload of one message, the 00 00 ff ff tail removed (§7.2.1). Owned bytes. */
  compress(data: Uint8Array): Uint8Array {
    if (this.#closed) throw new Error('permessage-deflate session is closed');
    const ours = this.role === 'server'
      ? { bits: this.params.serverMaxWindowBits, reset: this.params.serverNoContextTakeover }
      : { bits: this.params.clientMaxWindowBits, reset: this.params.clientNoContextTakeover };
    const deflater = (this.#deflater ??= this.#provider.createDeflater({
      windowBits: zlibWindowBits(ours.bits),
      level: this.#options.level,
      memLevel: this.#options.memLevel,
    }));
    const out = deflater.deflate(data);
    // §7.1.1: without context takeover every message starts from an empty window.
    if (ours.reset) deflater.reset();
    const n = out.length;
    // Nothing pending after the previous flush: zlib writes nothing for an empty
    // message. RFC 7692 §7.2.3.6: a single 0x00 byte (with the tail, an empty stored block).
    if (n === 0) return new Uint8Array(1);
    if (n < 4 || out[n - 4] !== 0 || out[n - 3] !== 0 || out[n - 2] !== 0xff || out[n - 1] !== 0xff) {
      throw new Error('compressor output does not end with a sync flush');
    }
    return out.subarray(0, n - 4);
  }

  /** The decoder's extension: receives raw pieces of RSV1 messages and delivers them inflated to `sink`. */
  inbound(sink: InflatedSink): InboundExtension {
    return new Inflation(this, sink);
  }

  /** @internal The decompressor, created on first use. */
  inflater(): RawInflater | null {
    if (this.#closed) return null;
    if (this.#inflater === null) {
      const theirs = this.role === 'server' ? this.params.clientMaxWindowBits : this.params.serverMaxWindowBits;
      // Their window may be anything up to what was agreed; a window at least as large decodes it.
      this.#inflater = this.#provider.createInflater({ windowBits: zlibWindowBits(theirs) });
    }
    return this.#inflater;
  }

  /** @internal The host's fast UTF-8 check, if it has one. */
  get isUtf8(): ((data: Uint8Array) => boolean) | undefined {
    return this.#provider.isUtf8?.bind(this.#provider);
  }

  /** @internal The peer compresses without context takeover: our window may be forgotten between messages. */
  get peerResets(): boolean {
    return this.role === 'server' ? this.params.clientNoContextTakeover : this.params.serverNoContextTakeover;
  }

  /** @internal After an inflate error the decompressor is unusable. */
  dropInflater(): void {
    this.#inflater?.close();
    this.#inflater = null;
  }

  /** Frees both zlib states (on close, failure, terminate). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deflater?.close();
    this.#inflater?.close();
    this.#deflater = null;
    this.#inflater = null;
  }

  get closed(): boolean {
    return this.#closed;
  }
}

const EMPTY = new Uint8Array(0);

/** The inbound side: inflates as data arrives, limits and validates the inflated bytes. */
class Inflation implements InboundExtension {
  readonly rsvBits = RSV1;
  readonly #session: PerMessageDeflate;
  readonly #sink: InflatedSink;
  readonly #max: number;
  readonly #streaming: boolean;
  #inMessage = false;
  #binary = false;
  #size = 0;
  #failed = false;
  /** Whole-message mode: owned copies of the inflated pieces. */
  #parts: Uint8Array[] = [];
  /** Streaming mode: the last piece, held back so that the final one can carry fin. */
  #pending: Uint8Array | null = null;
  #utf8: TextDecoder | null = null;
  /** With a host isUtf8: an incomplete code point at the end of a piece, completed by the next. */
  readonly #isUtf8: ((data: Uint8Array) => boolean) | undefined;
  readonly #carry = new Uint8Array(4);
  #carryLength = 0;
  #carryNeed = 0;
  readonly #onOutput = (chunk: Uint8Array): boolean => this.#output(chunk);

  constructor(session: PerMessageDeflate, sink: InflatedSink) {
    this.#session = session;
    this.#sink = sink;
    this.#max = sink.maxMessageSize;
    this.#streaming = typeof sink.onFragment === 'function';
    this.#isUtf8 = session.isUtf8;
  }

  onData(data: Uint8Array, binary: boolean, fin: boolean): void {
    if (this.#failed) return;
    if (!this.#inMessage) {
      this.#inMessage = true;
      this.#binary = binary;
      this.#size = 0;
      if (!binary && this.#isUtf8 === undefined) this.#utf8 ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
      this.#carryLength = 0;
    }
    const inflater = this.#session.inflater();
    if (inflater === null) return;  // the session was closed: nothing more is delivered
    let result = data.length === 0 ? 'ok' : inflater.inflate(data, this.#onOutput);
    // §7.2.2: the tail the sender removed goes back before the message ends.
    if (fin && result === 'ok') result = inflater.inflate(TAIL, this.#onOutput, true);
    if (result === 'error') {
      this.#session.dropInflater();
      this.#fail(new ProtocolError('invalid compressed data (RFC 7692 §7.2.2)', 'WS_ERR_INVALID_COMPRESSED_DATA', 1007));
      return;
    }
    if (result === 'stopped' || this.#failed) return;
    if (fin) this.#finish();
  }

  #output(chunk: Uint8Array): boolean {
    if (this.#failed) return false;
    this.#size += chunk.length;
    // The limit applies to the inflated size, checked as it grows: a bomb stops here.
    if (this.#size > this.#max) {
      this.#fail(new ProtocolError('inflated message exceeds maxMessageSize', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009));
      return false;
    }
    if (!this.#binary && !this.#validate(chunk, true)) return false;
    if (this.#streaming) {
      const previous = this.#pending;
      this.#pending = copyOf(chunk);
      if (previous !== null) this.#sink.onFragment!(previous, this.#binary, false);
    } else {
      this.#parts.push(copyOf(chunk));
    }
    return !this.#failed && !this.#session.closed;
  }

  /** Feeds text to the streaming UTF-8 check; false (and the connection failed, 1007) on invalid text. */
  #validate(chunk: Uint8Array | undefined, stream: boolean): boolean {
    if (this.#isUtf8 !== undefined) {
      if (this.#validRuns(this.#isUtf8, chunk ?? EMPTY, !stream)) return true;
      this.#fail(new ProtocolError('text message is not valid UTF-8 (RFC 6455 §8.1)', 'WS_ERR_INVALID_UTF8', 1007));
      return false;
    }
    try {
      this.#utf8!.decode(chunk, { stream });
      return true;
    } catch {
      this.#utf8 = null;
      this.#fail(new ProtocolError('text message is not valid UTF-8 (RFC 6455 §8.1)', 'WS_ERR_INVALID_UTF8', 1007));
      return false;
    }
  }

  /**
   * Checks the complete code points of `data` with the host's isUtf8; an
   * incomplete one at the end is kept (at most 3 bytes) and checked with the
   * bytes that complete it. `final`: the message ends here.
   */
  #validRuns(isUtf8: (data: Uint8Array) => boolean, data: Uint8Array, final: boolean): boolean {
    let start = 0;
    if (this.#carryLength > 0) {
      const need = this.#carryNeed;
      while (this.#carryLength < need && start < data.length) this.#carry[this.#carryLength++] = data[start++]!;
      if (this.#carryLength < need) return !final;
      this.#carryLength = 0;
      if (!isUtf8(this.#carry.subarray(0, need))) return false;
    }
    let end = data.length;
    // The last lead byte within the final 4 bytes: does its sequence fit?
    let i = end - 1;
    while (i >= start && end - i < 4 && (data[i]! & 0xc0) === 0x80) i--;
    if (i >= start) {
      const b = data[i]!;
      const length = b >= 0xf0 && b < 0xf8 ? 4 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xc0 && b < 0xe0 ? 2 : 1;
      if (i + length > end) {
        this.#carry.set(data.subarray(i, end));
        this.#carryLength = end - i;
        this.#carryNeed = length;
        end = i;
      }
    }
    if (end > start && !isUtf8(data.subarray(start, end))) return false;
    return !(final && this.#carryLength > 0);
  }

  #finish(): void {
    this.#inMessage = false;
    // A text message may not end inside a UTF-8 sequence.
    if (!this.#binary && !this.#validate(undefined, false)) return;
    const binary = this.#binary;
    if (this.#session.peerResets && !this.#session.closed) this.#session.inflater()?.reset();
    if (this.#streaming) {
      const last = this.#pending ?? EMPTY;
      this.#pending = null;
      this.#sink.onFragment!(last, binary, true);
      return;
    }
    const parts = this.#parts;
    this.#parts = [];
    this.#sink.onMessage(parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0]! : concat(parts, this.#size), binary);
  }

  #fail(error: ProtocolError): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#parts = [];
    this.#pending = null;
    this.#session.close();
    this.#sink.onError(error);
  }
}

/** An owned copy (a provider's chunk may be a Node Buffer, whose slice() is a view). */
function copyOf(chunk: Uint8Array): Uint8Array {
  const out = allocUnsafe(chunk.length);
  out.set(chunk);
  return out;
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = allocUnsafe(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
