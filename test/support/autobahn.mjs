// An Autobahn|Testsuite-style fuzzing *client* for the conformance test: a raw
// WebSocket peer on node:net that does its own opening handshake, frame
// writing (masking, RSV bits, bad opcodes, lengths, chops, delays) and frame
// reading. Nothing from wsframe is used on this side, so it can send anything
// Autobahn's fuzzingclient sends, byte for byte.
//
// The case model follows autobahntestsuite/case/case.py: a case collects
// `received` events (["message", bytes, binary], ["ping", bytes],
// ["pong", bytes], ["timeout", id]), compares them to its `expected` outcomes
// (OK / NON-STRICT) and judges the close separately (closedByMe, requireClean,
// remote close code, who dropped TCP), as Autobahn's onConnectionLost does.
import { createHash, randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import { DeflatePeer } from './autobahn-deflate.mjs';

export const OK = 'OK';
export const NON_STRICT = 'NON-STRICT';
export const FAILED = 'FAILED';
export const WRONG_CODE = 'WRONG CODE';
export const UNCLEAN = 'UNCLEAN';
export const FAILED_BY_CLIENT = 'FAILED BY CLIENT';
export const INFORMATIONAL = 'INFORMATIONAL';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Autobahn's serverConnectionDropTimeout: after the closing handshake the server must drop TCP within 1 s. */
export const SERVER_DROP_TIMEOUT = 1000;

export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function acceptKey(key) {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** Payload `pattern` repeated to `length` bytes (Autobahn's sendFrame(payload, payload_len)). */
export function repeat(pattern, length) {
  const p = Buffer.from(pattern);
  const out = Buffer.allocUnsafe(length);
  if (length === 0) return out;
  p.copy(out, 0, 0, Math.min(p.length, length));
  let filled = Math.min(p.length, length);
  while (filled < length) {
    const n = Math.min(filled, length - filled);
    out.copy(out, filled, 0, n);
    filled += n;
  }
  return out;
}

function applyMask(payload, key, out, outOffset) {
  const n = payload.length;
  let i = 0;
  // 4 bytes at a time through a 32-bit view when aligned enough; plain loop otherwise.
  const k32 = key.readUInt32LE(0);
  for (; i + 4 <= n; i += 4) out.writeUInt32LE((payload.readUInt32LE(i) ^ k32) >>> 0, outOffset + i);
  for (; i < n; i++) out[outOffset + i] = payload[i] ^ key[i & 3];
}

/**
 * Encodes one frame. opcode 0-15, rsv 0-7 (RSV1 = 4, RSV2 = 2, RSV3 = 1 as in Autobahn),
 * mask: a 4-byte key, true (random key) or false (unmasked).
 * `length` overrides the length written in the header (for lying headers).
 */
export function encodeFrame({ opcode, payload = Buffer.alloc(0), fin = true, rsv = 0, mask = true, length }) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = length ?? data.length;
  const key = mask === false ? null : Buffer.isBuffer(mask) ? mask : randomBytes(4);
  let headerLength = 2 + (key ? 4 : 0);
  if (len > 0xffff) headerLength += 8;
  else if (len > 125) headerLength += 2;
  const out = Buffer.allocUnsafe(headerLength + data.length);
  out[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf);
  let o = 2;
  const maskBit = key ? 0x80 : 0;
  if (len > 0xffff) {
    out[1] = maskBit | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
    o = 10;
  } else if (len > 125) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
    o = 4;
  } else {
    out[1] = maskBit | len;
  }
  if (key) {
    key.copy(out, o);
    o += 4;
    applyMask(data, key, out, o);
  } else {
    data.copy(out, o);
  }
  return out;
}

/** Close frame payload: code (optional) + reason bytes. */
export function closePayload(code, reason = Buffer.alloc(0)) {
  if (code === undefined || code === null) return Buffer.from(reason);
  const r = Buffer.from(reason);
  const b = Buffer.allocUnsafe(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

/** Incremental frame parser. `expectMasked`: what the peer must send (server reads masked frames). */
export class FrameParser {
  constructor({ expectMasked }) {
    this.expectMasked = expectMasked;
    this.chunks = [];
    this.length = 0;
    this.violations = [];
    /** permessage-deflate negotiated: RSV1 is allowed on the first frame of a data message (RFC 7692 §6). */
    this.allowRsv1 = false;
    this.inMessage = false;
  }

  push(chunk) {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const frames = [];
    for (;;) {
      const frame = this.#next();
      if (frame === null) break;
      frames.push(frame);
    }
    return frames;
  }

  #peek(n) {
    if (this.chunks.length === 1 || this.chunks[0].length >= n) return this.chunks[0];
    const all = Buffer.concat(this.chunks, this.length);
    this.chunks = [all];
    return all;
  }

  #take(n) {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length -= n;
    return head;
  }

  #next() {
    if (this.length < 2) return null;
    let b = this.#peek(Math.min(this.length, 14));
    const fin = (b[0] & 0x80) !== 0;
    const rsv = (b[0] >> 4) & 7;
    const opcode = b[0] & 0xf;
    const masked = (b[1] & 0x80) !== 0;
    let len = b[1] & 0x7f;
    let o = 2;
    if (len === 126) {
      if (this.length < 4) return null;
      b = this.#peek(4);
      len = b.readUInt16BE(2);
      o = 4;
    } else if (len === 127) {
      if (this.length < 10) return null;
      b = this.#peek(10);
      const big = b.readBigUInt64BE(2);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
        this.violations.push(`64-bit length too large: ${big}`);
        return null;
      }
      len = Number(big);
      o = 10;
    }
    const keyLength = masked ? 4 : 0;
    if (this.length < o + keyLength + len) return null;
    const raw = this.#take(o + keyLength + len);
    let payload = raw.subarray(o + keyLength);
    if (masked) {
      const key = raw.subarray(o, o + 4);
      const unmasked = Buffer.allocUnsafe(len);
      applyMask(payload, Buffer.from(key), unmasked, 0);
      payload = unmasked;
    }
    if (masked !== this.expectMasked) this.violations.push(`frame opcode ${opcode} mask bit ${masked ? 1 : 0} (expected ${this.expectMasked ? 1 : 0})`);
    const firstOfMessage = (opcode === 1 || opcode === 2) && !this.inMessage;
    if (opcode === 1 || opcode === 2 || opcode === 0) this.inMessage = !fin;
    if (rsv !== 0 && !(rsv === 4 && this.allowRsv1 && firstOfMessage)) this.violations.push(`frame opcode ${opcode} has RSV=${rsv}`);
    return { fin, rsv, opcode, masked, payload, header: raw.subarray(0, Math.min(raw.length, o + keyLength)) };
  }
}

