// Type test for the native API (wsframe): numeric readyState, typed options.
import http from 'node:http';
import { accept, acceptAsync, connect, WebSocket, type WebSocketReadyState } from 'wsframe';

const server = http.createServer();
server.on('upgrade', async (req, socket, head) => {
  const ws = await acceptAsync(req, socket, head, { verify: async (r) => (r.headers.authorization ? true : { status: 403 }), idleTimeout: 30_000 });
  const state: WebSocketReadyState = ws?.readyState ?? WebSocket.CLOSED;
  void state;
  // @ts-expect-error zeroCopy is a boolean
  accept(req, socket, head, { zeroCopy: 'yes' });
});
const ws = connect('ws://127.0.0.1:1', { zeroCopy: true });
void (ws.readyState === WebSocket.OPEN);
// @ts-expect-error readyState is numeric now
void (ws.readyState === 'OPEN');
