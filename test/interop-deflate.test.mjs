// Interop with permessage-deflate (RFC 7692) negotiated: ws (client and
// server), python-websockets (client and server, compression on by default
// there) and headless Chromium (which offers "permessage-deflate;
// client_max_window_bits"). Every length class echoed both ways; our side
// compresses every message (threshold 0), the peers compress by their defaults.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, WebSocket as WsClient } from 'ws';
import { accept, connect } from 'wsframe';
import { findPython, runClient, startPythonServer } from './support/python.mjs';
import { SIZES, MiB, label, sameBytes, withTimeout, ourMessages, wsMessages } from './support/util.mjs';

const DEFLATE = { threshold: 0 };
const payloadFor = (kind, size, i = 0) => kind === 'binary'
  ? (size > 0 && i % 2 ? randomBytes(size) : Buffer.alloc(size, 0x5a ^ (size & 0xff)))
  : Buffer.from('wsframe compresses this text: €ü😀 '.repeat(Math.ceil(size / 38) + 1)).subarray(0, size);
/** Text cut at a byte length may split a code point: pad with ASCII to stay valid. */
const textOf = (size) => {
  const b = Buffer.from(payloadFor('text', size));
  let n = b.length;
  while (n > 0 && (b[n - 1] & 0x80) !== 0) n--;
  b.fill(0x2e, n);
  return b.toString();
};

/** Our accept() on an http server: echo with compression on. */
async function ourServer(options = { perMessageDeflate: DEFLATE, maxMessageSize: 32 * MiB }) {
  const server = createServer();
  const sockets = [];
  server.on('upgrade', (req, socket, head) => {
    const ws = accept(req, socket, head, options);
    if (!ws) return;
    sockets.push(ws);
    ws.on('error', () => {});
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `ws://127.0.0.1:${server.address().port}`, sockets, close: () => { for (const s of sockets) s.terminate(); return new Promise((r) => server.close(r)); } };
}

describe('permessage-deflate: ws client -> our server', () => {
  let srv;
  before(async () => { srv = await ourServer(); });
  after(() => srv.close());

  test('negotiated (ws offers by default), every length class echoed both ways compressed', async () => {
    const c = new WsClient(srv.url, { maxPayload: 64 * MiB, perMessageDeflate: { threshold: 0 } });
    const q = wsMessages(c);
    await withTimeout(new Promise((r) => c.once('open', r)), 5000, 'open');
    assert.equal(c.extensions, 'permessage-deflate');
    assert.equal(srv.sockets[0].extensions, 'permessage-deflate');
    for (const kind of ['text', 'binary']) {
      for (const size of SIZES) {
        for (let i = 0; i < 2; i++) {
          const data = kind === 'text' ? textOf(size) : payloadFor(kind, size, i);
          c.send(data, { binary: kind === 'binary' });
          const [got, binary] = await q.next(30000, `${kind} ${label(size)}`);
          assert.equal(binary, kind === 'binary');
          assert.equal(sameBytes(got, Buffer.from(data)), true, `${kind} ${label(size)}`);
        }
      }
    }
    c.close(1000);
    await new Promise((r) => c.once('close', r));
  });

  test('accept() declines by default (ws server default too): no extension', async () => {
    const plain = await ourServer({});
    const c = new WsClient(plain.url);
    await withTimeout(new Promise((r) => c.once('open', r)), 5000, 'open');
    assert.equal(c.extensions, '');
    c.close();
    await new Promise((r) => c.once('close', r));
    await plain.close();
  });

  test('ws client with server_no_context_takeover + server_max_window_bits=9 and client_no_context_takeover', async () => {
    const c = new WsClient(srv.url, { perMessageDeflate: { threshold: 0, serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 } });
    const q = wsMessages(c);
    await withTimeout(new Promise((r) => c.once('open', r)), 5000, 'open');
    assert.equal(srv.sockets.at(-1).extensions, 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9');
    for (let i = 0; i < 20; i++) {
      const data = textOf(3000 + i * 101);
      c.send(data);
      const [got] = await q.next(5000, `message ${i}`);
      assert.equal(got.toString(), data);
    }
    c.close();
    await new Promise((r) => c.once('close', r));
  });
});

describe('permessage-deflate: our client -> ws server', () => {
  let wss;
  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0 }, maxPayload: 64 * MiB });
    wss.on('connection', (s) => s.on('message', (d, b) => s.send(d, { binary: b })));
    await new Promise((r) => wss.once('listening', r));
  });
  after(() => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(r); }));

  for (const params of [{}, { serverNoContextTakeover: true, clientNoContextTakeover: true }, { serverMaxWindowBits: 10, clientMaxWindowBits: 8 }]) {
    test(`connect() offers by default; echo of every length class both ways (${JSON.stringify(params)})`, async () => {
      const ws = connect(`ws://127.0.0.1:${wss.address().port}`, { perMessageDeflate: { ...DEFLATE, ...params }, maxMessageSize: 32 * MiB });
      const q = ourMessages(ws);
      await withTimeout(new Promise((r) => ws.once('open', r)), 5000, 'open');
      assert.match(ws.extensions, /^permessage-deflate/);
      for (const kind of ['text', 'binary']) {
        for (const size of SIZES) {
          const data = kind === 'text' ? textOf(size) : payloadFor(kind, size, size);
          ws.send(data, { binary: kind === 'binary' });
          const [got, binary] = await q.next(30000, `${kind} ${label(size)}`);
          assert.equal(binary, kind === 'binary');
          assert.equal(sameBytes(got, Buffer.from(data)), true, `${kind} ${label(size)}`);
        }
      }
      ws.close(1000);
      await new Promise((r) => ws.once('close', r));
    });
  }
});

