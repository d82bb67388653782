// WebSocketServer with ws 8's API: the server side of the opening handshake
// (RFC 6455 §4.2) over an http(s).Server's 'upgrade' event, or with no server
// at all (noServer + handleUpgrade), handing each socket to a wsframe/ws WebSocket.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createRequire } from 'node:module';
import { acceptKey, headerValue, validateUpgradeRequest } from '../core/handshake.js';
import { acceptDeflateOffer } from '../core/permessage-deflate.js';
import { deflateSession, resolveWsDeflate, type WsPerMessageDeflateOptions } from './deflate.js';
import type { TypedOn } from './events.js';
import { WebSocket, kAttach, DEFAULT_MAX_PAYLOAD, type WebSocketBaseOptions } from './websocket.js';

const load = createRequire(process.execPath);
const lazyHttp = (): typeof import('node:http') => load('node:http');

/** What verifyClient is told about a request. */
export interface VerifyClientInfo {
  origin: string | undefined;
  /** true for TLS connections. */
  secure: boolean;
  req: IncomingMessage;
}

export type VerifyClientCallbackSync = (info: VerifyClientInfo) => boolean;
/** The answer of an asynchronous verifyClient: refuse with `code` (default 401), `message` and extra headers. */
export type VerifyClientDone = (verified: boolean, code?: number, message?: string, headers?: Record<string, string | number>) => void;
export type VerifyClientCallbackAsync = (info: VerifyClientInfo, callback: VerifyClientDone) => void;
/**
 * verifyClient: with one parameter, return the verdict; with two, call back.
 * (One signature, so that both forms get their parameters' types from it.)
 */
export type VerifyClient = (info: VerifyClientInfo, callback: VerifyClientDone) => boolean | void;

export interface ServerOptions<T extends typeof WebSocket = typeof WebSocket> extends WebSocketBaseOptions {
  /** Create an http.Server listening on this port (it answers plain HTTP requests with 426). */
  port?: number;
  host?: string;
  backlog?: number;
  /** Attach to an existing http(s).Server's 'upgrade' event. */
  server?: HttpServer | HttpsServer;
  /** Do not listen anywhere: the application calls handleUpgrade(). */
  noServer?: boolean;
  /** Accept only upgrades to this exact path (query string ignored). */
  path?: string;
  /** Track clients in `clients`. Default true. */
  clientTracking?: boolean;
  /** Decide whether to accept a request (sync: return a boolean; async: two parameters, call back). */
  verifyClient?: VerifyClient;
  /** Pick the sub-protocol from the client's offer; false: none. Default: the first offered. */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
  /** permessage-deflate (RFC 7692), as in ws: false (default), true, or ws's options object. */
  perMessageDeflate?: boolean | WsPerMessageDeflateOptions;
  /** The class of the connections (a subclass of wsframe/ws WebSocket). */
  WebSocket?: T;
}

/** Events of a WebSocketServer and their listener arguments (as @types/ws declares them). */
export interface WebSocketServerEvents<W extends WebSocket = WebSocket> {
  connection: [socket: W, request: IncomingMessage];
  error: [error: Error];
  headers: [headers: string[], request: IncomingMessage];
  close: [];
  listening: [];
  wsClientError: [error: Error, socket: Duplex, request: IncomingMessage];
}

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

const kServer = Symbol('wsframe.server');

/** A WebSocket server with ws 8's API. */
export class WebSocketServer<T extends typeof WebSocket = typeof WebSocket> extends EventEmitter {
  readonly options: ServerOptions<T> & { maxPayload: number; clientTracking: boolean };
  /** The connected clients (when clientTracking is on). */
  readonly clients: Set<InstanceType<T>>;
  /** The path option, as ws exposes it. */
  readonly path: string | undefined;
  #server: HttpServer | HttpsServer | null = null;
  #removeListeners: (() => void) | null = null;
  #state = RUNNING;
  #emitCloseWhenEmpty = false;

