// A deliberately dumb RFC 6455 peer over a raw net.Socket, written from the RFC
// (no code of ours): used to misbehave on purpose (unmasked frames, half frames,
// stop reading) and to look at the exact bytes our side puts on the wire.
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { withTimeout } from './util.mjs';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
export const acceptKey = (key) => createHash('sha1').update(key + GUID).digest('base64');

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 };

/** Build one frame. mask: true (random key), false (unmasked) or a 4-byte Buffer. */
export function frame({ fin = true, rsv = 0, opcode, payload = Buffer.alloc(0), mask = true }) {
  payload = Buffer.from(payload);
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const key = mask === true ? randomBytes(4) : mask === false ? null : Buffer.from(mask);
  const head = Buffer.alloc(2 + ext + (key ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  head[1] = (key ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  let body = payload;
  if (key) {
    key.copy(head, 2 + ext);
    body = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) body[i] = payload[i] ^ key[i & 3];
  }
  return Buffer.concat([head, body]);
}

export function closePayload(code, reason = '') {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

/** Incremental frame parser: push() bytes, frames come out through onFrame. */
export class FrameParser {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.chunks = [];
    this.length = 0;
    this.need = 2; // bytes required before the next parse attempt (avoids O(n^2) concatenation)
  }
  take(n) {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.length = rest.length;
    return all.subarray(0, n);
  }
  peek(n) {
    if (this.chunks[0].length >= n) return this.chunks[0];
    const all = Buffer.concat(this.chunks, this.length);
    this.chunks = [all];
    return all;
  }
  push(chunk) {
    this.chunks.push(chunk);
    this.length += chunk.length;
    while (this.length >= this.need) {
      const h = this.peek(Math.min(this.length, 14));
      const masked = (h[1] & 0x80) !== 0;
      let len = h[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (this.length < 4) { this.need = 4; return; } len = h.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (this.length < 10) { this.need = 10; return; } len = Number(h.readBigUInt64BE(2)); off = 10; }
      const keyOff = off;
      if (masked) off += 4;
      if (this.length < off + len) { this.need = off + len; return; }
      const buf = this.take(off + len);
      this.need = 2;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (masked) {
        const key = buf.subarray(keyOff, keyOff + 4);
        for (let i = 0; i < len; i++) payload[i] ^= key[i & 3];
      }
      const f = { fin: (buf[0] & 0x80) !== 0, rsv: (buf[0] >> 4) & 7, opcode: buf[0] & 0x0f, masked, payload };
      if (f.opcode === OP.CLOSE && len >= 2) {
        f.code = payload.readUInt16BE(0);
        f.reason = payload.subarray(2).toString('utf8');
      }
      this.onFrame(f);
    }
  }
}

/** Read from `socket` until the end of the HTTP head; resolves { head, rest }. */
function readHead(socket, ms) {
  return withTimeout(new Promise((resolve, reject) => {
    let acc = Buffer.alloc(0);
    const onData = (chunk) => {
      acc = Buffer.concat([acc, chunk]);
      const end = acc.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData); socket.off('error', reject); socket.off('close', onClose);
      resolve({ head: acc.subarray(0, end).toString('latin1'), rest: acc.subarray(end + 4) });
    };
    const onClose = () => reject(new Error(`socket closed before the HTTP head ended: ${JSON.stringify(acc.toString('latin1'))}`));
    socket.on('data', onData); socket.on('error', reject); socket.on('close', onClose);
  }), ms, 'HTTP head');
}

/**
 * Raw client: connect, perform the opening handshake, check the 101 and
 * Sec-WebSocket-Accept. Resolves { socket, frames, parser, closed } where `frames`
 * collects every frame the server sends and `closed` resolves when TCP closes.
 */
export async function rawClient(port, { path = '/', extraHeaders = '', ms = 5000 } = {}) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await withTimeout(new Promise((res, rej) => { socket.once('connect', res); socket.once('error', rej); }), ms, 'raw connect');
  const key = randomBytes(16).toString('base64');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extraHeaders}\r\n`);
  const { head, rest } = await readHead(socket, ms);
  const status = head.split('\r\n')[0];
  if (!/^HTTP\/1\.1 101 /.test(status)) { socket.destroy(); throw new Error(`expected 101, got ${JSON.stringify(head)}`); }
  const acc = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head);
  if (!acc || acc[1] !== acceptKey(key)) { socket.destroy(); throw new Error(`bad Sec-WebSocket-Accept in ${JSON.stringify(head)}`); }
  return wire(socket, rest);
}

function wire(socket, rest) {
  const frames = [];
  const waiters = [];
  const parser = new FrameParser((f) => {
    frames.push(f);
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.on('error', () => {}); // a reset is an expected outcome in several tests
  socket.on('data', (c) => parser.push(c));
  if (rest.length) parser.push(rest);
  /** Wait until a frame matching `pred` has arrived. */
  const waitFrame = (pred, ms = 5000, what = 'frame') => withTimeout(new Promise((resolve) => {
    const check = () => { const f = frames.find(pred); if (f) resolve(f); else waiters.push(check); };
    check();
  }), ms, `raw peer waiting for ${what}; got opcodes [${frames.map((f) => f.opcode)}]`);
  return { socket, frames, parser, closed, waitFrame };
}

/**
 * Raw server on 127.0.0.1:0: answers the opening handshake (101 with the right
 * accept) and hands each upgraded socket to `onSocket(peer, requestHead)`.
 */
export async function rawServer(onSocket) {
  const sockets = new Set();
  const server = net.createServer(async (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.setNoDelay(true);
    try {
      const { head, rest } = await readHead(socket, 5000);
      const key = /\r\nsec-websocket-key:\s*(\S+)/i.exec(head)?.[1];
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
      onSocket(wire(socket, rest), head);
    } catch {
      socket.destroy();
    }
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  return {
    port: server.address().port,
    url: `ws://127.0.0.1:${server.address().port}/`,
    close: () => { for (const s of sockets) s.destroy(); return new Promise((res) => server.close(res)); },
  };
}
