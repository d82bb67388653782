// Interop with headless Chromium (Debian's `chromium`, driven by playwright-core):
// the page's own `new WebSocket(...)` talks to our accept() over 127.0.0.1. One
// browser for the whole file. Issue #4.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { startServer, echo, SUBJECT } from './support/subject.mjs';
import { SIZES, MiB, KiB, label, withTimeout } from './support/util.mjs';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? null : `chromium not installed: ${CHROMIUM} is missing (apt-get install chromium)`;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const files = {
  '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>wsframe interop</title><p>wsframe interop</p>'],
  '/payload.mjs': ['text/javascript', readFileSync(new URL('./support/payload.mjs', import.meta.url))],
  '/browser-page.mjs': ['text/javascript', readFileSync(new URL('./support/browser-page.mjs', import.meta.url))],
};
function serveFile(req, res) {
  const f = files[req.url];
  if (!f) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': f[0], 'cache-control': 'no-store' }).end(f[1]);
}

// What our server does, by the first path segment of the WebSocket URL.
const routes = {
  echo: { options: { maxMessageSize: 32 * MiB }, on: echo },
  echofrag: { options: { maxMessageSize: 32 * MiB }, on: (ws) => ws.on('message', (data, binary) => ws.send(data, { binary, fragmentSize: 4096 })) },
  small: { options: { maxMessageSize: 64 * KiB }, on: echo },
  close1000: { on: (ws) => setTimeout(() => ws.close(1000, 'normal bye'), 50) },
  close4000: { on: (ws) => setTimeout(() => ws.close(4000, 'app close ✓'), 50) },
  peerclose: { on: () => {} },
  proto: { options: { protocols: ['v1.wsframe'] }, on: () => {} },
  ping: {
    on: (ws) => {
      ws.pongs = [];
      ws.on('pong', (p) => { ws.pongs.push(Buffer.from(p).toString()); ws.send('done'); });
      setTimeout(() => ws.ping(Buffer.from('are you there, chromium?')), 50);
    },
  },
};
const route = (req) => routes[req.url.split('/')[1]] ?? { on: () => {} };

describe(`our server <- Chromium (subject: ${SUBJECT})`, () => {
  let srv;
  let browser;
  let page;
  const pageErrors = [];
  let n = 0;
  const path = (name) => `/${name}/${++n}`;

  before(async () => {
    if (missing) return;
    const { chromium } = await import('playwright-core');
    srv = await startServer({ onRequest: serveFile, options: (req) => route(req).options ?? {}, onConnection: (ws, req) => route(req).on(ws) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30000 });
    page = await browser.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`http://127.0.0.1:${srv.port}/`, { timeout: 10000 });
  }, { timeout: 45000 });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  /** Run a function exported by browser-page.mjs inside the page. */
  const inPage = (fn, args, ms = 20000) => withTimeout(
    page.evaluate(async ([name, a]) => (await import('/browser-page.mjs'))[name](...a), [fn, args]),
    ms, `page ${fn}(${JSON.stringify(args).slice(0, 80)})`);
  const it = (name, fn, timeout = 30000) => test(name, { timeout }, async (t) => {
    if (missing) return t.skip(missing);
    await fn(t);
    assert.deepEqual(pageErrors, [], 'no errors in the page');
  });

  it('the browser is up', async (t) => {
    t.diagnostic(`Chromium ${browser.version()}`);
  });

  for (const kind of ['binary', 'text']) {
    for (const size of SIZES) {
      it(`echo ${kind} ${label(size)} byte for byte`, async () => {
        const p = path('echo');
        const r = await inPage('echo', [`${srv.url}${p}`, kind, size], size >= 16 * MiB ? 60000 : 20000);
        assert.equal(r.ok, true, `${kind} ${size}: ${r.ok}`);
        assert.equal(r.extensions, '', 'permessage-deflate offered by Chromium must be declined');
        // §5.5.1: the reply "typically echos the status code"; echoing the reason is optional.
        assert.deepEqual([r.close.code, r.close.wasClean], [1000, true], `our server echoes the close and ends TCP cleanly: ${JSON.stringify(r.close)}`);
        const conn = await srv.connectionFor(p);
        await withTimeout(conn.closed, 5000, 'server close event');
        assert.deepEqual(conn.errors, []);
      }, size >= 16 * MiB ? 90000 : 30000);
    }
  }

  for (const [kind, size] of [['text', 4097], ['text', 65537], ['binary', MiB + 1]]) {
    it(`our server fragments its echo (fragmentSize 4096): ${kind} ${size} B reassembled by Chromium`, async () => {
      const r = await inPage('echo', [`${srv.url}${path('echofrag')}`, kind, size]);
      assert.equal(r.ok, true, String(r.ok));
    });
  }

  it('our server closes with 1000 and a reason', async () => {
    const r = await inPage('awaitClose', [`${srv.url}${path('close1000')}`]);
    assert.deepEqual(r, { code: 1000, reason: 'normal bye', wasClean: true });
  });

  it('our server closes with application code 4000 and a UTF-8 reason', async () => {
    const r = await inPage('awaitClose', [`${srv.url}${path('close4000')}`]);
    assert.deepEqual(r, { code: 4000, reason: 'app close ✓', wasClean: true });
  });

  it('Chromium closes with 4001: our server reports it and echoes the code', async () => {
    const p = path('peerclose');
    const r = await inPage('awaitClose', [`${srv.url}${p}`, { closeWith: [4001, 'page leaves'] }]);
    assert.deepEqual([r.code, r.wasClean], [4001, true], `our server echoes the status code: ${JSON.stringify(r)}`);
    const conn = await srv.connectionFor(p);
    assert.deepEqual(await withTimeout(conn.closed, 5000, 'server close event'), { code: 4001, reason: 'page leaves' });
    assert.equal(conn.closes.length, 1);
  });

  it('Chromium closes without a status code: our server reports 1005 and answers', async () => {
    const p = path('peerclose');
    const r = await inPage('awaitClose', [`${srv.url}${p}`, { closeWith: [] }]);
    assert.ok([1000, 1005].includes(r.code) && r.wasClean, `page close event: ${JSON.stringify(r)}`);
    const conn = await srv.connectionFor(p);
    assert.equal((await withTimeout(conn.closed, 5000, 'server close event')).code, 1005, 'no status code received: 1005 (§7.1.5)');
  });

  it('Chromium sends more than maxMessageSize -> the page sees 1009', async () => {
    const r = await inPage('awaitClose', [`${srv.url}${path('small')}`, { size: 64 * KiB + 1 }]);
    assert.equal(r.code, 1009, JSON.stringify(r));
  });

  it('subprotocol negotiation picks the server\'s choice among the offered ones', async () => {
    const p = path('proto');
    const r = await inPage('negotiate', [`${srv.url}${p}`, ['v2.wsframe', 'v1.wsframe']]);
    assert.deepEqual(r, { protocol: 'v1.wsframe', extensions: '' });
    assert.equal((await srv.connectionFor(p)).protocol, 'v1.wsframe');
  });

  it('our server pings, Chromium answers with a pong carrying the payload', async () => {
    const p = path('ping');
    const r = await inPage('idleUntilDone', [`${srv.url}${p}`]);
    assert.equal(r.code, 1000, JSON.stringify(r));
    assert.deepEqual((await srv.connectionFor(p)).pongs, ['are you there, chromium?']);
  });
});
