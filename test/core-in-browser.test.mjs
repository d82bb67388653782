// The runtime-neutral core (wsframe/codec, dist/core) loaded as plain ES
// modules in headless Chromium with no bundler: the reference case decodes
// and a Connection runs an opening handshake, an echo and a closing handshake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? null : `chromium not installed: ${CHROMIUM} is missing (apt-get install chromium)`;
const CORE_DIR = fileURLToPath(new URL('../dist/core/', import.meta.url));

let server;
let browser;
let page;
const pageErrors = [];

function serve(req, res) {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><meta charset="utf-8"><title>core</title>');
  if (url.pathname === '/core-page.mjs') {
    return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(new URL('./support/core-page.mjs', import.meta.url)));
  }
  if (url.pathname.startsWith('/core/')) {
    const file = path.join(CORE_DIR, url.pathname.slice('/core/'.length));
    if (file.startsWith(CORE_DIR) && file.endsWith('.js') && existsSync(file)) {
      return res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(file));
    }
  }
  res.writeHead(404).end();
}

before(async () => {
  if (missing) return;
  server = createServer(serve);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'], timeout: 30000 });
  page = await browser.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`, { timeout: 10000 });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

test('wsframe/codec decodes the reference case (9.4.3) in Chromium, where there is no process or Buffer', { skip: missing ?? false, timeout: 60000 }, async () => {
  const result = await page.evaluate(async () => (await import('/core-page.mjs')).decodeReferenceCase());
  assert.equal(result.hasProcess, false);
  assert.equal(result.hasBuffer, false);
  assert.equal(result.frames, 4096);
  assert.equal(result.wireBytes, 4 * 2 ** 20 + 4096 * 8);
  assert.deepEqual(result.messages, [{ ok: true, binary: true, length: 4 * 2 ** 20 }]);
  assert.deepEqual(pageErrors, []);
});

test('a Connection runs the opening handshake, an echo and the closing handshake in Chromium', { skip: missing ?? false, timeout: 60000 }, async () => {
  const result = await page.evaluate(async () => (await import('/core-page.mjs')).connectionRoundTrip());
  assert.equal(result.error, undefined);
  assert.deepEqual(result.log, [
    'handshake 101 chat.v1 true',
    'server message',
    'client message text hello from the page ✓',
    'server peer close 1000 bye',
    'server shutdown end',
    'client peer close 1000 bye',
    'server closed 1000 bye true',
    'client closed 1000 bye true',
  ]);
  assert.deepEqual(result.states, ['CLOSED', 'CLOSED']);
  assert.deepEqual(pageErrors, []);
});