export function hex(buffer, max = 256) {
  const b = Buffer.from(buffer);
  const h = b.subarray(0, max).toString('hex').replace(/(..)/g, '$1 ').trim();
  return b.length > max ? `${h} ... (${b.length} bytes)` : h;
}

function describeEvent(e) {
  if (e[0] === 'message') {
    const data = e[1];
    const shown = !e[2] && data.length <= 64 && isUtf8(data) ? JSON.stringify(data.toString('utf8')) : `0x${hex(data, 32)}`;
    return `message(${e[2] ? 'binary' : 'text'}, ${data.length} B, ${shown})`;
  }
  if (e[0] === 'timeout') return `timeout(${e[1]})`;
  return `${e[0]}(${e[1].length} B, 0x${hex(e[1], 32)})`;
}

function sameEvents(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x[0] !== y[0]) return false;
    if (x[0] === 'timeout') {
      if (x[1] !== y[1]) return false;
    } else {
      if (!Buffer.from(x[1]).equals(Buffer.from(y[1]))) return false;
      if (x[0] === 'message' && x[2] !== y[2]) return false;
    }
  }
  return true;
}

export const msg = (payload, binary = false) => ['message', Buffer.from(payload), binary];
export const pong = (payload = Buffer.alloc(0)) => ['pong', Buffer.from(payload)];
export const timeoutMark = (id) => ['timeout', id];

/**
 * One fuzzing-client connection running one case.
 *
 *   const c = await FuzzCase.open(port, '3.2', 'description');
 *   c.expect({ OK: [...], 'NON-STRICT': [...] }, { closedByMe, closeCode, requireClean });
 *   c.sendFrame(...); c.killAfter(1000);
 *   const verdict = await c.finished();
 */
