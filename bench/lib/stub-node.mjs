// STAND-IN for wsframe's Node glue (accept/connect), used only until the real
// adapter is exported from dist/ (or with --impl stub). Built on `ws`, so
// loopback rows measured with it are really ws-vs-ws and are labelled "(stub)".
import { EventEmitter } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 0 });

class Conn extends EventEmitter {
  attach(ws) {
    this.ws = ws;
    ws.on('message', (data, isBinary) => this.emit('message', data, isBinary));
    ws.on('close', (code, reason) => this.emit('close', code, reason.toString()));
    ws.on('error', (err) => this.emit('error', err));
    ws.on('open', () => this.emit('open'));
    return this;
  }
  send(data, { binary = typeof data !== 'string', fragmentSize } = {}) {
    if (fragmentSize && data.length > fragmentSize) {
      for (let i = 0; i < data.length; i += fragmentSize) {
        this.ws.send(data.subarray(i, Math.min(data.length, i + fragmentSize)), { binary, fin: i + fragmentSize >= data.length });
      }
    } else this.ws.send(data, { binary });
  }
  close(code, reason) { this.ws.close(code, reason); }
}

export function accept(req, socket, head, opts = {}) {
  const c = new Conn();
  wss.handleUpgrade(req, socket, head, (ws) => { c.attach(ws); queueMicrotask(() => c.emit('open')); });
  return c;
}

export function connect(url, opts = {}) {
  return new Conn().attach(new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 }));
}
