// The subject under test: wsframe's Node glue, imported through the package's
// self-reference (works after `npm run build`). Setting
// WSFRAME_INTEROP_SUBJECT=ws swaps in ./ws-shim.mjs, an adapter giving the `ws`
// library the same accept()/connect() shape; that control run proves the peer
// side of these tests (browser, Python, raw sockets) independently of our code.
import http from 'node:http';
import { withTimeout, ourMessages } from './util.mjs';

const useShim = process.env.WSFRAME_INTEROP_SUBJECT === 'ws';
const mod = useShim ? await import('./ws-shim.mjs') : await import('wsframe');
export const { accept, connect, Decoder } = mod;
export const SUBJECT = useShim ? 'ws (control run)' : 'wsframe';

export function echo(ws) {
  ws.on('message', (data, binary) => ws.send(data, { binary }));
}

/** Record everything a connection emits, so tests can assert on counts afterwards. */
export function track(ws, { errorListener = true } = {}) {
  ws.events = [];
  ws.errors = [];
  ws.closes = [];
  ws.pings = [];
  ws.on('ping', (p) => ws.pings.push(Buffer.from(p).toString()));
  if (errorListener) ws.on('error', (err) => { ws.errors.push(err); ws.events.push(['error', err]); });
  ws.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
    ws.closes.push({ code, reason: String(reason) });
    ws.events.push(['close', code, String(reason)]);
    resolve({ code, reason: String(reason) });
  }));
  return ws;
}

/**
 * An http.Server on 127.0.0.1:0 whose 'upgrade' handler calls accept(). Every
 * accepted connection is tracked and handed to onConnection (default: echo).
 */
export async function startServer({ options = {}, onConnection = echo, onRequest, errorListener = true } = {}) {
  const server = http.createServer(onRequest ?? ((req, res) => { res.writeHead(404).end(); }));
  const connections = [];
  const pending = [];
  server.on('upgrade', (req, socket, head) => {
    const ws = accept(req, socket, head, typeof options === 'function' ? options(req) : options);
    if (!ws) return;
    ws.req = req;
    track(ws, { errorListener });
    connections.push(ws);
    onConnection(ws, req);
    for (const poll of pending.splice(0)) poll();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  let seen = 0;
  return {
    server,
    port,
    url: `ws://127.0.0.1:${port}`,
    connections,
    /** The next connection accepted after the previous call (in order). */
    nextConnection(ms = 5000) {
      const index = seen++;
      return withTimeout(new Promise((resolve) => {
        const poll = () => (connections[index] ? resolve(connections[index]) : pending.push(poll));
        poll();
      }), ms, 'server-side connection');
    },
    /** The connection whose request path is `path` (use a unique path per test). */
    connectionFor(path, ms = 5000) {
      return withTimeout(new Promise((resolve) => {
        const poll = () => {
          const ws = connections.find((c) => c.req.url === path);
          if (ws) resolve(ws); else pending.push(poll);
        };
        poll();
      }), ms, `server-side connection for ${path}`);
    },
    getConnections: () => new Promise((resolve, reject) => server.getConnections((e, n) => (e ? reject(e) : resolve(n)))),
    async close() {
      for (const ws of connections) if (ws.readyState !== 'CLOSED') ws.terminate();
      server.closeAllConnections();
      await withTimeout(new Promise((resolve) => server.close(resolve)), 5000, 'http server close');
    },
  };
}

/**
 * connect() plus tracking; resolves once 'open' fired (rejects on close/error first).
 * `ws.messages` queues messages from the start: a peer may send frames in the same
 * TCP segment as its 101, and those are emitted right after 'open', before code
 * awaiting 'open' resumes (the `ws` library behaves the same way).
 */
export async function connectOpen(url, options = {}, ms = 5000) {
  const ws = track(connect(url, options));
  ws.messages = ourMessages(ws);
  await withTimeout(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', (err) => reject(new Error(`connect(${url}) failed: ${err.message}`)));
    ws.closed.then(({ code, reason }) => reject(new Error(`connect(${url}) closed before open: ${code} ${reason}`)));
  }), ms, `open ${url}`);
  return ws;
}