export class FuzzCase {
  /** role 'client': we are Autobahn's fuzzingclient (testee = server); 'server': its fuzzingserver (testee = client). */
  constructor(id, description, role = 'client') {
    this.id = id;
    this.description = description;
    this.role = role;
    this.received = [];
    this.expected = {};
    this.expectedClose = { closedByMe: true, closeCode: [1000], requireClean: true };
    this.suppressClose = false;
    this.state = 'CONNECTING';
    this.closedByMe = false;
    this.closeFrameSent = false;
    this.closeFrameReceived = false;
    this.remoteCloseCode = null;
    this.remoteCloseReason = null;
    this.remoteClosePayload = null;
    this.wasClean = false;
    this.wasNotCleanReason = null;
    this.droppedByMe = false;
    this.tcpError = null;
    this.peerFin = false;
    this.violations = [];
    this.txLog = [];
    this.txBytes = 0;
    this.rxLog = [];
    this.rxBytes = 0;
    this.t0 = 0;
    this.times = {};
    this.timers = new Set();
    this.fragments = null;
    this.fragmentsBinary = false;
    this.fragmentsLength = 0;
    /** Override to handle messages yourself (9.x); default records and calls finishWhenDone. */
    this.onMessage = null;
    this.onPong = null;
    this.parser = new FrameParser({ expectMasked: role === 'server' });
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  static async open(port, id, description = '', path = '/', { extensions } = {}) {
    const c = new FuzzCase(id, description, 'client');
    c.offer = extensions;
    await c.#connect(port, path);
    return c;
  }

  /** permessage-deflate was agreed with `params` (autobahn-deflate.mjs): compress and inflate from now on. */
  useDeflate(params) {
    this.deflate = new DeflatePeer(params, this.role);
    this.parser.allowRsv1 = true;
  }

  /**
   * Server side (fuzzingserver): `socket` is an upgraded request whose 101 response
   * has been written; `head` the bytes that followed the request head.
   */
  static accept(socket, head, id, description = '') {
    const c = new FuzzCase(id, description, 'server');
    c.socket = socket;
    socket.setNoDelay(true);
    c.state = 'OPEN';
    c.t0 = performance.now();
    socket.on('data', (chunk) => c.#onData(chunk));
    socket.on('end', () => {
      c.peerFin = true;
      c.times.peerFin ??= c.now();
      socket.end();
    });
    socket.on('error', (error) => (c.tcpError = error.code ?? error.message));
    socket.on('close', () => {
      c.times.tcpClosed ??= c.now();
      c.#connectionLost();
    });
    if (head && head.length > 0) c.#onData(head);
    return c;
  }

  /** A frame as this side sends it: masked from a client, unmasked from a server (§5.1). */
  frame(spec) {
    return encodeFrame({ mask: this.role === 'client', ...spec, payload: spec.payload === undefined ? Buffer.alloc(0) : Buffer.from(spec.payload) });
  }

  now() {
    return performance.now() - this.t0;
  }

  #connect(port, path) {
    return new Promise((resolve, reject) => {
      const key = randomBytes(16).toString('base64');
      const socket = net.connect({ host: '127.0.0.1', port });
      this.socket = socket;
      socket.setNoDelay(true);
      let head = Buffer.alloc(0);
      let handshaking = true;
      socket.on('connect', () => {
        // The request head Autobahn's fuzzingclient sends (note "Upgrade: WebSocket").
        socket.write(
          `GET ${path} HTTP/1.1\r\nUser-Agent: AutobahnTestSuite/0.8.2-0.10.9\r\nHost: 127.0.0.1:${port}\r\n` +
            `Upgrade: WebSocket\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
            (this.offer ? `Sec-WebSocket-Extensions: ${this.offer}\r\n` : '') + '\r\n',
        );
      });
      socket.on('data', (chunk) => {
        if (!handshaking) return this.#onData(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        handshaking = false;
        const lines = head.subarray(0, end).toString('latin1').split('\r\n');
        const status = lines[0];
        const headers = {};
        for (const line of lines.slice(1)) {
          const i = line.indexOf(':');
          headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
        }
        if (!/^HTTP\/1\.1 101 /.test(status)) return reject(new Error(`${this.id}: handshake status ${status}`));
        if ((headers.upgrade ?? '').toLowerCase() !== 'websocket') return reject(new Error(`${this.id}: bad Upgrade header`));
        if (!/\bupgrade\b/i.test(headers.connection ?? '')) return reject(new Error(`${this.id}: bad Connection header`));
        if (headers['sec-websocket-accept'] !== acceptKey(key)) return reject(new Error(`${this.id}: bad Sec-WebSocket-Accept`));
        this.responseExtensions = headers['sec-websocket-extensions'];
        this.state = 'OPEN';
        this.t0 = performance.now();
        resolve();
        const rest = head.subarray(end + 4);
        if (rest.length > 0) this.#onData(rest);
      });
      socket.on('end', () => {
        // The server half-closed (FIN): Node ends our side too (allowHalfOpen is off),
        // after flushing what we wrote (e.g. our close reply); as with Twisted, the
        // connection is lost for us.
        this.peerFin = true;
        this.times.peerFin ??= this.now();
      });
      socket.on('error', (error) => {
        this.tcpError = error.code ?? error.message;
        if (handshaking) reject(error);
      });
      socket.on('close', () => {
        this.times.tcpClosed ??= this.now();
        if (handshaking) reject(new Error(`${this.id}: connection closed during the handshake`));
        this.#connectionLost();
      });
    });
  }

  // ---- sending -----------------------------------------------------------------

  #log(bytes) {
    if (this.txBytes < 4096) this.txLog.push({ t: this.now(), bytes: Buffer.from(bytes.subarray(0, 4096 - this.txBytes)) });
    this.txBytes += bytes.length;
  }

  /**
   * Queues raw bytes. As with Twisted's transport.write, everything written in one
   * turn of the event loop goes out together (corked, flushed on the next tick):
   * Autobahn's back-to-back sendFrame calls reach the peer in one TCP segment,
   * while chopped / sync writes (which yield between writes) go out one by one.
   */
  write(bytes) {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.#log(bytes);
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    return this.socket.write(bytes);
  }

  /** Writes the bytes in chops of `chopsize`, each its own write, yielding to the event loop between them. */
  async writeChopped(bytes, chopsize, { every = 1, pause = 0 } = {}) {
    for (let i = 0, n = 0; i < bytes.length; i += chopsize, n++) {
      if (this.socket.destroyed || !this.socket.writable) return;
      this.write(bytes.subarray(i, i + chopsize));
      if (n % every === every - 1) {
        if (this.socket.writableNeedDrain) await new Promise((r) => this.socket.once('drain', r));
        if (pause > 0) await delay(pause);
        else await new Promise((r) => setImmediate(r));
      }
    }
  }

  /** Autobahn's sendFrame: builds a masked frame; `payloadLen` repeats the payload; `chopsize` chops it. */
  async sendFrame({ opcode, payload = '', fin = true, rsv = 0, payloadLen, chopsize, sync = false }) {
    let data = Buffer.from(payload);
    if (payloadLen !== undefined) data = repeat(data, payloadLen);
    const bytes = this.frame({ opcode, payload: data, fin, rsv });
    if (chopsize) await this.writeChopped(bytes, chopsize, { pause: chopsize <= 16 ? 1 : 0, every: chopsize <= 16 ? 1 : 16 });
    else this.write(bytes);
    if (sync) await delay(5);
    return bytes;
  }

  /** A whole message, optionally fragmented (Autobahn's sendMessage(fragmentSize)). */
  sendMessage(payload, { binary = false, fragmentSize = 0, compress = false } = {}) {
    let data = Buffer.from(payload);
    const opcode = binary ? 2 : 1;
    // permessage-deflate: the compressed payload, RSV1 on the first frame only (RFC 7692 §6).
    const rsv = compress ? 4 : 0;
    if (compress) data = this.deflate.compress(data);
    if (!fragmentSize || data.length <= fragmentSize) return this.write(this.frame({ opcode, payload: data, rsv }));
    const frames = [];
    for (let i = 0; i < data.length; i += fragmentSize) {
      const first = i === 0;
      const last = i + fragmentSize >= data.length;
      frames.push(this.frame({ opcode: first ? opcode : 0, fin: last, rsv: first ? rsv : 0, payload: data.subarray(i, i + fragmentSize) }));
    }
    return this.write(Buffer.concat(frames));
  }

  /** Autobahn's sendCloseFrame (the proper API: moves to CLOSING, closedByMe unless a reply). */
  sendClose(code, reason, { isReply = false } = {}) {
    if (this.state !== 'OPEN') return;
    const payload = code === undefined ? Buffer.from(reason ?? '') : closePayload(code, reason ?? Buffer.alloc(0));
    this.write(this.frame({ opcode: 8, payload }));
    this.closeFrameSent = true;
    this.state = 'CLOSING';
    this.closedByMe = !isReply;
    this.times.closeSent = this.now();
  }

  // ---- timers ------------------------------------------------------------------

  #timer(ms, fn) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  /** Drop TCP after `ms` if it is still up (Autobahn's killAfter). */
  killAfter(ms) {
    this.#timer(ms, () => this.dropConnection(`killAfter(${ms} ms)`));
  }

  /** Start the closing handshake after `ms` if still OPEN (Autobahn's closeAfter). */
  closeAfter(ms, code = 1000) {
    this.#timer(ms, () => {
      if (this.state === 'OPEN') this.sendClose(code);
    });
  }

  /** Run `fn` after `ms`, with a ("timeout", id) marker if still OPEN (Autobahn's continueLater). */
  continueLater(ms, fn, id) {
    this.#timer(ms, () => {
      if (this.state === 'OPEN') {
        if (id !== undefined) this.received.push(['timeout', id]);
        fn();
      }
    });
  }

  dropConnection(reason) {
    if (this.socket.destroyed) return;
    this.droppedByMe = true;
    this.wasClean = false;
    this.wasNotCleanReason ??= reason;
    this.times.droppedByMe = this.now();
    this.socket.destroy();
  }

  // ---- receiving ---------------------------------------------------------------

  #onData(chunk) {
    if (this.rxBytes < 4096) this.rxLog.push({ t: this.now(), bytes: Buffer.from(chunk.subarray(0, 4096 - this.rxBytes)) });
    this.rxBytes += chunk.length;
    for (const frame of this.parser.push(chunk)) this.#onFrame(frame);
    for (const v of this.parser.violations.splice(0)) this.violations.push(v);
  }

  #onFrame(frame) {
    if (this.closeFrameReceived) {
      this.violations.push(`frame opcode ${frame.opcode} (${frame.payload.length} B) received after the server's close frame`);
      return;
    }
    const { opcode, fin, payload } = frame;
    if (opcode >= 8) {
      if (!fin) this.violations.push(`fragmented control frame opcode ${opcode}`);
      if (payload.length > 125) this.violations.push(`control frame opcode ${opcode} with ${payload.length} B payload`);
      if (opcode === 8) return this.#onCloseFrame(payload);
      if (opcode === 9) {
        // Autobahn answers pings and records them.
        if (this.state === 'OPEN') this.write(this.frame({ opcode: 10, payload }));
        this.received.push(['ping', Buffer.from(payload)]);
        return this.finishWhenDone();
      }
      if (opcode === 10) {
        if (this.onPong) return this.onPong(Buffer.from(payload));
        this.received.push(['pong', Buffer.from(payload)]);
        return this.finishWhenDone();
      }
      this.violations.push(`reserved control opcode ${opcode} from server`);
      return;
    }
    if (opcode === 1 || opcode === 2) {
      if (this.fragments !== null) this.violations.push('new data frame inside a fragmented message from server');
      this.compressed = frame.rsv === 4;
      if (fin) return this.#message(this.compressed ? this.#inflate(payload) : payload, opcode === 2);
      this.fragments = [payload];
      this.fragmentsLength = payload.length;
      this.fragmentsBinary = opcode === 2;
      return;
    }
    if (opcode === 0) {
      if (this.fragments === null) {
        this.violations.push('continuation frame without a message from server');
        return;
      }
      this.fragments.push(payload);
      this.fragmentsLength += payload.length;
      if (fin) {
        const data = Buffer.concat(this.fragments, this.fragmentsLength);
        this.fragments = null;
        this.#message(this.compressed ? this.#inflate(data) : data, this.fragmentsBinary);
      }
      return;
    }
    this.violations.push(`reserved data opcode ${opcode} from server`);
  }

  #inflate(data) {
    try {
      return this.deflate.decompress(data);
    } catch (error) {
      this.violations.push(`compressed message does not inflate: ${error.message}`);
      return Buffer.alloc(0);
    }
  }

  #message(data, binary) {
    if (!binary && !isUtf8(data)) this.violations.push(`server sent a text message that is not valid UTF-8 (${data.length} B)`);
    this.times.lastMessage = this.now();
    if (this.onMessage) return this.onMessage(data, binary);
    this.received.push(['message', Buffer.from(data), binary]);
    this.finishWhenDone();
  }

  #onCloseFrame(payload) {
    this.closeFrameReceived = true;
    this.times.closeReceived = this.now();
    this.remoteClosePayload = Buffer.from(payload);
    if (payload.length === 1) this.violations.push('server close frame with a 1-byte payload');
    if (payload.length >= 2) {
      this.remoteCloseCode = payload.readUInt16BE(0);
      const reason = payload.subarray(2);
      if (!isUtf8(reason)) this.violations.push('server close reason is not valid UTF-8');
      this.remoteCloseReason = reason.toString('utf8');
    }
    if (this.state === 'OPEN') {
      // The server started (or failed) the closing handshake: reply, echoing its code (Autobahn does).
      this.sendClose(this.remoteCloseCode ?? undefined, undefined, { isReply: true });
    }
    // Both close frames are known now: the handshake is complete and the server must drop TCP.
    this.wasClean = true;
    if (this.role === 'server') {
      // We are the server: drop TCP now (flushing our reply), as Autobahn's server does.
      this.droppedByMe = true;
      this.times.droppedByMe = this.now();
      this.socket.end();
      this.#timer(SERVER_DROP_TIMEOUT, () => this.socket.destroy());
    } else {
      this.#timer(SERVER_DROP_TIMEOUT, () => this.dropConnection('server did not drop TCP connection (in time)'));
    }
  }

  #connectionLost() {
    if (this.state === 'CLOSED') return;
    this.state = 'CLOSED';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (!(this.closeFrameSent && this.closeFrameReceived)) {
      this.wasClean = false;
      this.wasNotCleanReason ??= 'peer dropped the TCP connection without previous WebSocket closing handshake';
    }
    this.resolveDone();
  }

  /** Autobahn's finishWhenDone: once every expected outcome matches, start closing if the case says so. */
  finishWhenDone() {
    const outcomes = Object.values(this.expected);
    if (outcomes.length === 0) return;
    for (const e of outcomes) if (!sameEvents(this.received, e)) return;
    if (this.expectedClose.closedByMe && !this.suppressClose) this.sendClose(this.expectedClose.closeCode[0]);
  }

  expect(expected, expectedClose) {
    this.expected = expected;
    if (expectedClose) this.expectedClose = expectedClose;
  }

  /** Waits for connectionLost (with a hard ceiling), then judges the case as Autobahn would. */
  async finished(ceiling = 30_000) {
    const hard = setTimeout(() => this.dropConnection(`test ceiling ${ceiling} ms`), ceiling);
    await this.done;
    clearTimeout(hard);
    return this.verdict();
  }

  verdict() {
    let behavior = FAILED;
    let result = 'Actual events differ from any expected.';
    for (const [name, events] of Object.entries(this.expected)) {
      if (sameEvents(this.received, events)) {
        behavior = name;
        result = 'Actual events match at least one expected.';
        break;
      }
    }
    let behaviorClose;
    let resultClose;
    const ec = this.expectedClose;
    if (ec.closedByMe !== this.closedByMe) {
      behaviorClose = FAILED;
      resultClose = 'The connection was failed by the wrong endpoint';
    } else if (ec.requireClean && !this.wasClean) {
      behaviorClose = UNCLEAN;
      resultClose = `The spec requires the connection to be failed cleanly here (${this.wasNotCleanReason})`;
    } else if (this.remoteCloseCode !== null && !ec.closeCode.includes(this.remoteCloseCode)) {
      behaviorClose = WRONG_CODE;
      resultClose = `The close code should have been ${ec.closeCode.join(',')} or empty`;
    } else if (this.role === 'client' && this.droppedByMe) {
      behaviorClose = FAILED_BY_CLIENT;
      resultClose = `It is preferred that the server close the TCP connection (${this.wasNotCleanReason})`;
    } else {
      behaviorClose = OK;
      resultClose = 'Connection was properly closed';
    }
    if (this.violations.length > 0) {
      behavior = FAILED;
      result = `Server protocol violations: ${this.violations.join('; ')}`;
    }
    return { behavior, behaviorClose, result, resultClose };
  }

  /** A full human-readable account for an assertion message. */
  report(verdict = this.verdict()) {
    const lines = [];
    lines.push(`Case ${this.id}: ${this.description}`);
    lines.push(`Autobahn would conclude: behavior=${verdict.behavior} (${verdict.result}); close=${verdict.behaviorClose} (${verdict.resultClose})`);
    lines.push(`expected: ${Object.entries(this.expected).map(([k, v]) => `${k}=[${v.map(describeEvent).join(', ')}]`).join(' | ')}`);
    lines.push(`received: [${this.received.map(describeEvent).join(', ')}]`);
    lines.push(
      `expectedClose: closedByMe=${this.expectedClose.closedByMe} codes=${this.expectedClose.closeCode} requireClean=${this.expectedClose.requireClean}`,
    );
    lines.push(
      `actual close: closedByMe=${this.closedByMe} remoteCloseCode=${this.remoteCloseCode} reason=${JSON.stringify(this.remoteCloseReason)} ` +
        `wasClean=${this.wasClean} droppedByMe=${this.droppedByMe} peerFin=${this.peerFin} tcpError=${this.tcpError} notClean=${this.wasNotCleanReason}`,
    );
    lines.push(`times (ms since open): ${JSON.stringify(Object.fromEntries(Object.entries(this.times).map(([k, v]) => [k, Math.round(v * 10) / 10])))}`);
    if (this.violations.length) lines.push(`violations: ${this.violations.join('; ')}`);
    lines.push(`sent (${this.txBytes} B):`);
    for (const { t, bytes } of this.txLog.slice(0, 40)) lines.push(`  +${t.toFixed(1)}ms > ${hex(bytes, 160)}`);
    if (this.txLog.length > 40) lines.push(`  ... ${this.txLog.length - 40} more writes`);
    lines.push(`received (${this.rxBytes} B):`);
    for (const { t, bytes } of this.rxLog.slice(0, 40)) lines.push(`  +${t.toFixed(1)}ms < ${hex(bytes, 160)}`);
    return lines.join('\n');
  }
}

// ---- the echo testee process ------------------------------------------------------

/** Spawns `node <script> --port 0` and resolves with { child, port } once it prints `listening`. */
export function spawnEcho(script, args = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`echo server did not start: ${out}${err}`)), 10_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on ws:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), output: () => out + err });
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`echo server exited (${code}): ${out}${err}`));
    });
  });
}

