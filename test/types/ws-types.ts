// Type test for wsframe/ws: listener arguments typed per event, options typed.
// Every @ts-expect-error line must be an error, or tsc fails ("unused directive").
import type { IncomingMessage, ClientRequest } from 'node:http';
import WebSocket, { WebSocketServer, Server, createWebSocketStream, type RawData } from 'wsframe/ws';

const wss = new WebSocketServer({ port: 0, clientTracking: true, maxPayload: 1024, path: '/ws' });
new Server({ noServer: true, verifyClient: (info, done) => done(info.secure, 401, 'no', { 'X-A': '1' }) });
new WebSocketServer({ noServer: true, verifyClient: (info) => info.origin === 'https://example.org' });
new WebSocketServer({ noServer: true, handleProtocols: (protocols: Set<string>, req: IncomingMessage) => (protocols.has('a') ? 'a' : false) });
// @ts-expect-error port must be a number
new WebSocketServer({ port: '8080' });
// @ts-expect-error handleProtocols takes a Set, not an array
new WebSocketServer({ noServer: true, handleProtocols: (protocols: string[]) => protocols[0]! });

wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
  ws.on('message', (data: RawData, isBinary: boolean) => {
    ws.send(data, { binary: isBinary }, (error?: Error) => void error);
  });
  ws.on('close', (code: number, reason: Buffer) => void [code, reason.toString()]);
  ws.on('ping', (data: Buffer) => ws.pong(data));
  ws.on('error', (error: Error) => void error.message);
  // @ts-expect-error 'message' data is RawData, not a string
  ws.on('message', (data: string) => void data);
  // @ts-expect-error 'close' reason is a Buffer
  ws.on('close', (code: number, reason: number) => void reason);
  // @ts-expect-error 'error' gets an Error
  ws.once('error', (error: string) => void error);
  // Events that are not known take any listener.
  ws.on('custom-event', (a: number, b: string) => void [a, b]);
  void req.url;
});
wss.on('headers', (headers: string[], req: IncomingMessage) => void headers.push(String(req.url)));
wss.on('wsClientError', (error, socket, req) => void [error.message, socket.destroy(), req.url]);
// @ts-expect-error 'connection' gets (WebSocket, IncomingMessage)
wss.on('connection', (ws: string) => void ws);
wss.close((error?: Error) => void error);

const client = new WebSocket('ws://127.0.0.1:8080', ['chat'], {
  headers: { Authorization: 'x' },
  handshakeTimeout: 1000,
  followRedirects: true,
  maxRedirects: 3,
  rejectUnauthorized: false,
  zeroCopy: false,
});
client.binaryType = 'arraybuffer';
// @ts-expect-error not a binaryType
client.binaryType = 'text';
const state: 0 | 1 | 2 | 3 = client.readyState;
void (client.readyState === WebSocket.OPEN && state === client.CLOSED);
client.on('upgrade', (response: IncomingMessage) => void response.headers);
client.on('unexpected-response', (request: ClientRequest, response: IncomingMessage) => void [request, response]);
client.on('redirect', (url: string, request: ClientRequest) => void [url, request]);
client.onmessage = (event) => {
  const data: string | RawData | Blob = event.data;
  void data;
};
client.addEventListener('close', (event) => void [event.code, event.reason, event.wasClean]);
// @ts-expect-error CloseEvent has no data
client.addEventListener('close', (event) => void event.data);
client.close(1000, 'bye');
// @ts-expect-error the code is a number
client.close('1000');
const duplex = createWebSocketStream(client, { encoding: 'utf8' });
duplex.end();
void WebSocket.Server, WebSocket.WebSocketServer, WebSocket.createWebSocketStream;
// Listeners may take fewer arguments than the event gives.
wss.on('connection', (ws) => ws.on('message', (data) => void data));
client.on('close', () => undefined);
