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

// Decoder handlers as a second argument: methods of one object, each optional.
import { Decoder, type DecoderHandlers, type DecoderSettings } from 'wsframe/codec';
class Sink implements DecoderHandlers {
  count = 0;
  onMessage(data: Uint8Array, binary: boolean): void { this.count += data.length + Number(binary); }
}
const settings: DecoderSettings = { role: 'client', maxMessageSize: 1 << 20 };
new Decoder(settings, new Sink()).destroy();
// @ts-expect-error handlers take (data, binary)
new Decoder(settings, { onMessage: (data: string) => void data });

// A transport that takes small server frames itself: onWriteFrame + writeSmallFrame.
import { Connection, SMALL_FRAME, writeSmallFrame, type ConnectionHandlers } from 'wsframe/codec';
const out = new Uint8Array(SMALL_FRAME + 4);
const handlers: ConnectionHandlers = {
  onWrite: (chunks: Uint8Array[]) => chunks.length > 0,
  onShutdown: () => {},
  onWriteFrame: (firstByte: number, payload: Uint8Array) => writeSmallFrame(out, 0, firstByte, payload) > 0,
};
new Connection({ role: 'server', open: true }, handlers).send('hi');
// @ts-expect-error writeSmallFrame takes a first byte, not a boolean
writeSmallFrame(out, 0, true, out);
