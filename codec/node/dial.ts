// Client side of the opening handshake over a Node socket (RFC 6455 §4.1):
// opens the TCP (ws:) or TLS (wss:) connection, writes the upgrade request
// and reads the server's response head.
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import { lazyNet, lazyTls } from './builtins.js';
import { onreadOption, type ReadTarget } from './onread.js';
import { buildUpgradeRequest, parseResponseHead, verifyUpgradeResponse } from '../core/handshake.js';
import { buildDeflateOffer, resolvePerMessageDeflate, type DeflateParams, type PerMessageDeflateOptions, type ResolvedPerMessageDeflateOptions } from '../core/permessage-deflate.js';
import { zlibProvider } from './zlib.js';

/** Largest HTTP response head accepted from a server before giving up. */
const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

export interface DialOptions {
  /** Sub-protocols to offer, most preferred first. */
  protocols?: string[];
  /** Extra request headers. */
  headers?: Record<string, string>;
  origin?: string;
  /** Extra options for tls.connect (wss:), e.g. `ca`, `rejectUnauthorized`, `servername`. */
  tls?: tls.ConnectionOptions;
  /** Offer permessage-deflate (RFC 7692). Default true on the client, as in ws. See README. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** Checks a ws:/wss: (or http:/https:) URL; throws SyntaxError as the WHATWG WebSocket constructor does. */
export function parseWebSocketUrl(url: string | URL): URL {
  const target = new URL(url);
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(target.protocol)) {
    throw new SyntaxError(`Unsupported URL scheme: ${target.protocol}`);
  }
  if (target.hash !== '') throw new SyntaxError('A WebSocket URL must not have a fragment (§3)');
  return target;
}

/**
 * Opens the socket and writes the upgrade request once connected. With a
 * `readTarget`, reads go straight into it through `onread` (TLS included:
 * tls.connect takes `onread` too); otherwise the caller listens for 'data'.
 */
export function dial(url: URL, options: DialOptions, readTarget: ReadTarget | undefined): { socket: net.Socket; handshake: ClientHandshake } {
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const defaultPort = port === (secure ? 443 : 80);
  // Offered only where a compressor exists (zlib's synchronous handle, see zlib.ts).
  const deflate = zlibProvider() === null ? null : resolvePerMessageDeflate(options.perMessageDeflate, true);
  const { request, key } = buildUpgradeRequest({
    host: defaultPort ? url.hostname : `${url.hostname}:${port}`,
    path: (url.pathname === '' ? '/' : url.pathname) + url.search,
    protocols: options.protocols ?? [],
    ...(options.origin === undefined ? {} : { origin: options.origin }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
    ...(deflate === null ? {} : { extensions: buildDeflateOffer(deflate) }),
  });
  const onread = readTarget === undefined ? undefined : onreadOption(readTarget);
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
  return { socket, handshake: new ClientHandshake(key, options.protocols ?? [], deflate) };
}

export type HandshakeProgress =
  | { done: false }
  | {
    done: true;
    protocol: string;
    headers: Record<string, string>;
    rest: Uint8Array;
    /** permessage-deflate as agreed, with the options offered; null when not negotiated. */
    deflate: { params: DeflateParams; options: ResolvedPerMessageDeflateOptions } | null;
  };

/** Accumulates the server's response head and verifies it (§4.1 "the client MUST validate the server's response"). */
export class ClientHandshake {
  readonly #key: string;
  readonly #offeredProtocols: readonly string[];
  readonly #offeredDeflate: ResolvedPerMessageDeflateOptions | null;
  #pending: Uint8Array[] = [];
  #length = 0;

  constructor(key: string, offeredProtocols: readonly string[], offeredDeflate: ResolvedPerMessageDeflateOptions | null = null) {
    this.#key = key;
    this.#offeredProtocols = offeredProtocols;
    this.#offeredDeflate = offeredDeflate;
  }

  /** Takes response bytes (copied if they must be kept); throws an Error when the response is refused. */
  push(chunk: Uint8Array): HandshakeProgress {
    this.#pending.push(chunk);
    this.#length += chunk.length;
    const bytes = this.#pending.length === 1 ? chunk : Buffer.concat(this.#pending, this.#length);
    const head = parseResponseHead(bytes);
    if (head === null) {
      if (this.#length > MAX_RESPONSE_HEAD_BYTES) throw new Error('Server response head too large');
      this.#pending = [bytes];
      return { done: false };
    }
    const verdict = verifyUpgradeResponse(head, this.#key, this.#offeredProtocols, this.#offeredDeflate);
    if (!verdict.ok) throw new Error(verdict.reason);
    this.#pending = [];
    // Frames that arrived in the same read as the response head (§4.1: data may follow at once).
    const deflate = verdict.deflate === null ? null : { params: verdict.deflate, options: this.#offeredDeflate! };
    return { done: true, protocol: verdict.protocol, headers: head.headers, rest: bytes.subarray(head.headBytes), deflate };
  }
}
