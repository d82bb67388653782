// RFC 6455 §4 opening handshake helpers: pure functions over header maps and
// strings, so that any HTTP stack (node:http, a raw socket, a browser-side
// test, another runtime) can use them. Sans-I/O and runtime-neutral: the
// SHA-1 is our own (sha1.ts) and keys come from crypto.getRandomValues.
import { base64, fromBase64, sha1 } from './sha1.js';
import { verifyDeflateResponse, type DeflateParams, type ResolvedPerMessageDeflateOptions } from './permessage-deflate.js';

/** The GUID of RFC 6455 §1.3, appended to the client key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const textEncoder = new TextEncoder();
const latin1 = new TextDecoder('latin1');

/** The only protocol version this library speaks (RFC 6455 §4.1, §4.4). */
export const WEBSOCKET_VERSION = '13';

/** Header values as node:http delivers them: lower-case names, duplicates joined or listed. */
export type HandshakeHeaders = Record<string, string | string[] | undefined>;

/** The parts of an HTTP request the server-side validation looks at (an http.IncomingMessage fits). */
export interface UpgradeRequestLike {
  method?: string;
  httpVersion?: string;
  headers: HandshakeHeaders;
}

/** A valid opening handshake, ready to be answered with {@link buildAcceptResponse}. */
export interface ValidUpgradeRequest {
  ok: true;
  /** The client's Sec-WebSocket-Key, trimmed. */
  key: string;
  /** Sub-protocols the client offered, in its order of preference (§4.1 item 10). */
  protocols: string[];
  /** The raw Sec-WebSocket-Extensions offer (§9.1); permessage-deflate is negotiated from it with acceptDeflateOffer. */
  extensions: string;
  origin: string | undefined;
}

/** A request that must be refused; answer it with {@link buildRejectResponse}. */
export interface RejectedUpgradeRequest {
  ok: false;
  status: 400 | 426;
  reason: string;
  /** Extra response headers (426 carries `Sec-WebSocket-Version: 13`, §4.4). */
  headers: Record<string, string>;
}

export type UpgradeRequestValidation = ValidUpgradeRequest | RejectedUpgradeRequest;

/** Sec-WebSocket-Accept for a client key (RFC 6455 §4.2.2 item 5.4): base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  return base64(sha1(textEncoder.encode(key + WEBSOCKET_GUID)));
}

/**
 * Nonces for Sec-WebSocket-Key come from a pool filled 4 KiB at a time: a
 * getRandomValues call costs ~10 µs whatever its size, which a client opening
 * thousands of connections a second would pay per connection. Each 16 bytes
 * are used once.
 */
const KEY_NONCE_POOL = 4096;
let noncePool: Uint8Array | null = null;
let noncePos = KEY_NONCE_POOL;

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64 (§4.1 item 7). */
export function generateKey(): string {
  noncePool ??= new Uint8Array(KEY_NONCE_POOL);
  if (noncePos + 16 > KEY_NONCE_POOL) {
    globalThis.crypto.getRandomValues(noncePool);
    noncePos = 0;
  }
  const nonce = noncePool.subarray(noncePos, noncePos + 16);
  noncePos += 16;
  return base64(nonce);
}

/** True if `key` is base64 that decodes to exactly 16 bytes (§4.2.1 item 5). */
export function isValidKey(key: string): boolean {
  // 16 bytes encode to 22 significant characters plus "==" padding.
  return /^[A-Za-z0-9+/]{22}==$/.test(key) && fromBase64(key)?.length === 16;
}

/** Reads one header as a single string, joining repeated headers with ", " (RFC 7230 §3.2.2). */
export function headerValue(headers: HandshakeHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Splits a comma-separated header into trimmed, non-empty elements (RFC 7230 §7 "#rule"). */
export function parseTokenList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((token) => token.trim()).filter((token) => token.length > 0);
}

