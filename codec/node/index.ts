// wsframe: the runtime-neutral core (also published alone as wsframe/codec)
// and its Node edge: accept/connect over net/tls sockets and Node streams.
export * from '../core/index.js';
export { WebSocket, connect } from './websocket.js';
export type { WebSocketOptions, AcceptOptions, ConnectOptions, SendOptions, SocketReadMode, WebSocketReadyState } from './websocket.js';
export { accept, acceptAsync } from './accept.js';
export type { AsyncAcceptOptions, VerifyUpgrade, UpgradeVerdict } from './accept.js';
export { createDecoderStream, createEncoderStream } from './streams.js';
export { zlibProvider } from './zlib.js';
