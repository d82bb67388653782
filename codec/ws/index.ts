// wsframe/ws: ws 8's API over wsframe. Replace `from 'ws'` with
// `from 'wsframe/ws'`: the default export is the WebSocket class carrying
// Server, WebSocketServer, WebSocket and createWebSocketStream, as ws's is.
import { WebSocket } from './websocket.js';
import { WebSocketServer } from './server.js';
import { createWebSocketStream } from './stream.js';

export { WebSocket, WebSocketServer, WebSocketServer as Server, createWebSocketStream };
export type {
  RawData, BinaryType, ClientOptions, SendOptions, WebSocketBaseOptions, WebSocketEvents, WebSocketEventObjects,
  WebSocketMessageEvent, WebSocketCloseEvent, WebSocketErrorEvent, WebSocketOpenEvent,
} from './websocket.js';
export type {
  ServerOptions, VerifyClient, VerifyClientDone, VerifyClientInfo, VerifyClientCallbackSync, VerifyClientCallbackAsync, WebSocketServerEvents,
} from './server.js';
export type { TypedOn } from './events.js';

/** ws's default export: the WebSocket class with the rest of the module attached. */
Object.assign(WebSocket, { WebSocket, WebSocketServer, Server: WebSocketServer, createWebSocketStream });
export default WebSocket;
