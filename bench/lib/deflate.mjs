// Workload 7: permessage-deflate (RFC 7692), wsframe beside ws with the same
// settings (zlib defaults: level 6 (-1), memLevel 8, window 15, context
// takeover, threshold 0). Wall clock (ws's zlib work runs in the thread pool,
// which a CPU-time clock of this thread would not see).
//
// - chat: 1,000 JSON messages of ~1 KiB, compressed one after another, and the
//   resulting stream decompressed (context takeover: every message refers back);
// - 4 MiB: the 9.3/9.4 payloads (text pattern 'BAsd7&jh23', 4 MiB) and 4 MiB
//   of random bytes, compressed and decompressed as one message;
// - loopback: the chat messages echoed over one TCP connection on 127.0.0.1,
//   client and server both wsframe, or both ws.
// Rows are informational (gated: false): bench:check ignores them.
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { measureAsync } from './measure.mjs';
import { MiB, randomBytes } from './streams.mjs';

const require = createRequire(import.meta.url);

const CHAT_COUNT = 1000;
function chatMessages() {
  const out = [];
  for (let i = 0; i < CHAT_COUNT; i++) {
    out.push(Buffer.from(JSON.stringify({
      type: 'chat', id: 100000 + i, room: `room-${i % 12}`, user: { id: i % 97, name: `user${i % 97}`, avatar: `https://cdn.example.com/a/${i % 97}.png` },
      text: `message ${i}: ` + 'the quick brown fox jumps over the lazy dog; '.repeat(16 + (i % 5)),
      ts: 1_700_000_000_000 + i * 1337, tags: ['general', i % 2 ? 'odd' : 'even'],
    })));
  }
  return out;
}

function pattern(text, size) {
  const p = Buffer.from(text);
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += p.length) p.copy(out, i, 0, Math.min(p.length, size - i));
  return out;
}

const NONE = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined };

function ours(pkg) {
  const options = pkg.resolvePerMessageDeflate({ threshold: 0 }, true);
  const provider = pkg.zlibProvider();
  return {
    compressAll(messages) {
      const s = new pkg.PerMessageDeflate('server', NONE, options, provider);
      const out = messages.map((m) => Buffer.from(s.compress(m)));
      s.close();
      return out;
    },
    decompressAll(compressed, binary) {
      const s = new pkg.PerMessageDeflate('client', NONE, options, provider);
      let bytes = 0;
      let error = null;
      const ext = s.inbound({ maxMessageSize: 2 ** 31, onMessage: (d) => { bytes += d.length; }, onError: (e) => { error = e; } });
      for (const c of compressed) ext.onData(c, binary, true);
      s.close();
      if (error) throw error;
      return bytes;
    },
  };
}

function ws() {
  // Not in ws's exports map: loaded by file path.
  const PerMessageDeflate = require(require.resolve('ws').replace(/index\.js$/, 'lib/permessage-deflate.js'));
  const make = (isServer) => {
    const p = new PerMessageDeflate({ threshold: 0 }, isServer, 2 ** 31);
    if (isServer) p.accept([{}]);
    else p.accept([{}]);
    return p;
  };
  const run = (p, method, list) => new Promise((resolve, reject) => {
    const out = [];
    let i = 0;
    const next = () => {
      if (i === list.length) return resolve(out);
      p[method](list[i++], true, (err, data) => {
        if (err) return reject(err);
        out.push(data);
        next();
      });
    };
    next();
  });
  return {
    async compressAll(messages) {
      const p = make(true);
      const out = await run(p, 'compress', messages);
      p.cleanup();
      return out;
    },
    async decompressAll(compressed) {
      const p = make(false);
      const out = await run(p, 'decompress', compressed);
      p.cleanup();
      return out.reduce((n, b) => n + b.length, 0);
    },
  };
}