/** True if the comma-separated header contains `token`, compared case-insensitively. */
export function headerHasToken(value: string | undefined, token: string): boolean {
  const wanted = token.toLowerCase();
  return parseTokenList(value).some((element) => element.toLowerCase() === wanted);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True if `value` is an RFC 7230 token, as sub-protocol names must be (§4.1 item 10). */
export function isToken(value: string): boolean {
  return TOKEN.test(value);
}

function reject(status: 400 | 426, reason: string, headers: Record<string, string> = {}): RejectedUpgradeRequest {
  return { ok: false, status, reason, headers };
}

/**
 * Checks a client's opening handshake against RFC 6455 §4.2.1.
 * A wrong or missing Sec-WebSocket-Version is answered with 426 and the version
 * we speak (§4.2.2 item 4, §4.4); everything else malformed is a 400.
 */
export function validateUpgradeRequest(request: UpgradeRequestLike): UpgradeRequestValidation {
  const { headers } = request;
  if (request.method !== undefined && request.method.toUpperCase() !== 'GET') {
    return reject(400, 'Invalid HTTP method: the opening handshake must be a GET request');
  }
  if (request.httpVersion !== undefined && !isHttp11OrLater(request.httpVersion)) {
    return reject(400, 'Invalid HTTP version: the opening handshake requires HTTP/1.1 or later');
  }
  const host = headerValue(headers, 'host');
  if (host === undefined || host.trim() === '') return reject(400, 'Missing Host header');
  if (!headerHasToken(headerValue(headers, 'upgrade'), 'websocket')) {
    return reject(400, 'Invalid Upgrade header: expected "websocket"');
  }
  if (!headerHasToken(headerValue(headers, 'connection'), 'upgrade')) {
    return reject(400, 'Invalid Connection header: expected a token list containing "upgrade"');
  }
  const version = headerValue(headers, 'sec-websocket-version');
  if (version === undefined || version.trim() !== WEBSOCKET_VERSION) {
    return reject(426, 'Unsupported or missing Sec-WebSocket-Version: only version 13 is supported', {
      'Sec-WebSocket-Version': WEBSOCKET_VERSION,
    });
  }
  const key = headerValue(headers, 'sec-websocket-key')?.trim();
  if (key === undefined || !isValidKey(key)) {
    return reject(400, 'Invalid Sec-WebSocket-Key: expected base64 of 16 bytes');
  }
  const protocols = parseTokenList(headerValue(headers, 'sec-websocket-protocol'));
  if (protocols.some((protocol) => !isToken(protocol)) || new Set(protocols).size !== protocols.length) {
    return reject(400, 'Invalid Sec-WebSocket-Protocol header');
  }
  return {
    ok: true,
    key,
    protocols,
    extensions: headerValue(headers, 'sec-websocket-extensions') ?? '',
    origin: headerValue(headers, 'origin') ?? headerValue(headers, 'sec-websocket-origin'),
  };
}

function isHttp11OrLater(version: string): boolean {
  const match = /^(\d+)\.(\d+)$/.exec(version);
  if (match === null) return false;
  const major = Number(match[1]);
  return major > 1 || (major === 1 && Number(match[2]) >= 1);
}

/**
 * Picks the sub-protocol to answer with (§4.2.2 item 5.3): the first one the
 * client offered that the server supports, so the client's preference order wins.
 * Returns undefined when there is nothing in common (the server then omits the header).
 */
export function selectSubprotocol(offered: readonly string[], supported: readonly string[]): string | undefined {
  return offered.find((protocol) => supported.includes(protocol));
}

function assertHeaderSafe(name: string, value: string): void {
  if (!isToken(name) || /[\r\n\0]/.test(value)) {
    throw new TypeError(`Invalid HTTP header: ${JSON.stringify(name)}`);
  }
}

function headerLines(headers: Record<string, string> | undefined): string {
  let lines = '';
  if (headers === undefined) return lines;
  for (const [name, value] of Object.entries(headers)) {
    assertHeaderSafe(name, value);
    lines += `${name}: ${value}\r\n`;
  }
  return lines;
}

export interface AcceptResponseOptions {
  /** The client's Sec-WebSocket-Key. */
  key: string;
  /** The selected sub-protocol, if any (§4.2.2 item 5.3). */
  protocol?: string;
  /** The accepted extensions, e.g. acceptDeflateOffer's `response` (§4.2.2 item 5.4, §9.1). */
  extensions?: string;
  /** Extra headers, e.g. Set-Cookie. */
  headers?: Record<string, string>;
}

/** The server's 101 Switching Protocols response head (§4.2.2 item 5), ending with the blank line. */
export function buildAcceptResponse(options: AcceptResponseOptions): string {
  let head =
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptKey(options.key)}\r\n`;
  if (options.protocol !== undefined && options.protocol !== '') {
    assertHeaderSafe('Sec-WebSocket-Protocol', options.protocol);
    head += `Sec-WebSocket-Protocol: ${options.protocol}\r\n`;
  }
  if (options.extensions !== undefined && options.extensions !== '') {
    assertHeaderSafe('Sec-WebSocket-Extensions', options.extensions);
    head += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  }
  return head + headerLines(options.headers) + '\r\n';
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  426: 'Upgrade Required',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * A complete HTTP error response refusing the upgrade (§4.2.1: "an appropriate
 * error code such as 400 Bad Request"), with the reason as a text body.
 */
export function buildRejectResponse(status: number, reason: string, headers?: Record<string, string>): string {
  const body = textEncoder.encode(reason);
  return (
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${body.length}\r\n` +
    headerLines(headers) +
    '\r\n' +
    reason
  );
}