  declare on: TypedOn<WebSocketServerEvents<InstanceType<T>>, this>;
  declare once: TypedOn<WebSocketServerEvents<InstanceType<T>>, this>;
  declare off: TypedOn<WebSocketServerEvents<InstanceType<T>>, this>;
  declare addListener: TypedOn<WebSocketServerEvents<InstanceType<T>>, this>;
  declare removeListener: TypedOn<WebSocketServerEvents<InstanceType<T>>, this>;
  declare prependListener: TypedOn<WebSocketServerEvents<InstanceType<T>>, this>;
  declare prependOnceListener: TypedOn<WebSocketServerEvents<InstanceType<T>>, this>;

  constructor(options: ServerOptions<T>, callback?: () => void) {
    super();
    const resolved = { maxPayload: DEFAULT_MAX_PAYLOAD, clientTracking: true, autoPong: true, ...options };
    const modes = [resolved.port != null, resolved.server != null, resolved.noServer === true].filter(Boolean).length;
    if (modes !== 1) throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    this.options = resolved;
    this.path = resolved.path;
    this.clients = new Set();
    if (resolved.port != null) {
      const http = lazyHttp();
      const server = http.createServer((_request, response) => {
        // A plain HTTP request to a WebSocket-only port (RFC 7231 §6.5.15).
        const body = http.STATUS_CODES[426]!;
        response.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
        response.end(body);
      });
      server.listen(resolved.port, resolved.host, resolved.backlog, callback);
      this.#server = server;
    } else if (resolved.server != null) {
      this.#server = resolved.server;
    }
    const server = this.#server;
    if (server !== null) {
      const onListening = () => this.emit('listening');
      const onError = (error: Error) => this.emit('error', error);
      const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        this.handleUpgrade(request, socket, head, (ws) => this.emit('connection', ws, request));
      };
      server.on('listening', onListening);
      server.on('error', onError);
      server.on('upgrade', onUpgrade);
      this.#removeListeners = () => {
        server.removeListener('listening', onListening);
        server.removeListener('error', onError);
        server.removeListener('upgrade', onUpgrade);
      };
    }
  }

  /** The bound address of the server this one listens with. */
  address(): AddressInfo | string | null {
    if (this.options.noServer === true) throw new Error('The server is operating in "noServer" mode');
    return this.#server === null ? null : this.#server.address();
  }

  /** True if this server should handle the request (by default: the path option matches). */
  shouldHandle(request: IncomingMessage): boolean {
    if (this.options.path === undefined) return true;
    const url = request.url ?? '';
    const query = url.indexOf('?');
    return (query === -1 ? url : url.slice(0, query)) === this.options.path;
  }

  /**
   * Stops accepting connections; 'close' follows once this server is done
   * (its own http server closed, or, with clientTracking, its clients gone).
   * Existing connections are not closed (ws 8 behaviour).
   */
  close(cb?: (error?: Error) => void): void {
    if (this.#state === CLOSED) {
      if (cb !== undefined) this.once('close', () => cb(new Error('The server is not running')));
      process.nextTick(() => this.#emitClose());
      return;
    }
    if (cb !== undefined) this.once('close', cb);
    if (this.#state === CLOSING) return;
    this.#state = CLOSING;
    const ownServer = this.options.port != null;
    const server = this.#server;
    this.#removeListeners?.();
    this.#removeListeners = null;
    this.#server = null;
    if (ownServer && server !== null) {
      server.close(() => this.#emitClose());
    } else if (this.options.clientTracking && this.clients.size > 0) {
      this.#emitCloseWhenEmpty = true;
    } else {
      process.nextTick(() => this.#emitClose());
    }
  }

  /**
   * Runs the server side of the opening handshake on an 'upgrade' request;
   * `cb(ws, req)` gets the connection. Refused requests are answered with an
   * HTTP error and the socket is destroyed (or 'wsClientError' is emitted).
   */
  handleUpgrade(
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (client: InstanceType<T>, request: IncomingMessage) => void,
  ): void {
    socket.on('error', destroySocket);
    if (request.method !== 'GET') {
      this.#refuseInvalid(request, socket, 405, 'Invalid HTTP method');
      return;
    }
    const validation = validateUpgradeRequest(request);
    if (!validation.ok) {
      this.#refuseInvalid(request, socket, validation.status, validation.reason, validation.headers);
      return;
    }
    if (!this.shouldHandle(request)) {
      abortHandshake(socket, 400);
      return;
    }
    const protocols = new Set(validation.protocols);
    const verifyClient = this.options.verifyClient;
    if (verifyClient !== undefined) {
      const info: VerifyClientInfo = {
        origin: validation.origin,
        secure: Boolean((request.socket as { authorized?: boolean; encrypted?: boolean }).authorized
          || (request.socket as { encrypted?: boolean }).encrypted),
        req: request,
      };
      if (verifyClient.length === 2) {
        (verifyClient as VerifyClientCallbackAsync)(info, (verified, code, message, headers) => {
          if (!verified) {
            abortHandshake(socket, code ?? 401, message, headers);
            return;
          }
          this.#completeUpgrade(validation.key, protocols, request, socket, head, cb);
        });
        return;
      }
      if (!(verifyClient as VerifyClientCallbackSync)(info)) {
        abortHandshake(socket, 401);
        return;
      }
    }
    this.#completeUpgrade(validation.key, protocols, request, socket, head, cb);
  }

  #completeUpgrade(
    key: string,
    protocols: Set<string>,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (client: InstanceType<T>, request: IncomingMessage) => void,
  ): void {
    // The socket may have gone while an asynchronous verifyClient ran.
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    const marked = socket as Duplex & { [kServer]?: true };
    if (marked[kServer] === true) {
      throw new Error('server.handleUpgrade() was called more than once with the same socket, possibly due to a misconfiguration');
    }
    if (this.#state !== RUNNING) {
      abortHandshake(socket, 503);
      return;
    }
    marked[kServer] = true;
    const headers = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptKey(key)}`,
    ];
    let protocol = '';
    if (protocols.size > 0) {
      const chosen = this.options.handleProtocols !== undefined
        ? this.options.handleProtocols(protocols, request)
        : protocols.values().next().value!;
      if (typeof chosen === 'string' && chosen !== '') {
        protocol = chosen;
        headers.push(`Sec-WebSocket-Protocol: ${protocol}`);
      }
    }
    // RFC 7692 §5: the first acceptable permessage-deflate offer, if compression is on.
    const deflateOptions = resolveWsDeflate(this.options.perMessageDeflate as boolean | WsPerMessageDeflateOptions | undefined, false);
    const deflate = deflateOptions === null ? null : acceptDeflateOffer(headerValue(request.headers, 'sec-websocket-extensions'), deflateOptions);
    if (deflate !== null) headers.push(`Sec-WebSocket-Extensions: ${deflate.response}`);
    this.emit('headers', headers, request);
    socket.write(headers.concat('\r\n').join('\r\n'));
    socket.removeListener('error', destroySocket);
    const Class = (this.options.WebSocket ?? WebSocket) as typeof WebSocket;
    const client = new Class(null) as InstanceType<T>;
    const compression = deflate === null ? null : deflateSession('server', deflate.params, deflateOptions!);
    client[kAttach](socket, head.length > 0 ? head : undefined, protocol, this.options, 'server', compression);
    if (this.options.clientTracking) {
      this.clients.add(client);
      client.on('close', () => {
        this.clients.delete(client);
        if (this.#emitCloseWhenEmpty && this.clients.size === 0) process.nextTick(() => this.#emitClose());
      });
    }
    cb(client, request);
  }

  /** A request that breaks RFC 6455 §4.2.1: 'wsClientError' if listened for, else an HTTP error. */
  #refuseInvalid(request: IncomingMessage, socket: Duplex, status: number, message: string, headers?: Record<string, string>): void {
    if (this.listenerCount('wsClientError') > 0) {
      this.emit('wsClientError', new Error(message), socket, request);
      return;
    }
    abortHandshake(socket, status, message, headers);
  }

  #emitClose(): void {
    this.#state = CLOSED;
    this.#emitCloseWhenEmpty = false;
    this.emit('close');
  }
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

/** Answers an upgrade request with an HTTP error and closes the socket. */
function abortHandshake(socket: Duplex, status: number, message?: string, headers?: Record<string, string | number>): void {
  const http = lazyHttp();
  const body = message ?? http.STATUS_CODES[status] ?? '';
  const fields: Record<string, string | number> = {
    Connection: 'close',
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  };
  socket.once('finish', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\n` +
      Object.entries(fields).map(([name, value]) => `${name}: ${value}`).join('\r\n') +
      '\r\n\r\n' +
      body,
  );
}
