// Raw-socket peers for the attack scenarios and the hostile tests: a client
// that speaks just enough RFC 6455 by hand (handshake, masked frames, a frame
// counter) to behave badly on purpose, identical against wsframe and ws.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Opens a TCP connection and completes the opening handshake; resolves { socket, rest }. */
export function upgrade(port, { host = '127.0.0.1', timeout = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error('handshake timed out')), timeout);
    const fail = (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.on('error', fail);
    socket.once('connect', () => {
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      if (!status.includes(' 101 ')) {
        socket.destroy();
        reject(new Error(`handshake refused: ${status}`));
        return;
      }
      socket.pause();
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
}

/** One masked client frame (mask key 0, so the payload goes out as is). */
export function maskedFrame(opcode, payload = Buffer.alloc(0), fin = true) {
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const frame = Buffer.alloc(2 + ext + 4 + len);
  frame[0] = (fin ? 0x80 : 0) | opcode;
  if (ext === 0) frame[1] = 0x80 | len;
  else if (ext === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(len), 2);
  }
  payload.copy?.(frame, 2 + ext + 4);
  if (!Buffer.isBuffer(payload)) frame.set(payload, 2 + ext + 4);
  return frame;
}

/** The header alone of a masked frame announcing `len` payload bytes (the payload is sent later, or never). */
export function maskedHeader(opcode, len, fin = true) {
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + ext + 4);
  header[0] = (fin ? 0x80 : 0) | opcode;
  if (ext === 0) header[1] = 0x80 | len;
  else if (ext === 2) {
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return header;
}

/** `count` copies of `frame` in one buffer (for one pipelined write). */
export function repeat(frame, count) {
  const out = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  return out;
}

/** Counts unmasked server frames in a byte stream, in any chunking. */
export class FrameCounter {
  frames = 0;
  messages = 0;
  pongs = 0;
  bytes = 0;
  /** Close code of the server's close frame, 0 until one arrived. */
  closeCode = 0;
  #pending = Buffer.alloc(0);
  #skip = 0;
  #opcode = 0;
  #fin = false;

  push(chunk) {
    this.bytes += chunk.length;
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : chunk;
    let off = 0;
    for (;;) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, buf.length - off);
        if (this.#opcode === 8 && this.closeCode === 0 && n >= 2) this.closeCode = buf.readUInt16BE(off);
        this.#skip -= n;
        off += n;
        if (this.#skip > 0) break;
      }
      if (buf.length - off < 2) break;
      const b0 = buf[off], b1 = buf[off + 1] & 0x7f;
      const ext = b1 < 126 ? 0 : b1 === 126 ? 2 : 8;
      if (buf.length - off < 2 + ext) break;
      const len = ext === 0 ? b1 : ext === 2 ? buf.readUInt16BE(off + 2) : Number(buf.readBigUInt64BE(off + 2));
      off += 2 + ext;
      this.#opcode = b0 & 0x0f;
      this.#fin = (b0 & 0x80) !== 0;
      this.frames++;
      if (this.#opcode === 10) this.pongs++;
      else if (this.#opcode !== 9 && this.#opcode !== 8 && this.#fin) this.messages++;
      if (this.#opcode === 8 && len >= 2 && buf.length - off >= 2) this.closeCode = buf.readUInt16BE(off);
      else if (this.#opcode === 8 && len === 0) this.closeCode = 1005;
      this.#skip = len;
      if (len === 0) continue;
    }
    this.#pending = off < buf.length ? Buffer.from(buf.subarray(off)) : Buffer.alloc(0);
  }
}

/** Resident set size of a process in bytes, from /proc (Linux); VmHWM is its peak. */
export function processMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const kib = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+)`, 'm'))?.[1] ?? 0) * 1024;
    return { rss: kib('VmRSS'), peak: kib('VmHWM') };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

export const MiB = 2 ** 20;
export const KiB = 1024;
export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