export async function stopChild(child, ms = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(t);
}

// ---- 6.5.x ... : the UTF-8 test sequences (Markus Kuhn's UTF-8-test.txt, as Autobahn builds them) ----

const b = (...bytes) => Buffer.from(bytes);
const cat = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

/** [[category, [[valid, payload], ...]], ...] numbered 6.5, 6.6, ... in this order. */
export function utf8TestSequences() {
  const seqs = [];
  const vss = b(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5);
  seqs.push([
    'Some valid UTF-8 sequences',
    [
      [true, cat('hello', b(0x24), 'world')],
      [true, cat('hello', b(0xc2, 0xa2), 'world')],
      [true, cat('hello', b(0xe2, 0x82, 0xac), 'world')],
      [true, cat('hello', b(0xf0, 0xa4, 0xad, 0xa2), 'world')],
      [true, vss],
    ],
  ]);
  // Valid only where the prefix ends on a code point boundary (validator: valid and complete).
  seqs.push(['All prefixes of a valid UTF-8 string that contains multi-byte code points', Array.from({ length: vss.length }, (_, i) => [isUtf8(vss.subarray(0, i + 1)), vss.subarray(0, i + 1)])]);
  seqs.push(['First possible sequence of a certain length', [[true, b(0x00)], [true, b(0xc2, 0x80)], [true, b(0xe0, 0xa0, 0x80)], [true, b(0xf0, 0x90, 0x80, 0x80)]]]);
  seqs.push(['First possible sequence length 5/6 (invalid codepoints)', [[false, b(0xf8, 0x88, 0x80, 0x80, 0x80)], [false, b(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80)]]]);
  seqs.push(['Last possible sequence of a certain length', [[true, b(0x7f)], [true, b(0xdf, 0xbf)], [true, b(0xef, 0xbf, 0xbf)], [true, b(0xf4, 0x8f, 0xbf, 0xbf)]]]);
  seqs.push([
    'Last possible sequence length 4/5/6 (invalid codepoints)',
    [[false, b(0xf7, 0xbf, 0xbf, 0xbf)], [false, b(0xfb, 0xbf, 0xbf, 0xbf, 0xbf)], [false, b(0xfd, 0xbf, 0xbf, 0xbf, 0xbf, 0xbf)]],
  ]);
  seqs.push([
    'Other boundary conditions',
    [[true, b(0xed, 0x9f, 0xbf)], [true, b(0xee, 0x80, 0x80)], [true, b(0xef, 0xbf, 0xbd)], [true, b(0xf4, 0x8f, 0xbf, 0xbf)], [false, b(0xf4, 0x90, 0x80, 0x80)]],
  ]);
  const contRange = [];
  for (let i = 0x80; i < 0xbf; i++) contRange.push(i);
  seqs.push([
    'Unexpected continuation bytes',
    [
      [false, b(0x80)],
      [false, b(0xbf)],
      [false, b(0x80, 0xbf)],
      [false, b(0x80, 0xbf, 0x80)],
      [false, b(0x80, 0xbf, 0x80, 0xbf)],
      [false, b(0x80, 0xbf, 0x80, 0xbf, 0x80)],
      [false, b(0x80, 0xbf, 0x80, 0xbf, 0x80, 0xbf)],
      [false, Buffer.from(contRange)],
    ],
  ]);
  const lonely = [];
  for (const [lo, hi] of [[0xc0, 0xdf], [0xe0, 0xef], [0xf0, 0xf7], [0xf8, 0xfb], [0xfc, 0xfd]]) {
    const s = [];
    for (let i = lo; i < hi; i++) s.push(i, 0x20);
    lonely.push([false, Buffer.from(s)]);
  }
  seqs.push(['Lonely start characters', lonely]);
  const k = [
    b(0xc0), b(0xe0, 0x80), b(0xf0, 0x80, 0x80), b(0xf8, 0x80, 0x80, 0x80), b(0xfc, 0x80, 0x80, 0x80, 0x80),
    b(0xdf), b(0xef, 0xbf), b(0xf7, 0xbf, 0xbf), b(0xfb, 0xbf, 0xbf, 0xbf), b(0xfd, 0xbf, 0xbf, 0xbf, 0xbf),
  ];
  seqs.push(['Sequences with last continuation byte missing', k.map((x) => [false, x])]);
  seqs.push(['Concatenation of incomplete sequences', [[false, Buffer.concat(k)]]]);
  seqs.push(['Impossible bytes', [[false, b(0xfe)], [false, b(0xff)], [false, b(0xfe, 0xfe, 0xff, 0xff)]]]);
  seqs.push([
    'Examples of an overlong ASCII character',
    [[false, b(0xc0, 0xaf)], [false, b(0xe0, 0x80, 0xaf)], [false, b(0xf0, 0x80, 0x80, 0xaf)], [false, b(0xf8, 0x80, 0x80, 0x80, 0xaf)], [false, b(0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf)]],
  ]);
  seqs.push([
    'Maximum overlong sequences',
    [[false, b(0xc1, 0xbf)], [false, b(0xe0, 0x9f, 0xbf)], [false, b(0xf0, 0x8f, 0xbf, 0xbf)], [false, b(0xf8, 0x87, 0xbf, 0xbf, 0xbf)], [false, b(0xfc, 0x83, 0xbf, 0xbf, 0xbf, 0xbf)]],
  ]);
  seqs.push([
    'Overlong representation of the NUL character',
    [[false, b(0xc0, 0x80)], [false, b(0xe0, 0x80, 0x80)], [false, b(0xf0, 0x80, 0x80, 0x80)], [false, b(0xf8, 0x80, 0x80, 0x80, 0x80)], [false, b(0xfc, 0x80, 0x80, 0x80, 0x80, 0x80)]],
  ]);
  seqs.push([
    'Single UTF-16 surrogates',
    [[0xa0, 0x80], [0xad, 0xbf], [0xae, 0x80], [0xaf, 0xbf], [0xb0, 0x80], [0xbe, 0x80], [0xbf, 0xbf]].map(([x, y]) => [false, b(0xed, x, y)]),
  ]);
  seqs.push([
    'Paired UTF-16 surrogates',
    [
      [0xa0, 0x80, 0xb0, 0x80], [0xa0, 0x80, 0xbf, 0xbf], [0xad, 0xbf, 0xb0, 0x80], [0xad, 0xbf, 0xbf, 0xbf],
      [0xae, 0x80, 0xb0, 0x80], [0xae, 0x80, 0xbf, 0xbf], [0xaf, 0xbf, 0xb0, 0x80], [0xaf, 0xbf, 0xbf, 0xbf],
    ].map(([p, q, r, s]) => [false, b(0xed, p, q, 0xed, r, s)]),
  ]);
  const nonchars = [[true, b(0xef, 0xbf, 0xbe)], [true, b(0xef, 0xbf, 0xbf)]];
  for (const z1 of [0xf0, 0xf1, 0xf2, 0xf3, 0xf4]) {
    for (const z2 of [0x8f, 0x9f, 0xaf, 0xbf]) {
      if (z1 === 0xf4 && z2 !== 0x8f) continue;
      for (const z3 of [0xbe, 0xbf]) {
        if (z1 === 0xf0 && z2 === 0x8f) continue; // overlong
        nonchars.push([true, b(z1, z2, 0xbf, z3)]);
      }
    }
  }
  seqs.push(['Non-character code points (valid UTF-8)', nonchars]);
  seqs.push(['Unicode specials (i.e. replacement char)', [0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf].map((x) => [true, b(0xef, 0xbf, x)])]);
  return seqs;
}