/** The response for a failed {@link validateUpgradeRequest}. */
export function buildRejection(rejection: RejectedUpgradeRequest): string {
  return buildRejectResponse(rejection.status, rejection.reason, rejection.headers);
}

export interface UpgradeRequestOptions {
  /** Host header value, e.g. "example.com:8080" (§4.1 item 4). */
  host: string;
  /** Request target: path and query (§3 "resource name"). Default "/". */
  path?: string;
  /** Sub-protocols to offer, most preferred first. */
  protocols?: readonly string[];
  origin?: string;
  /** A Sec-WebSocket-Extensions offer, e.g. buildDeflateOffer(options) (§9.1). */
  extensions?: string;
  headers?: Record<string, string>;
  /** Use this key instead of a random one (tests only; §4.1 requires a fresh random key). */
  key?: string;
}

export interface UpgradeRequest {
  /** The request head, ending with the blank line. */
  request: string;
  /** The key sent, needed to verify the server's answer. */
  key: string;
}

/** The client's opening handshake request (§4.1). */
export function buildUpgradeRequest(options: UpgradeRequestOptions): UpgradeRequest {
  const key = options.key ?? generateKey();
  const path = options.path ?? '/';
  if (/[\s]/.test(path) || /[\r\n\0]/.test(options.host)) throw new TypeError('Invalid request target or host');
  let request =
    `GET ${path} HTTP/1.1\r\n` +
    `Host: ${options.host}\r\n` +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Key: ${key}\r\n` +
    `Sec-WebSocket-Version: ${WEBSOCKET_VERSION}\r\n`;
  const protocols = options.protocols ?? [];
  if (protocols.length > 0) {
    for (const protocol of protocols) {
      if (!isToken(protocol)) throw new SyntaxError(`Invalid sub-protocol: ${JSON.stringify(protocol)}`);
    }
    if (new Set(protocols).size !== protocols.length) throw new SyntaxError('Duplicate sub-protocol');
    request += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;
  }
  if (options.origin !== undefined) {
    assertHeaderSafe('Origin', options.origin);
    request += `Origin: ${options.origin}\r\n`;
  }
  if (options.extensions !== undefined && options.extensions !== '') {
    assertHeaderSafe('Sec-WebSocket-Extensions', options.extensions);
    request += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  }
  return { request: request + headerLines(options.headers) + '\r\n', key };
}

/** The parts of an HTTP response the client-side verification looks at. */
export interface UpgradeResponseLike {
  statusCode: number;
  headers: HandshakeHeaders;
}

export type UpgradeResponseVerification =
  | { ok: true; protocol: string; /** Agreed permessage-deflate parameters, null when not negotiated. */ deflate: DeflateParams | null }
  | { ok: false; reason: string };

/**
 * Checks the server's answer to our handshake (§4.1, "the client MUST validate
 * the server's response"): status 101, Upgrade and Connection tokens, the
 * Accept hash of our key, a sub-protocol we offered, and no extension we did not offer.
 */
export function verifyUpgradeResponse(
  response: UpgradeResponseLike,
  key: string,
  offeredProtocols: readonly string[] = [],
  /** The permessage-deflate options we offered (null: we offered no extension). */
  offeredDeflate: ResolvedPerMessageDeflateOptions | null = null,
): UpgradeResponseVerification {
  const { headers } = response;
  if (response.statusCode !== 101) {
    return { ok: false, reason: `Unexpected server response: ${response.statusCode}` };
  }
  if (!headerHasToken(headerValue(headers, 'upgrade'), 'websocket')) {
    return { ok: false, reason: 'Invalid Upgrade header in the server response' };
  }
  if (!headerHasToken(headerValue(headers, 'connection'), 'upgrade')) {
    return { ok: false, reason: 'Invalid Connection header in the server response' };
  }
  if (headerValue(headers, 'sec-websocket-accept')?.trim() !== acceptKey(key)) {
    return { ok: false, reason: 'Invalid Sec-WebSocket-Accept header' };
  }
  // §4.1 item 5 of the response checks: only an extension we offered, as we offered it (RFC 7692 §7.1).
  const extensions = verifyDeflateResponse(headerValue(headers, 'sec-websocket-extensions'), offeredDeflate);
  if (!extensions.ok) return { ok: false, reason: extensions.reason };
  const protocolHeader = headerValue(headers, 'sec-websocket-protocol');
  const protocol = protocolHeader?.trim() ?? '';
  if (protocolHeader !== undefined && !offeredProtocols.includes(protocol)) {
    return { ok: false, reason: 'Server selected a sub-protocol that was not offered' };
  }
  return { ok: true, protocol, deflate: extensions.params };
}

/** A parsed HTTP response head (status line and headers). */
export interface ParsedResponseHead {
  httpVersion: string;
  statusCode: number;
  statusMessage: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Bytes taken by the head including the final CRLFCRLF; anything after it is WebSocket data. */
  headBytes: number;
}

/** Offset of the first CRLFCRLF in `bytes`, or -1. */
function findHeadEnd(bytes: Uint8Array): number {
  for (let i = bytes.indexOf(13); i >= 0 && i + 3 < bytes.length; i = bytes.indexOf(13, i + 1)) {
    if (bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

/**
 * Parses the head of an HTTP/1.1 response from raw bytes, for clients that run
 * the handshake on their own socket. Returns null while the head is incomplete;
 * throws a SyntaxError on a malformed head.
 */
export function parseResponseHead(bytes: Uint8Array): ParsedResponseHead | null {
  const end = findHeadEnd(bytes);
  if (end < 0) return null;
  const lines = latin1.decode(bytes.subarray(0, end)).split('\r\n');
  const status = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(lines[0] ?? '');
  if (status === null) throw new SyntaxError('Invalid HTTP status line');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SyntaxError('Invalid HTTP header line');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!isToken(name)) throw new SyntaxError('Invalid HTTP header name');
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return {
    httpVersion: status[1]!,
    statusCode: Number(status[2]),
    statusMessage: status[3] ?? '',
    headers,
    headBytes: end + 4,
  };
}
