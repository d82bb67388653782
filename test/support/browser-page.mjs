// Runs inside headless Chromium (served by the test's http server, imported by
// the page). Only the browser's own WebSocket is used; results come back to
// Node as small JSON objects through page.evaluate().
import { binaryPayload, textPayload } from '/payload.mjs';

function open(url, protocols) {
  return new Promise((resolve, reject) => {
    const ws = protocols ? new WebSocket(url, protocols) : new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => resolve(ws);
    ws.onclose = (e) => reject(new Error(`closed before open: ${e.code} ${e.reason}`));
  });
}

function closed(ws) {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) resolve({ code: -1, reason: 'already closed', wasClean: false });
    ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean }));
  });
}

function compare(kind, got, expected) {
  if (kind === 'text') {
    if (typeof got !== 'string') return `expected a text message, got ${Object.prototype.toString.call(got)}`;
    if (got.length !== expected.length) return `text length ${got.length} != ${expected.length}`;
    if (got !== expected) {
      for (let i = 0; i < got.length; i++) if (got.charCodeAt(i) !== expected.charCodeAt(i)) return `text differs at UTF-16 unit ${i}`;
    }
    return true;
  }
  if (!(got instanceof ArrayBuffer)) return `expected a binary message, got ${typeof got}`;
  const a = new Uint8Array(got);
  if (a.length !== expected.length) return `binary length ${a.length} != ${expected.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== expected[i]) return `binary differs at byte ${i}`;
  return true;
}

/** Open, send one message of `kind`/`size`, check the echo byte for byte, close 1000. */
export async function echo(url, kind, size) {
  const ws = await open(url);
  const expected = kind === 'binary' ? binaryPayload(size) : textPayload(size, 7, size >= 1024 * 1024);
  const done = closed(ws);
  const got = await new Promise((resolve, reject) => {
    ws.onmessage = (e) => resolve(e.data);
    done.then((c) => reject(new Error(`closed while waiting for the echo: ${c.code} ${c.reason}`)));
    ws.send(expected);
  });
  const ok = compare(kind, got, expected);
  ws.close(1000, 'done');
  const c = await done;
  return { ok, extensions: ws.extensions, close: c };
}

/** Open and wait for the server to close; optionally send `message` first. */
export async function awaitClose(url, { message, size, closeWith } = {}) {
  const ws = await open(url);
  const done = closed(ws);
  if (message !== undefined) ws.send(message);
  if (size !== undefined) ws.send(binaryPayload(size));
  if (closeWith) ws.close(...closeWith);
  return done;
}

/** Open with subprotocols, report what was negotiated. */
export async function negotiate(url, protocols) {
  const ws = await open(url, protocols);
  const result = { protocol: ws.protocol, extensions: ws.extensions };
  const done = closed(ws);
  ws.close(1000);
  await done;
  return result;
}

/** Open, stay open until the server says "done" (as text), then close. */
export async function idleUntilDone(url) {
  const ws = await open(url);
  const done = closed(ws);
  await new Promise((resolve) => { ws.onmessage = (e) => { if (e.data === 'done') resolve(); }; done.then(resolve); });
  ws.close(1000, 'ok');
  return done;
}