// ---- 9.x: limits / performance --------------------------------------------------------

const KiB = 2 ** 10;
const MiB = 2 ** 20;

/** The 9.x cases: { id, desc, binary, size, fragmentSize?, chopsize?, count? (9.7/9.8 round trips) } */
export function perfCases() {
  const cases = [];
  const sizes = [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB];
  sizes.forEach((size, i) => cases.push({ id: `9.1.${i + 1}`, binary: false, size }));
  sizes.forEach((size, i) => cases.push({ id: `9.2.${i + 1}`, binary: true, size }));
  const frags = [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB];
  frags.forEach((fragmentSize, i) => cases.push({ id: `9.3.${i + 1}`, binary: false, size: 4 * MiB, fragmentSize }));
  frags.forEach((fragmentSize, i) => cases.push({ id: `9.4.${i + 1}`, binary: true, size: 4 * MiB, fragmentSize }));
  const chops = [64, 128, 256, 512, 1024, 2048];
  chops.forEach((chopsize, i) => cases.push({ id: `9.5.${i + 1}`, binary: false, size: MiB, chopsize }));
  chops.forEach((chopsize, i) => cases.push({ id: `9.6.${i + 1}`, binary: true, size: MiB, chopsize }));
  const rtt = [0, 16, 64, 256, 1024, 4096];
  rtt.forEach((size, i) => cases.push({ id: `9.7.${i + 1}`, binary: false, size, count: 1000 }));
  rtt.forEach((size, i) => cases.push({ id: `9.8.${i + 1}`, binary: true, size, count: 1000 }));
  for (const c of cases) {
    c.desc =
      c.count !== undefined
        ? `${c.count} ${c.binary ? 'binary' : 'text'} messages of ${c.size} B, one round trip each`
        : `${c.binary ? 'binary' : 'text'} message of ${c.size} B` +
          (c.fragmentSize ? ` in fragments of ${c.fragmentSize} B` : '') +
          (c.chopsize ? ` in chops of ${c.chopsize} B` : '');
  }
  return cases;
}

