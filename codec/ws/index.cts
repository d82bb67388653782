// require('wsframe/ws'): like require('ws'), the module is the WebSocket class
// itself, carrying WebSocketServer, Server, WebSocket and createWebSocketStream.
import ws from './index.js';

export = ws;
