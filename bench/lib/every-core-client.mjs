// Load-generator child process for the every-core rows (every-core.mjs).
// Built to cost as little CPU per echoed byte as possible, since on a small
// machine it shares the cores with the servers it measures: a hand-written
// upgrade request; frames encoded once (masked, RFC 6455 §5.3) and shared by
// every connection (one 4 MiB buffer, not one per connection); socket reads
// land in one static buffer (net `onread`, no Buffer per read) and a
// header-skipping reader counts the echoed payload bytes. Each connection's
// first echo (batch) of each workload is verified byte for byte, during the
// first warm-up, before anything is measured.
//
// Parent → child (IPC), one request at a time, each answered by one reply:
//   { cmd: 'connect', target, ports, connections, offset } → { connected }
//   { cmd: 'start', target, workload, verify }             → { started }
//     (with verify: once every connection's first echo — batch — matched)
//   'mark' → { marked }   'read' → { cpuMicros, elapsedMs, bytes }  (since the mark)
//   { cmd: 'stop' } → { stopped } once every echo in flight has arrived
// A failure is answered { error } in place of the reply. Exits when the
// parent disconnects.
import net from 'node:net';
import { randomBytes, buildStream } from './streams.mjs';
import { WORKLOADS } from './every-core-figures.mjs';

const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
const FIN = 0x80;

function encodeWorkload(name) {
  const w = WORKLOADS[name];
  const messages = Array.from({ length: w.count }, (_, i) => randomBytes(w.size, 9000 + i));
  const frames = buildStream(messages.map((payload) => ({ payload, opcode: 2 })), { fragmentSize: w.fragment || Infinity, masked: true, seed: 41 });
  return { ...w, messages, frames: Buffer.from(frames.buffer, frames.byteOffset, frames.byteLength) };
}

/** Length of a frame header starting at `b[i]` (its first two bytes are there). */
function headerLength(b, i) {
  const len7 = b[i + 1] & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b[i + 1] & 0x80 ? 4 : 0);
}

/** One connection: counts echoed payload bytes and messages; in verify mode also keeps and compares them. */
class Connection {
  constructor(port, onFailure) {
    this.port = port;
    this.head = '';
    this.opened = null;
    this.header = Buffer.alloc(14);
    this.headerHave = 0;
    this.remaining = 0;
    this.fin = false;
    this.data = false;
    this.workload = null;
    this.messageIndex = 0; // within the batch
    this.messageBytes = 0;
    this.verify = false; // compare every echoed byte with what was sent
    this.running = false;
    this.inFlight = false;
    this.closing = false;
    this.bytes = 0;
    this.onFailure = onFailure;
    this.onIdle = null;
    this.onVerified = null;
    this.socket = net.connect({
      port, host: '127.0.0.1', noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (n, buf) => { this.read(buf, n); } },
    });
    this.socket.on('error', (e) => this.fail(`socket error: ${e.message}`));
    this.socket.on('close', () => this.fail('closed by the server'));
  }

  open() {
    return new Promise((resolve, reject) => {
      this.opened = { resolve, reject };
      this.socket.once('connect', () => {
        this.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${this.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
      });
    });
  }

  fail(why) {
    if (this.closing) return;
    this.closing = true;
    this.socket.destroy();
    if (this.opened) { this.opened.reject(new Error(`port ${this.port}: ${why}`)); this.opened = null; return; }
    this.onFailure(new Error(`port ${this.port}: ${why}`));
  }

  read(buf, n) {
    if (this.opened) {
      this.head += buf.latin1Slice(0, n);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (!this.head.startsWith('HTTP/1.1 101')) { this.fail(`no upgrade: ${this.head.split('\r\n')[0]}`); return; }
      const rest = this.head.length - end - 4;
      this.opened.resolve();
      this.opened = null;
      if (rest > 0) this.frames(buf, n - rest, n);
      return;
    }
    this.frames(buf, 0, n);
  }

  /** The header-skipping reader: payload bytes are counted, copied only when verifying. */
  frames(b, p, end) {
    while (p < end) {
      if (this.remaining > 0) {
        const k = Math.min(this.remaining, end - p);
        if (this.data) {
          this.bytes += k;
          this.messageBytes += k;
          if (this.verify && !this.matches(b, p, k)) return;
        }
        this.remaining -= k;
        p += k;
        if (this.remaining === 0 && this.fin && this.data) this.message();
        continue;
      }
      let h = b, at = p;
      if (this.headerHave > 0 || end - p < 2 || end - p < headerLength(b, p)) {
        // a header split across reads: gather it in this.header
        while (p < end && (this.headerHave < 2 || this.headerHave < headerLength(this.header, 0))) this.header[this.headerHave++] = b[p++];
        if (this.headerHave < 2 || this.headerHave < headerLength(this.header, 0)) return;
        h = this.header; at = 0;
        this.headerHave = 0;
      } else {
        p += headerLength(b, p);
      }
      const opcode = h[at] & 0x0f;
      const len7 = h[at + 1] & 0x7f;
      const length = len7 === 126 ? h.readUInt16BE(at + 2) : len7 === 127 ? Number(h.readBigUInt64BE(at + 2)) : len7;
      this.fin = (h[at] & FIN) !== 0;
      if (opcode >= 8) {
        if (opcode === 8) { this.fail('sent a close frame during the run'); return; }
        this.data = false; // ping/pong: skipped
      } else {
        this.data = true;
        if (this.verify && opcode !== 0 && opcode !== 2) { this.fail(`echo #${this.messageIndex} has opcode ${opcode}, sent binary (2)`); return; }
      }
      this.remaining = length;
      if (length === 0 && this.fin && this.data) this.message();
    }
  }

  /** Verifying: the `k` bytes at `b[p]` are the next ones of the message sent, compared where they landed. */
  matches(b, p, k) {
    const sent = this.workload.messages[this.messageIndex];
    const at = this.messageBytes - k;
    if (at + k <= sent.length && b.compare(sent, at, at + k, p, p + k) === 0) return true;
    this.fail(`echo #${this.messageIndex} differs from what was sent (bytes ${at}–${at + k})`);
    return false;
  }

  message() {
    const w = this.workload;
    if (this.messageBytes !== w.size) { this.fail(`echo #${this.messageIndex} has ${this.messageBytes} B, sent ${w.size} B`); return; }
    this.messageBytes = 0;
    if (++this.messageIndex < w.count) return;
    this.messageIndex = 0;
    this.inFlight = false;
    if (this.verify) { this.verify = false; this.onVerified?.(); }
    if (this.running) this.send();
    else this.onIdle?.();
  }

  send() {
    this.inFlight = true;
    this.socket.write(this.workload.frames);
  }
}