// ---------------------------------------------------------------------------- python-websockets
const py = findPython();
const pyIt = (name, fn, timeout = 90000) => test(name, { timeout }, (t) => (py.missing ? t.skip(py.missing) : fn(t)));

describe('permessage-deflate: python-websockets', () => {
  pyIt('python client (compression on by default) -> our server: negotiated, 0 B to 1 MiB echoed', async () => {
    const srv = await ourServer();
    try {
      const r = await runClient(py.python, ['echo', `${srv.url}/echo`], 80000);
      assert.deepEqual(r.out.find((l) => l.extensions)?.extensions, ['PerMessageDeflate']);
      const cases = r.out.filter((l) => l.case);
      assert.equal(cases.length, 14, r.stderr.slice(-500));
      for (const c of cases) assert.deepEqual([c.case, c.type_ok, c.diff], [c.case, true, null]);
      assert.equal(r.out.find((l) => l.done)?.done.code, 1000);
    } finally {
      await srv.close();
    }
  });

  pyIt('our client -> python server (compression on by default): negotiated, echo both ways', async () => {
    const srv = await startPythonServer(py.python);
    try {
      const ws = connect(`${srv.url}/echo/1`, { perMessageDeflate: DEFLATE, maxMessageSize: 32 * MiB });
      const q = ourMessages(ws);
      await withTimeout(new Promise((r) => ws.once('open', r)), 5000, 'open');
      assert.match(ws.extensions, /^permessage-deflate/);
      for (const kind of ['text', 'binary']) {
        for (const size of SIZES.filter((s) => s <= MiB)) {
          const data = kind === 'text' ? textOf(size) : payloadFor(kind, size, 1);
          ws.send(data, { binary: kind === 'binary' });
          const [got, binary] = await q.next(30000, `${kind} ${label(size)}`);
          assert.equal(binary, kind === 'binary');
          assert.equal(sameBytes(got, Buffer.from(data)), true, `${kind} ${label(size)}`);
        }
      }
      ws.close(1000);
      await new Promise((r) => ws.once('close', r));
    } finally {
      await srv.close();
    }
  });
});

// ---------------------------------------------------------------------------- Chromium
const CHROMIUM = '/usr/bin/chromium';
const noChromium = existsSync(CHROMIUM) ? null : `chromium not installed: ${CHROMIUM} is missing`;

describe('permessage-deflate: Chromium -> our server', () => {
  let browser;
  let page;
  let srv;
  let http;
  before(async () => {
    if (noChromium) return;
    srv = await ourServer();
    // The page and its modules come from a plain http server; WebSockets go to `srv`.
    const files = {
      '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>deflate</title>'],
      '/payload.mjs': ['text/javascript', readFileSync(new URL('./support/payload.mjs', import.meta.url))],
      '/browser-page.mjs': ['text/javascript', readFileSync(new URL('./support/browser-page.mjs', import.meta.url))],
    };
    http = createServer((req, res) => {
      const f = files[req.url];
      if (!f) return res.writeHead(404).end();
      res.writeHead(200, { 'content-type': f[0], 'cache-control': 'no-store' }).end(f[1]);
    });
    await new Promise((r) => http.listen(0, '127.0.0.1', r));
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'], timeout: 30000 });
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${http.address().port}/`, { timeout: 10000 });
  }, { timeout: 45000 });
  after(async () => {
    await browser?.close();
    await srv?.close();
    await new Promise((r) => (http ? http.close(r) : r()));
  });

  for (const kind of ['binary', 'text']) {
    for (const size of SIZES) {
      test(`Chromium echo ${kind} ${label(size)} with permessage-deflate`, { timeout: 90000 }, async (t) => {
        if (noChromium) return t.skip(noChromium);
        const r = await withTimeout(page.evaluate(async ([u, k, s]) => (await import('/browser-page.mjs')).echo(u, k, s), [`${srv.url}/echo`, kind, size]), 80000, 'page echo');
        assert.equal(r.ok, true, String(r.ok));
        assert.equal(r.extensions, 'permessage-deflate');
        assert.deepEqual([r.close.code, r.close.wasClean], [1000, true]);
      });
    }
  }
});