/**
 * Runs one 9.x case against the echo server; resolves with { c, verdict, ms, ok, detail }.
 * The echo must be byte-exact and of the same type; then we close with 1000.
 */
export async function runPerfCase(portOrCase, spec, { waitSecs = 100 } = {}) {
  const c = portOrCase instanceof FuzzCase ? portOrCase : await FuzzCase.open(portOrCase, spec.id, spec.desc);
  c.expectedClose = { closedByMe: true, closeCode: [1000], requireClean: true };
  const pattern = spec.binary ? Buffer.from([0x00, 0xfe, 0x23, 0xfa, 0xf0]) : Buffer.from(spec.count !== undefined ? '*' : 'BAsd7&jh23');
  const payload = repeat(pattern, spec.size);
  let ok = false;
  let detail = 'no echo';
  let ms = 0;
  const start = performance.now();
  if (spec.count !== undefined) {
    let n = 0;
    const frame = () => c.frame({ opcode: spec.binary ? 2 : 1, payload });
    c.onMessage = (data, binary) => {
      if (binary !== spec.binary || !payload.equals(data)) {
        detail = `echo ${n}: got ${binary ? 'binary' : 'text'} ${data.length} B`;
        c.sendClose(1000);
        return;
      }
      if (++n < spec.count) {
        c.write(frame());
        return;
      }
      ms = performance.now() - start;
      ok = true;
      detail = `${n} echoes`;
      c.sendClose(1000);
    };
    c.write(frame());
  } else {
    c.onMessage = (data, binary) => {
      ms = performance.now() - start;
      if (binary !== spec.binary) detail = `expected ${spec.binary ? 'binary' : 'text'}, got ${binary ? 'binary' : 'text'}`;
      else if (data.length !== payload.length) detail = `expected ${payload.length} B, got ${data.length} B`;
      else if (!payload.equals(data)) detail = 'payload differs';
      else {
        ok = true;
        detail = `${data.length} B echoed exactly`;
      }
      c.sendClose(1000);
    };
    const opcode = spec.binary ? 2 : 1;
    if (spec.fragmentSize) c.sendMessage(payload, { binary: spec.binary, fragmentSize: spec.fragmentSize });
    else if (spec.chopsize) await c.writeChopped(c.frame({ opcode, payload }), spec.chopsize, { every: 1 });
    else c.write(c.frame({ opcode, payload }));
  }
  c.closeAfter(waitSecs * 1000);
  const verdict = await c.finished(waitSecs * 1000 + 5000);
  verdict.behavior = ok && c.violations.length === 0 ? OK : FAILED;
  if (!ok) verdict.result = detail;
  return { c, verdict, ms, ok, detail };
}
