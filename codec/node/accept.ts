// Server side of the opening handshake for an http(s).Server 'upgrade' event
// (RFC 6455 §4.2): validates the request, answers it, and hands the socket to
// a WebSocket.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { buildAcceptResponse, buildRejectResponse, buildRejection, selectSubprotocol, validateUpgradeRequest } from '../core/handshake.js';
import { acceptDeflateOffer, PerMessageDeflate, resolvePerMessageDeflate } from '../core/permessage-deflate.js';
import { zlibProvider } from './zlib.js';
import { WebSocket, type AcceptOptions } from './websocket.js';

/** Answers a bad upgrade request with 400/426 and the reason, then drops the socket (§4.2.1). */
export function rejectUpgrade(socket: Duplex, response: string): void {
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
 * Invalid `options` (a header value with CR/LF, a negative limit, an unknown
 * readMode...) are the server's fault, not the client's: the client is answered
 * 500 Internal Server Error, the socket is dropped, and accept() throws the
 * TypeError/RangeError. Nothing is written before everything is validated.
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
  let response: string;
  let webSocket: WebSocket;
  try {
    const readMode = options.readMode ?? 'onread';
    if (readMode !== 'onread' && readMode !== 'data') throw new TypeError(`readMode must be 'onread' or 'data', got ${String(readMode)}`);
    const protocol = selectSubprotocol(validation.protocols, options.protocols ?? []);
    // RFC 7692 §5: accept the first acceptable permessage-deflate offer, or decline
    // them all (off by default on the server, as in ws; no zlib -> declined).
    const deflateOptions = resolvePerMessageDeflate(options.perMessageDeflate, false);
    const provider = deflateOptions === null ? null : zlibProvider();
    const deflate = provider === null ? null : acceptDeflateOffer(validation.extensions, deflateOptions!);
    response = buildAcceptResponse({
      key: validation.key,
      ...(protocol === undefined ? {} : { protocol }),
      ...(deflate === null ? {} : { extensions: deflate.response }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
    // Built before the 101 is written, so that any option it rejects is answered with 500.
    // Its first frames go out on the next tick, after the 101 written below.
    webSocket = new WebSocket('server', options, {
      kind: 'server',
      socket,
      head,
      readMode,
      protocol: protocol ?? '',
      compression: deflate === null ? null : new PerMessageDeflate('server', deflate.params, deflateOptions!, provider!),
    });
  } catch (error) {
    rejectUpgrade(socket, buildRejectResponse(500, 'Internal Server Error'));
    throw error;
  }
  socket.write(response);
  return webSocket;
}

/** What a {@link VerifyUpgrade} callback decides: accept, or refuse with an HTTP status. */
export type UpgradeVerdict =
  | boolean
  | { status: number; message?: string; headers?: Record<string, string> };

/** Decides, before the 101 is written, whether to accept an upgrade request. */
export type VerifyUpgrade = (request: IncomingMessage) => UpgradeVerdict | Promise<UpgradeVerdict>;

export interface AsyncAcceptOptions extends AcceptOptions {
  /**
   * Runs after the request passed the RFC 6455 checks and before the 101 is
   * written; false refuses with 401, an object with its status. A throw or a
   * rejected promise refuses with 500. Default: accept every valid request.
   */
  verify?: VerifyUpgrade;
}

/**
 * {@link accept} with an asynchronous acceptance decision (authentication,
 * rate limits): resolves to the WebSocket, or null once the refusal is written.
 *
 *     server.on('upgrade', async (req, socket, head) => {
 *       const ws = await acceptAsync(req, socket, head, { verify: async (req) => isAllowed(req) });
 *       ws?.on('message', (data) => console.log(data.toString()));
 *     });
 */
export async function acceptAsync(
  request: IncomingMessage,
  socket: Duplex,
  head?: Uint8Array,
  options: AsyncAcceptOptions = {},
): Promise<WebSocket | null> {
  const validation = validateUpgradeRequest(request);
  if (!validation.ok) {
    rejectUpgrade(socket, buildRejection(validation));
    return null;
  }
  const { verify, ...acceptOptions } = options;
  if (verify !== undefined) {
    // Bytes that arrive while we wait stay in the socket's readable buffer
    // (nobody reads them yet); a reset meanwhile must not crash the process.
    const dropOnError = () => socket.destroy();
    socket.on('error', dropOnError);
    let verdict: UpgradeVerdict;
    try {
      verdict = await verify(request);
    } catch {
      verdict = { status: 500 };
    }
    socket.removeListener('error', dropOnError);
    if (verdict !== true) {
      const refusal = verdict === false ? { status: 401 } : verdict;
      rejectUpgrade(socket, buildRejectResponse(refusal.status, refusal.message ?? '', refusal.headers));
      return null;
    }
  }
  return accept(request, socket, head, acceptOptions);
}