const targets = new Map(); // name → Connection[]
const encoded = new Map(); // workload → frames and messages
let active = [];
let failure = null;
let mark = process.cpuUsage();
let markedAt = performance.now();
let bytesAtMark = 0;
const bytesNow = () => active.reduce((sum, c) => sum + c.bytes, 0);
const onFailure = (e) => { failure ??= e; };

/** Points every connection at the workload's frames (encoded once per process), verifying or not. */
function prepare(list, workload, verify) {
  const w = encoded.get(workload) ?? encodeWorkload(workload);
  encoded.set(workload, w);
  for (const c of list) { c.workload = w; c.verify = verify; c.messageIndex = 0; c.messageBytes = 0; }
}

/** Resolves once every connection of `list` has had its first echo (batch) verified. */
function allVerified(list) {
  return new Promise((resolve, reject) => {
    let open = list.length;
    const timer = setTimeout(() => reject(failure ?? new Error(`${open} connections not verified after 60 s`)), 60_000);
    const check = setInterval(() => { if (failure) { clearTimeout(timer); clearInterval(check); reject(failure); } }, 50);
    for (const c of list) {
      c.onVerified = () => {
        c.onVerified = null;
        if (--open === 0) { clearTimeout(timer); clearInterval(check); resolve(); }
      };
    }
  });
}

/** Resolves once no connection of `list` has an echo outstanding. */
function idle(list) {
  return new Promise((resolve, reject) => {
    let open = list.filter((c) => c.inFlight).length;
    if (open === 0) return resolve();
    const timer = setTimeout(() => reject(failure ?? new Error(`${open} echoes still outstanding after 30 s`)), 30_000);
    const check = setInterval(() => { if (failure) { clearTimeout(timer); clearInterval(check); reject(failure); } }, 50);
    for (const c of list) {
      if (!c.inFlight) continue;
      c.onIdle = () => {
        c.onIdle = null;
        if (--open === 0) { clearTimeout(timer); clearInterval(check); resolve(); }
      };
    }
  });
}

async function handle(m) {
  if (failure) throw failure;
  if (m === 'mark') { mark = process.cpuUsage(); markedAt = performance.now(); bytesAtMark = bytesNow(); return { marked: true }; }
  if (m === 'read') {
    const u = process.cpuUsage(mark);
    return { cpuMicros: u.user + u.system, elapsedMs: performance.now() - markedAt, bytes: bytesNow() - bytesAtMark };
  }
  switch (m.cmd) {
    case 'connect': {
      const list = Array.from({ length: m.connections }, (_, i) => new Connection(m.ports[(m.offset + i) % m.ports.length], onFailure));
      targets.set(m.target, list);
      await Promise.all(list.map((c) => c.open()));
      return { connected: list.length };
    }
    case 'start': {
      active = targets.get(m.target);
      prepare(active, m.workload, !!m.verify);
      const verified = m.verify ? allVerified(active) : null;
      for (const c of active) { c.running = true; c.send(); }
      if (verified) await verified;
      return { started: true };
    }
    case 'stop': {
      for (const c of active) c.running = false;
      await idle(active);
      return { stopped: true };
    }
    default:
      throw new Error(`unknown request ${JSON.stringify(m)}`);
  }
}

process.on('message', (m) => {
  handle(m).then((reply) => process.send(reply), (e) => process.send({ error: String(e?.message ?? e) }));
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
