// wsframe/ws with permessage-deflate, as ws users configure it: the server
// option (off by default), the client's default offer, ws's options object,
// against ws in both directions; RSV1 observed on the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import WS, { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer, WebSocket } from 'wsframe/ws';

const listening = (server) => new Promise((resolve) => server.on('listening', resolve));
const opened = (ws) => new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
const closed = (ws) => new Promise((resolve) => ws.on('close', resolve));
const echoOnce = (ws, data) => new Promise((resolve) => { ws.once('message', (d, binary) => resolve({ text: d.toString(), binary })); ws.send(data); });
const TEXT = JSON.stringify({ chat: 'hello '.repeat(400), n: 1 });

test('ws client -> wsframe/ws server with perMessageDeflate: true negotiates and echoes', async () => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0, serverNoContextTakeover: true } });
  await listening(server);
  let answered;
  server.on('headers', (headers) => { answered = headers.find((h) => /^sec-websocket-extensions:/i.test(h)); });
  server.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  const client = new WS(`ws://127.0.0.1:${server.address().port}`);
  try {
    await opened(client);
    assert.equal(answered, 'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover');
    assert.equal(client.extensions, 'permessage-deflate');
    const [own] = server.clients;
    assert.equal(own.extensions, 'permessage-deflate');
    for (let i = 0; i < 5; i++) assert.deepEqual(await echoOnce(client, TEXT + i), { text: TEXT + i, binary: false });
  } finally {
    client.close();
    await closed(client);
    await new Promise((resolve) => server.close(resolve));
  }
});

test('wsframe/ws server without perMessageDeflate declines the offer (ws default off)', async () => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await listening(server);
  server.on('connection', (ws) => ws.on('message', (data, binary) => ws.send(data, { binary })));
  const client = new WS(`ws://127.0.0.1:${server.address().port}`);
  await opened(client);
  assert.equal(client.extensions, '');
  assert.deepEqual(await echoOnce(client, TEXT), { text: TEXT, binary: false });
  client.close();
  await closed(client);
  await new Promise((resolve) => server.close(resolve));
});

test('wsframe/ws client offers permessage-deflate by default; ws server agrees; compress: false opts out per message', async () => {
  const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: { threshold: 0 } });
  await listening(server);
  let offer;
  const rsv1 = [];
  server.on('connection', (ws, req) => {
    offer = req.headers['sec-websocket-extensions'];
    // Watch the raw frames the client sends: byte 0 of each frame (one frame per read here).
    req.socket.prependListener('data', (chunk) => rsv1.push((chunk[0] & 0x40) !== 0));
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  const client = new WebSocket(`ws://127.0.0.1:${server.address().port}`);
  await opened(client);
  assert.equal(offer, 'permessage-deflate; client_max_window_bits');
  assert.equal(client.extensions, 'permessage-deflate');
  assert.deepEqual(await echoOnce(client, TEXT), { text: TEXT, binary: false });
  const compressedFlags = rsv1.splice(0);
  await new Promise((resolve) => { client.once('message', resolve); client.send(TEXT, { compress: false }); });
  assert.deepEqual([compressedFlags.at(-1), rsv1.at(-1)], [true, false], 'RSV1 on the compressed frame only');
  client.close();
  await closed(client);
  await new Promise((resolve) => server.close(resolve));
});

test('wsframe/ws client with perMessageDeflate: false offers nothing', async () => {
  const server = new WsServer({ port: 0, host: '127.0.0.1', perMessageDeflate: true });
  await listening(server);
  let offer = 'unset';
  server.on('connection', (ws, req) => { offer = req.headers['sec-websocket-extensions']; });
  const client = new WebSocket(`ws://127.0.0.1:${server.address().port}`, { perMessageDeflate: false });
  await opened(client);
  assert.equal(offer, undefined);
  assert.equal(client.extensions, '');
  client.close();
  await closed(client);
  await new Promise((resolve) => server.close(resolve));
});
