// STAND-IN for the wsframe core, used only until dist/ exists (or with
// --impl stub). Plain JavaScript, same API shape as the real Decoder/Encoder
// so the harness can be exercised end to end. Its numbers mean nothing about
// wsframe; every row produced with it is labelled "(stub)".
import { isUtf8 } from 'node:buffer';
import { randomFillSync } from 'node:crypto';

export class Decoder {
  static memoryBytes() { return 0; } // the stub's buffers are ordinary ArrayBuffers (already in arrayBuffers)

  constructor(opts) {
    this.o = opts;
    this.server = opts.role !== 'client';
    this.max = opts.maxMessageSize ?? 64 * 2 ** 20;
    this.pending = null; // partial header/payload carried between pushes
    this.msg = new Uint8Array(64 * 1024);
    this.msgLen = 0;
    this.msgOp = 0;
    this.dead = false;
  }

  push(chunk) {
    if (this.dead) return;
    let buf = chunk;
    if (this.pending) {
      const merged = new Uint8Array(this.pending.length + chunk.length);
      merged.set(this.pending); merged.set(chunk, this.pending.length);
      buf = merged; this.pending = null;
    }
    let p = 0;
    const n = buf.length;
    while (p < n) {
      if (n - p < 2) break;
      const b0 = buf[p], b1 = buf[p + 1];
      const fin = b0 & 0x80, op = b0 & 0x0f, masked = b1 & 0x80;
      let len = b1 & 0x7f, h = 2;
      if (len === 126) { if (n - p < 4) break; len = (buf[p + 2] << 8) | buf[p + 3]; h = 4; }
      else if (len === 127) {
        if (n - p < 10) break;
        len = (buf[p + 6] * 2 ** 24) + (buf[p + 7] << 16 | buf[p + 8] << 8 | buf[p + 9]); h = 10;
      }
      if (masked) h += 4;
      if (n - p < h + len) break;
      if (this.server && !masked) return this.fail(1002, 'unmasked frame');
      const key = masked ? buf.subarray(p + h - 4, p + h) : null;
      const payload = buf.subarray(p + h, p + h + len);
      if (op >= 8) {
        const ctl = payload.slice();
        if (key) for (let i = 0; i < len; i++) ctl[i] ^= key[i & 3];
        if (op === 9) this.o.onPing?.(ctl);
        else if (op === 10) this.o.onPong?.(ctl);
        else if (op === 8) {
          this.o.onClose?.(len >= 2 ? (ctl[0] << 8) | ctl[1] : 1005, Buffer.from(ctl.subarray(2)).toString());
          this.dead = true; return;
        }
      } else {
        if (op !== 0) { this.msgOp = op; this.msgLen = 0; }
        if (this.msgLen + len > this.max) return this.fail(1009, 'message too big');
        if (this.msgLen + len > this.msg.length) {
          let cap = this.msg.length;
          while (cap < this.msgLen + len) cap *= 2;
          const g = new Uint8Array(cap); g.set(this.msg.subarray(0, this.msgLen)); this.msg = g;
        }
        const dst = this.msg, o = this.msgLen;
        if (key) {
          const k0 = key[0], k1 = key[1], k2 = key[2], k3 = key[3];
          let i = 0;
          for (; i + 4 <= len; i += 4) {
            dst[o + i] = payload[i] ^ k0; dst[o + i + 1] = payload[i + 1] ^ k1;
            dst[o + i + 2] = payload[i + 2] ^ k2; dst[o + i + 3] = payload[i + 3] ^ k3;
          }
          for (; i < len; i++) dst[o + i] = payload[i] ^ key[i & 3];
        } else dst.set(payload, o);
        this.msgLen += len;
        if (fin) {
          const data = this.msg.subarray(0, this.msgLen);
          const binary = this.msgOp === 2;
          if (!binary && !isUtf8(data)) return this.fail(1007, 'invalid UTF-8');
          this.o.onMessage?.(data, binary);
          this.msgLen = 0;
        }
      }
      p += h + len;
    }
    if (p < n) this.pending = buf.slice(p);
  }

  fail(closeCode, msg) {
    this.dead = true;
    const e = new Error(msg); e.closeCode = closeCode; e.code = 'WSFRAME_STUB';
    this.o.onError?.(e);
  }

  destroy() { this.dead = true; this.msg = null; this.pending = null; }
}

export class Encoder {
  constructor({ role }) { this.client = role === 'client'; this.key = new Uint8Array(4); }

  message(data, { binary, fragmentSize = Infinity } = {}) {
    if (typeof data === 'string') { data = new TextEncoder().encode(data); binary ??= false; }
    binary ??= true;
    const out = [];
    const n = Math.max(1, Math.ceil(data.length / fragmentSize));
    for (let f = 0; f < n; f++) {
      const part = data.subarray(f * fragmentSize, Math.min(data.length, (f + 1) * fragmentSize));
      const len = part.length;
      const hl = (len < 126 ? 2 : len < 65536 ? 4 : 10) + (this.client ? 4 : 0);
      const frame = new Uint8Array(this.client ? hl + len : hl);
      frame[0] = (f === n - 1 ? 0x80 : 0) | (f === 0 ? (binary ? 2 : 1) : 0);
      let o = 1;
      const m = this.client ? 0x80 : 0;
      if (len < 126) frame[o++] = m | len;
      else if (len < 65536) { frame[o++] = m | 126; frame[o++] = len >>> 8; frame[o++] = len & 255; }
      else { frame[o++] = m | 127; o += 4; frame[o++] = len >>> 24; frame[o++] = (len >>> 16) & 255; frame[o++] = (len >>> 8) & 255; frame[o++] = len & 255; }
      if (this.client) {
        const k = this.key; randomFillSync(k);
        frame.set(k, o); o += 4;
        for (let i = 0; i < len; i++) frame[o + i] = part[i] ^ k[i & 3];
        out.push(frame);
      } else {
        out.push(frame, part);
      }
    }
    return out;
  }
}
