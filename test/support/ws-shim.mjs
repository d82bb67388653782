// Control subject (WSFRAME_INTEROP_SUBJECT=ws): the `ws` library wrapped in the
// accept()/connect() shape of wsframe's Node glue. Not used by default; it only
// exists so the peer harness can be validated against a known-good implementation.
// Tests of wsframe-only contracts fail in a control run by design: closeTimeout,
// send() returning false / 'drain', no throw when nobody listens for 'error',
// fragmentSize (ignored here: messages go out in one frame).
import { EventEmitter } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';

const STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'];

class Shim extends EventEmitter {
  adopt(ws) {
    this.ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('open', () => this.emit('open'));
    ws.on('message', (data, isBinary) => this.emit('message', new Uint8Array(data.buffer, data.byteOffset, data.length), isBinary));
    ws.on('ping', (d) => this.emit('ping', new Uint8Array(d)));
    ws.on('pong', (d) => this.emit('pong', new Uint8Array(d)));
    ws.on('error', (e) => this.emit('error', e));
    ws.on('close', (code, reason) => this.emit('close', code, reason.toString()));
    return this;
  }
  send(data, { binary } = {}) { this.ws.send(data, { binary: binary ?? typeof data !== 'string' }); }
  ping(p) { this.ws.ping(p); }
  pong(p) { this.ws.pong(p); }
  close(code, reason) { this.ws.close(code, reason); }
  terminate() { this.ws.terminate(); }
  get readyState() { return STATES[this.ws.readyState]; }
  get bufferedAmount() { return this.ws.bufferedAmount; }
  get protocol() { return this.ws.protocol; }
}

export function accept(req, socket, head, opts = {}) {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: opts.maxMessageSize ?? 64 * 1024 * 1024,
    autoPong: opts.autoPong ?? true,
    handleProtocols: (offered) => (opts.protocols ?? []).find((p) => offered.has(p)) ?? false,
  });
  const shim = new Shim();
  let adopted = false;
  wss.handleUpgrade(req, socket, head, (ws) => { adopted = true; shim.adopt(ws); });
  return adopted ? shim : null;
}

export function connect(url, opts = {}) {
  return new Shim().adopt(new WebSocket(url, opts.protocols ?? [], {
    perMessageDeflate: false,
    maxPayload: opts.maxMessageSize ?? 64 * 1024 * 1024,
  }));
}

export const Decoder = { memoryBytes: () => 0 };
