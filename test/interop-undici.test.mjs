// Interop with undici's WHATWG WebSocket client (the one behind Node's global
// WebSocket) against our accept(), over 127.0.0.1. Issue #4.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'undici';
import { startServer, echo, SUBJECT } from './support/subject.mjs';
import { binaryPayload, textPayload, textBytes } from './support/payload.mjs';
import { SIZES, MiB, KiB, label, sameBytes, withTimeout } from './support/util.mjs';

function open(url, protocols) {
  const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  ws.closed = new Promise((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean })));
  ws.errors = [];
  ws.addEventListener('error', (e) => ws.errors.push(e.error?.message ?? e.message ?? 'error'));
  return withTimeout(new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(ws));
    ws.closed.then((c) => reject(new Error(`undici: closed before open: ${JSON.stringify(c)} ${ws.errors}`)));
  }), 5000, `undici open ${url}`);
}

function nextMessage(ws, ms, what) {
  return withTimeout(new Promise((resolve, reject) => {
    ws.addEventListener('message', (e) => resolve(e.data), { once: true });
    ws.closed.then((c) => reject(new Error(`closed while waiting for ${what}: ${JSON.stringify(c)}`)));
  }), ms, what);
}

const routes = {
  echo: { options: { maxMessageSize: 32 * MiB }, on: echo },
  echofrag: { options: { maxMessageSize: 32 * MiB }, on: (ws) => ws.on('message', (data, binary) => ws.send(data, { binary, fragmentSize: 4096 })) },
  small: { options: { maxMessageSize: 64 * KiB }, on: echo },
  close1000: { on: (ws) => setTimeout(() => ws.close(1000, 'normal bye'), 20) },
  close4000: { on: (ws) => setTimeout(() => ws.close(4000, 'app close'), 20) },
  proto: { options: { protocols: ['mqtt', 'v1.wsframe'] }, on: () => {} },
  idle: { on: () => {} },
};
const route = (req) => routes[req.url.split('/')[1]] ?? routes.idle;

describe(`our server <- undici WebSocket (subject: ${SUBJECT})`, () => {
  let srv;
  let n = 0;
  const path = (name) => `/${name}/${++n}`;
  before(async () => {
    srv = await startServer({ options: (req) => route(req).options ?? {}, onConnection: (ws, req) => route(req).on(ws) });
  });
  after(() => srv?.close());

  for (const binary of [true, false]) {
    for (const size of SIZES) {
      test(`echo ${binary ? 'binary' : 'text'} ${label(size)}`, { timeout: 30000 }, async () => {
        const p = path('echo');
        const ws = await open(`${srv.url}${p}`);
        try {
          assert.equal(ws.extensions, '', 'permessage-deflate offered by undici must be declined');
          ws.send(binary ? binaryPayload(size) : textPayload(size));
          const data = await nextMessage(ws, 20000, `echo of ${label(size)}`);
          if (binary) {
            assert.ok(data instanceof ArrayBuffer, 'binary echoed as binary');
            assert.equal(sameBytes(new Uint8Array(data), binaryPayload(size)), true);
          } else {
            assert.equal(typeof data, 'string', 'text echoed as text');
            assert.equal(sameBytes(Buffer.from(data), textBytes(size)), true);
          }
          ws.close(1000, 'done');
          // §5.5.1: the reply "typically echos the status code"; echoing the reason is optional.
          const c = await withTimeout(ws.closed, 5000, 'undici close');
          assert.deepEqual([c.code, c.wasClean], [1000, true], JSON.stringify(c));
          const conn = await srv.connectionFor(p);
          assert.deepEqual(await withTimeout(conn.closed, 5000, 'server close event'), { code: 1000, reason: 'done' });
          assert.deepEqual(conn.errors, []);
        } finally {
          if (ws.readyState !== WebSocket.CLOSED) ws.close();
        }
      });
    }
  }

  test('our server fragments its echoes (fragmentSize 4096): undici reassembles text and binary', { timeout: 20000 }, async () => {
    const ws = await open(`${srv.url}${path('echofrag')}`);
    for (const [size, binary] of [[1, true], [4096, false], [4097, true], [MiB + 1, false], [MiB + 1, true]]) {
      ws.send(binary ? binaryPayload(size, 3) : textPayload(size, 3));
      const data = await nextMessage(ws, 10000, `fragmented echo of ${size}`);
      if (binary) assert.equal(sameBytes(new Uint8Array(data), binaryPayload(size, 3)), true, `binary ${size}`);
      else assert.equal(sameBytes(Buffer.from(data), textBytes(size, 3)), true, `text ${size}`);
    }
    ws.close(1000);
    await withTimeout(ws.closed, 5000, 'undici close');
  });

  test('our server closes with 1000 and a reason', { timeout: 10000 }, async () => {
    const ws = await open(`${srv.url}${path('close1000')}`);
    assert.deepEqual(await withTimeout(ws.closed, 5000, 'undici close'), { code: 1000, reason: 'normal bye', wasClean: true });
  });

  test('our server closes with application code 4000', { timeout: 10000 }, async () => {
    const ws = await open(`${srv.url}${path('close4000')}`);
    assert.deepEqual(await withTimeout(ws.closed, 5000, 'undici close'), { code: 4000, reason: 'app close', wasClean: true });
  });

  test('undici closes with 4001: our server reports it and echoes the code', { timeout: 10000 }, async () => {
    const p = path('idle');
    const ws = await open(`${srv.url}${p}`);
    ws.close(4001, 'undici leaves');
    const c = await withTimeout(ws.closed, 5000, 'undici close');
    assert.deepEqual([c.code, c.wasClean], [4001, true], `our server echoes the status code: ${JSON.stringify(c)}`);
    const conn = await srv.connectionFor(p);
    assert.deepEqual(await withTimeout(conn.closed, 5000, 'server close event'), { code: 4001, reason: 'undici leaves' });
    assert.equal(conn.closes.length, 1);
  });

  test('undici sends more than maxMessageSize -> undici sees 1009', { timeout: 10000 }, async () => {
    const ws = await open(`${srv.url}${path('small')}`);
    ws.send(binaryPayload(64 * KiB + 1));
    assert.equal((await withTimeout(ws.closed, 5000, 'undici close')).code, 1009);
  });

  test('subprotocol negotiation', { timeout: 10000 }, async () => {
    const p = path('proto');
    const ws = await open(`${srv.url}${p}`, ['v2.wsframe', 'v1.wsframe']);
    assert.equal(ws.protocol, 'v1.wsframe');
    assert.equal((await srv.connectionFor(p)).protocol, 'v1.wsframe');
    ws.close();
    await withTimeout(ws.closed, 5000, 'undici close');
  });

  test('our server pings; undici answers with a pong carrying the payload', { timeout: 10000 }, async () => {
    const p = path('idle');
    const ws = await open(`${srv.url}${p}`);
    const conn = await srv.connectionFor(p);
    const pong = withTimeout(new Promise((resolve) => conn.once('pong', (d) => resolve(Buffer.from(d).toString()))), 5000, 'pong');
    conn.ping(Buffer.from('undici?'));
    assert.equal(await pong, 'undici?');
    ws.close();
    await withTimeout(ws.closed, 5000, 'undici close');
  });
});