export async function w7(ctx) {
  let pkg;
  try { pkg = await import('wsframe'); } catch { pkg = null; }
  if (!pkg?.PerMessageDeflate || !pkg.zlibProvider?.()) return [{ id: 'w7.skipped', group: 'w7', label: '7 permessage-deflate: not in this build', note: 'skipped', targets: [], gated: false, kind: 'info' }];
  const o = ours(pkg);
  const w = ws();
  const n = ctx.quick ? 5 : 12;
  const rows = [];
  const chat = chatMessages();
  const chatBytes = chat.reduce((s, m) => s + m.length, 0);
  const text = pattern('BAsd7&jh23', 4 * MiB);
  const random = Buffer.from(randomBytes(4 * MiB, 7));
  const payloads = [
    ['chat', `chat: ${CHAT_COUNT} JSON msgs of ~${Math.round(chatBytes / CHAT_COUNT)} B`, chat, false, CHAT_COUNT],
    ['text4m', '4 MiB text (9.3.x pattern)', [text], false, 1],
    ['rand4m', '4 MiB random bytes', [random], true, 1],
  ];
  for (const [key, what, messages, binary, count] of payloads) {
    const bytes = messages.reduce((s, m) => s + m.length, 0);
    const compressed = o.compressAll(messages);
    const wsCompressed = await w.compressAll(messages);
    // Both sides produce a stream the other inflates to the same bytes.
    if (o.decompressAll(wsCompressed, binary) !== bytes || (await w.decompressAll(compressed)) !== bytes) throw new Error(`w7 ${key}: round trip mismatch`);
    const ratio = compressed.reduce((s, c) => s + c.length, 0) / bytes;
    const cOurs = await measureAsync(() => o.compressAll(messages), { n });
    const cWs = await measureAsync(() => w.compressAll(messages), { n });
    const dOurs = await measureAsync(() => o.decompressAll(compressed, binary), { n });
    const dWs = await measureAsync(() => w.decompressAll(compressed), { n });
    const base = { group: 'w7', bytes, messages: count, gated: false, targets: [], clock: 'wall' };
    rows.push({ ...base, id: `w7.ours.compress.${key}`, label: `deflate ${what} (wsframe, sync zlib)`, impl: 'wsframe', medianMs: cOurs.median, vs: `w7.ws.compress.${key}`, note: `compressed to ${(ratio * 100).toFixed(1)}%` });
    rows.push({ ...base, id: `w7.ws.compress.${key}`, label: `deflate ${what} (ws, async zlib)`, impl: 'ws', medianMs: cWs.median });
    rows.push({ ...base, id: `w7.ours.inflate.${key}`, label: `inflate ${what} (wsframe${binary ? '' : ', + UTF-8 check'})`, impl: 'wsframe', medianMs: dOurs.median, vs: `w7.ws.inflate.${key}` });
    rows.push({ ...base, id: `w7.ws.inflate.${key}`, label: `inflate ${what} (ws)`, impl: 'ws', medianMs: dWs.median });
  }
  rows.push(...await loopback(pkg, chat, ctx.quick ? 3 : 6));
  if (!ctx.quick) rows.push(...await loopbackMany(pkg, chat, 1000, 10));
  return rows;
}

