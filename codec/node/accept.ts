// Server side of the opening handshake for an http(s).Server 'upgrade' event
// (RFC 6455 §4.2): validates the request, answers it, and hands the socket to
// a WebSocket.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { buildAcceptResponse, buildRejection, selectSubprotocol, validateUpgradeRequest } from '../core/handshake.js';
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
  // RFC 7692 §5: accept the first acceptable permessage-deflate offer, or decline
  // them all (off by default on the server, as in ws; no zlib -> declined).
  const deflateOptions = resolvePerMessageDeflate(options.perMessageDeflate, false);
  const provider = deflateOptions === null ? null : zlibProvider();
  const deflate = provider === null ? null : acceptDeflateOffer(validation.extensions, deflateOptions);
  socket.write(
    buildAcceptResponse({
      key: validation.key,
      ...(protocol === undefined ? {} : { protocol }),
      ...(deflate === null ? {} : { extensions: deflate.response }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    }),
  );
  return new WebSocket('server', options, {
    kind: 'server',
    socket,
    head,
    readMode: options.readMode ?? 'onread',
    protocol: protocol ?? '',
    compression: deflate === null ? null : new PerMessageDeflate('server', deflate.params, deflateOptions!, provider!),
  });
}
