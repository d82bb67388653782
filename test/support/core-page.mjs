// Runs inside headless Chromium, served with dist/core/ as /core/ and no
// bundler: proves the runtime-neutral core loads and works where Node does
// not (no process, no Buffer, no node: modules). Results go back to Node as
// small JSON objects through page.evaluate().
import * as core from '/core/index.js';

/** 4 MiB of a fixed pattern, as Autobahn case 9.4.3 sends it. */
function referencePayload() {
  const payload = new Uint8Array(4 * 2 ** 20);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
  return payload;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Case 9.4.3: 4 MiB as 4096 masked 1 KiB fragments, decoded by a server-role decoder in 64 KiB chunks. */
export async function decodeReferenceCase() {
  await core.init();
  const payload = referencePayload();
  const frames = new core.Encoder({ role: 'client' }).message(payload, { binary: true, fragmentSize: 1024 });
  const wire = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) { wire.set(f, at); at += f.length; }
  const messages = [];
  const decoder = new core.Decoder({ role: 'server', onMessage: (data, binary) => messages.push({ ok: sameBytes(data, payload), binary, length: data.length }) });
  for (let off = 0; off < wire.length; off += 65536) decoder.push(wire.subarray(off, off + 65536));
  return { wireBytes: wire.length, messages, frames: decoder.stats.frames, hasProcess: typeof process !== 'undefined', hasBuffer: typeof Buffer !== 'undefined' };
}

const text = new TextEncoder();
const latin1 = new TextDecoder('latin1');

/** A minimal HTTP/1.1 request-head parser: the page has no HTTP stack of its own. */
function parseRequestHead(bytes) {
  const head = latin1.decode(bytes);
  const end = head.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [requestLine, ...lines] = head.slice(0, end).split('\r\n');
  const [method, path, version] = requestLine.split(' ');
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method, path, httpVersion: version.replace('HTTP/', ''), headers, headBytes: end + 4 };
}

/**
 * A client Connection and a server Connection wired back to back in the page:
 * the opening handshake (built and checked with the sans-I/O helpers), a
 * message echoed by the server, and a closing handshake started by the client.
 */
export async function connectionRoundTrip() {
  await core.init();
  const log = [];
  const wires = { toServer: [], toClient: [] };
  const timers = [];
  let server;
  const client = new core.Connection({
    role: 'client',
    onWrite: (chunks) => wires.toServer.push(...chunks.map((c) => c.slice())),
    onShutdown: (how) => log.push(`client shutdown ${how}`),
    onTimer: (kind, ms) => { if (ms > 0) timers.push(kind); },
    onMessage: (data, binary) => log.push(`client message ${binary ? 'binary' : 'text'} ${new TextDecoder().decode(data)}`),
    onPeerClose: (code, reason) => log.push(`client peer close ${code} ${reason}`),
    onClosed: (code, reason, wasClean) => log.push(`client closed ${code} ${reason} ${wasClean}`),
  });

  // Opening handshake (RFC 6455 §4): request from the client, 101 from the server.
  const { request, key } = core.buildUpgradeRequest({ host: 'example.test', path: '/chat', protocols: ['chat.v1'] });
  const parsedRequest = parseRequestHead(text.encode(request));
  const validation = core.validateUpgradeRequest(parsedRequest);
  if (!validation.ok) return { error: validation.reason };
  const protocol = core.selectSubprotocol(validation.protocols, ['chat.v1']);
  const response = core.buildAcceptResponse({ key: validation.key, protocol });
  const head = core.parseResponseHead(text.encode(response));
  const verdict = core.verifyUpgradeResponse(head, key, ['chat.v1']);
  if (!verdict.ok) return { error: verdict.reason };
  log.push(`handshake ${head.statusCode} ${verdict.protocol} ${head.headers['sec-websocket-accept'] === core.acceptKey(key)}`);

  server = new core.Connection({
    role: 'server',
    open: true,
    onWrite: (chunks) => wires.toClient.push(...chunks.map((c) => c.slice())),
    onShutdown: (how) => log.push(`server shutdown ${how}`),
    onMessage: (data, binary) => { log.push('server message'); server.send(data, binary); },
    onPeerClose: (code, reason) => log.push(`server peer close ${code} ${reason}`),
    onClosed: (code, reason, wasClean) => log.push(`server closed ${code} ${reason} ${wasClean}`),
  });
  client.open();

  const pump = () => {
    while (wires.toServer.length || wires.toClient.length) {
      for (const chunk of wires.toServer.splice(0)) server.push(chunk);
      for (const chunk of wires.toClient.splice(0)) client.push(chunk);
    }
  };
  client.send('hello from the page ✓');
  pump();
  client.close(1000, 'bye');
  pump();
  // The transports go away: the server closed first (§7.1.1), then the client saw it.
  server.transportClosed();
  client.transportClosed();
  return { log, states: [client.state, server.state], timers };
}