/** 1,000 connections, each echoing 10 chat messages at once; time until every echo is back. */
async function loopbackMany(pkg, chat, conns, perConn) {
  const { WebSocketServer, WebSocket } = require('ws');
  const deflate = { threshold: 0 };
  const messages = chat.slice(0, perConn);
  const total = conns * perConn;
  const bytes = conns * messages.reduce((s, m) => s + m.length, 0);
  async function run(kind) {
    let port, closeServer;
    if (kind === 'ours') {
      const server = createServer();
      server.on('upgrade', (req, socket, head) => {
        const s = pkg.accept(req, socket, head, { perMessageDeflate: deflate });
        s?.on('message', (d, binary) => s.send(d, { binary }));
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', 4096, r));
      port = server.address().port;
      closeServer = () => server.close();
    } else {
      const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', backlog: 4096, perMessageDeflate: deflate });
      wss.on('connection', (s) => s.on('message', (d, binary) => s.send(d, { binary })));
      await new Promise((r) => wss.once('listening', r));
      port = wss.address().port;
      closeServer = () => wss.close();
    }
    const clients = [];
    for (let i = 0; i < conns; i += 100) {
      clients.push(...await Promise.all(Array.from({ length: Math.min(100, conns - i) }, () => new Promise((resolve, reject) => {
        // readMode 'data' for our clients: with 1,000 'onread' client sockets in one
        // process a few reads fail with ENOBUFS (seen at 4bb674e too, without compression).
        const c = kind === 'ours' ? pkg.connect(`ws://127.0.0.1:${port}`, { perMessageDeflate: deflate, readMode: 'data' }) : new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: deflate });
        c.once('open', () => resolve(c));
        c.once('error', reject);
      }))));
    }
    const round = () => new Promise((resolve) => {
      let got = 0;
      const on = () => { if (++got === total) { for (const c of clients) c.off('message', on); resolve(); } };
      for (const c of clients) c.on('message', on);
      for (const c of clients) for (const m of messages) c.send(m, { binary: false });
    });
    const m = await measureAsync(round, { n: 3, warmup: 1 });
    for (const c of clients) c.terminate();
    closeServer();
    return m.median;
  }
  const ours = await run('ours');
  const ws = await run('ws');
  const base = { group: 'w7', bytes, messages: total, gated: false, targets: [], clock: 'wall' };
  return [
    { ...base, id: 'w7.ours.loopback.chat1000', label: `loopback echo, ${conns} conns × ${perConn} chat msgs, deflate (wsframe)`, impl: 'wsframe', medianMs: ours, vs: 'w7.ws.loopback.chat1000' },
    { ...base, id: 'w7.ws.loopback.chat1000', label: `loopback echo, ${conns} conns × ${perConn} chat msgs, deflate (ws)`, impl: 'ws', medianMs: ws },
  ];
}

/** Echo of the chat messages over one connection, compression on at both ends. */
async function loopback(pkg, chat, n) {
  const { WebSocketServer, WebSocket } = require('ws');
  const total = chat.reduce((s, m) => s + m.length, 0);
  const deflate = { threshold: 0 };
  // wsframe <-> wsframe
  const server = createServer();
  server.on('upgrade', (req, socket, head) => {
    const s = pkg.accept(req, socket, head, { perMessageDeflate: deflate });
    s?.on('message', (d, binary) => s.send(d, { binary }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const client = pkg.connect(`ws://127.0.0.1:${server.address().port}`, { perMessageDeflate: deflate });
  await new Promise((r) => client.once('open', r));
  if (!client.extensions.startsWith('permessage-deflate')) throw new Error('w7 loopback: not negotiated');
  const roundOurs = () => new Promise((resolve) => {
    let got = 0;
    const on = () => { if (++got === chat.length) { client.off('message', on); resolve(); } };
    client.on('message', on);
    for (const m of chat) client.send(m, { binary: false });
  });
  const mOurs = await measureAsync(roundOurs, { n, warmup: 1 });
  client.terminate();
  server.close();
  // ws <-> ws
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: deflate });
  wss.on('connection', (s) => s.on('message', (d, binary) => s.send(d, { binary })));
  await new Promise((r) => wss.once('listening', r));
  const c = new WebSocket(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: deflate });
  await new Promise((r) => c.once('open', r));
  const roundWs = () => new Promise((resolve) => {
    let got = 0;
    const on = () => { if (++got === chat.length) { c.off('message', on); resolve(); } };
    c.on('message', on);
    for (const m of chat) c.send(m, { binary: false });
  });
  const mWs = await measureAsync(roundWs, { n, warmup: 1 });
  c.terminate();
  wss.close();
  const base = { group: 'w7', bytes: total, messages: chat.length, gated: false, targets: [], clock: 'wall' };
  return [
    { ...base, id: 'w7.ours.loopback.chat', label: `loopback echo, ${chat.length} chat msgs, deflate both ways (wsframe)`, impl: 'wsframe', medianMs: mOurs.median, vs: 'w7.ws.loopback.chat' },
    { ...base, id: 'w7.ws.loopback.chat', label: `loopback echo, ${chat.length} chat msgs, deflate both ways (ws)`, impl: 'ws', medianMs: mWs.median },
  ];
}
