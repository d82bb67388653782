// Hostile and slow peers against the Node edge (issue 10), scaled to seconds:
// the back-pressure contract, pipelined echoes through `npm run echo`, a ping
// flood from a peer that never reads, per-connection memory, a bad accept()
// option and a throwing listener. Servers that are measured run in a child
// process (scripts/attack/server.mjs); the full-size forms are `npm run attack`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { accept, Connection } from 'wsframe';
import { upgrade, maskedFrame, repeat, FrameCounter, delay, KiB } from '../scripts/attack/peer.mjs';
import { startServer, pipelining, pingFlood, manyConnections } from '../scripts/attack/scenarios.mjs';

/** An http.Server on 127.0.0.1:0 whose 'upgrade' handler is `onUpgrade(req, socket, head)`; close() drops every socket. */
async function listen(onUpgrade) {
  const server = http.createServer((req, res) => res.writeHead(404).end());
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('upgrade', onUpgrade);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: server.address().port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** No test may hang, whatever the code under test does. */
const BOUND = { timeout: 60_000 };

async function until(done, ms, what) {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

/** Raw upgrade request bytes. */
function upgradeRequest() {
  return `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
}

describe('back-pressure: send() false, then exactly one drain', () => {
  for (const readMode of ['onread', 'data']) {
    test(`a client that reads late receives every message; every false is followed by one 'drain' (${readMode})`, BOUND, async () => {
      const count = 4000, size = 3000;
      const warnings = [];
      const onWarning = (warning) => warnings.push(warning);
      process.on('warning', onWarning);
      const log = [];  // 'F' for a false, 'D' for a drain
      let bufferedAtFalse = Infinity;
      const server = await listen((req, socket, head) => {
        const ws = accept(req, socket, head, { readMode });
        const payload = Buffer.alloc(size, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < count) {
            sent++;
            if (!ws.send(payload)) {
              log.push('F');
              bufferedAtFalse = Math.min(bufferedAtFalse, ws.bufferedAmount);
              return;
            }
          }
        };
        ws.on('drain', () => {
          log.push('D');
          assert.ok(ws.bufferedAmount < socket.writableHighWaterMark, 'drain comes below the mark');
          pump();
        });
        ws.on('open', pump);
      });
      let socket;
      try {
        let rest;
        ({ socket, rest } = await upgrade(server.port));
        const counter = new FrameCounter();
        counter.push(rest);
        await delay(300);  // the kernel's buffers fill while nobody reads
        socket.on('data', (chunk) => counter.push(chunk));
        socket.resume();
        await until(() => counter.messages >= count, 20_000, `${count} messages`);
        await delay(50);
        assert.equal(counter.messages, count);
        assert.equal(counter.bytes, count * (size + 4));
        assert.ok(log.length >= 2, 'the slow reader made send() return false');
        // F D F D ... F D: no false without its drain, no drain without a false.
        assert.equal(log.join(''), 'FD'.repeat(log.length / 2));
        assert.ok(bufferedAtFalse >= 16 * KiB, 'false only at the mark');
        assert.deepEqual(warnings.map((w) => w.name), []);
      } finally {
        socket?.destroy();
        process.off('warning', onWarning);
        await server.close();
      }
    });
  }

  test("a batch the kernel takes in one write still owes and gets its 'drain' (the former stall)", BOUND, async () => {
    // 1,000 echoes of 34 B written in one tick: bufferedAmount passes 16 KiB in the
    // batch, and the socket then takes the whole batch at once (no socket 'drain').
    let falses = 0, drains = 0, owed = false;
    const server = await listen((req, socket, head) => {
      const ws = accept(req, socket, head);
      ws.on('drain', () => {
        assert.ok(owed, "'drain' only after a false");
        owed = false;
        drains++;
      });
      ws.on('message', (data, binary) => {
        if (!ws.send(data, { binary })) {
          falses++;
          owed = true;
        }
      });
    });
    try {
      const { socket, rest } = await upgrade(server.port);
      const counter = new FrameCounter();
      counter.push(rest);
      socket.on('data', (chunk) => counter.push(chunk));
      socket.resume();
      socket.write(repeat(maskedFrame(1, Buffer.alloc(32, 0x61)), 1000));
      await until(() => counter.messages >= 1000 && !owed, 5000, 'echoes and drain');
      assert.ok(falses > 0);
      assert.equal(drains, 1, 'one drain for the falses of one tick');
      socket.destroy();
    } finally {
      await server.close();
    }
  });

  test('bufferedAmount counts the batch of this tick and the socket buffer', BOUND, async () => {
    let seen = null;
    const server = await listen((req, socket, head) => {
      const ws = accept(req, socket, head);
      ws.on('open', () => {
        const before = ws.bufferedAmount;
        ws.send(Buffer.alloc(100));  // batched: not yet in the socket
        const batched = ws.bufferedAmount;
        ws.send(Buffer.alloc(10_000));  // large: queued alone
        seen = { before, batched, after: ws.bufferedAmount, socket: socket.writableLength };
      });
    });
    try {
      const { socket } = await upgrade(server.port);
      await until(() => seen !== null, 5000, 'open');
      assert.equal(seen.before, 0);
      assert.equal(seen.batched, 102);
      assert.equal(seen.after, 102 + 10_004);
      assert.equal(seen.socket, 0);
      socket.destroy();
    } finally {
      await server.close();
    }
  });
});

describe('pause() and resume()', () => {
  for (const readMode of ['onread', 'data']) {
    test(`pause() stops reading from the socket until resume() (${readMode})`, BOUND, async () => {
      const received = [];
      let server$ = null;
      const server = await listen((req, socket, head) => {
        server$ = accept(req, socket, head, { readMode, copy: true });
        server$.on('message', (data) => received.push(Buffer.from(data).toString()));
        server$.on('open', () => server$.pause());
      });
      let socket;
      try {
        ({ socket } = await upgrade(server.port));
        await until(() => server$ !== null, 5000, 'accept');
        await delay(50);
        socket.write(maskedFrame(1, Buffer.from('while paused')));
        await delay(300);
        assert.deepEqual(received, [], 'nothing read while paused');
        server$.resume();
        await until(() => received.length === 1, 5000, 'the message after resume()');
        assert.deepEqual(received, ['while paused']);
      } finally {
        socket?.destroy();
        await server.close();
      }
    });
  }
});

describe('pipelining through `npm run echo`', () => {
  test('20,000 pipelined 32 B frames in one write are all echoed', BOUND, async () => {
    const result = await pipelining('wsframe', { count: 20_000, maxMs: 20_000 });
    assert.equal(result.echoed, 20_000);
  });
});

describe('automatic replies are bounded', () => {
  test('while the transport is above its mark, only the latest ping is answered, once it drains', () => {
    const writes = [];
    let blocked = false;
    const connection = new Connection({
      role: 'client',
      open: true,
      randomFill: (buffer) => buffer.fill(0),
      onWrite: (chunks) => {
        writes.push(Buffer.concat(chunks));
        return !blocked;
      },
      onShutdown() {},
    });
    const ping = (text) => Buffer.concat([Buffer.from([0x89, text.length]), Buffer.from(text)]);
    connection.push(ping('a'));
    assert.equal(writes.length, 1, 'answered at once while not blocked');
    blocked = true;
    connection.send('x');  // above the mark now
    writes.length = 0;
    connection.push(Buffer.concat([ping('b'), ping('c'), ping('d')]));
    assert.equal(writes.length, 0, 'held while blocked');
    blocked = false;
    connection.outputDrained();
    assert.equal(writes.length, 1, 'one pong on drain');
    // A masked pong (client role, key 0) with the latest payload.
    assert.deepEqual([...writes[0]], [0x8a, 0x81, 0, 0, 0, 0, 'd'.charCodeAt(0)]);
    connection.outputDrained();
    assert.equal(writes.length, 1, 'nothing more held');
  });

  test('a held pong is dropped when a close frame goes out (§5.5.1)', () => {
    const writes = [];
    const connection = new Connection({
      role: 'client',
      open: true,
      randomFill: (buffer) => buffer.fill(0),
      onWrite: (chunks) => {
        writes.push(Buffer.concat(chunks));
        return false;
      },
      onShutdown() {},
    });
    connection.send('x');
    connection.push(Buffer.from([0x89, 1, 0x70]));
    connection.close(1000);
    writes.length = 0;
    connection.outputDrained();
    assert.equal(writes.length, 0);
  });

  test('a peer that floods pings and never reads does not grow the server (child process)', BOUND, async () => {
    const result = await pingFlood('wsframe', { seconds: 2, payload: 125 });
    assert.ok(result.serverAlive);
    assert.ok(result.pingsSent > 50_000, `the flood happened (${result.pingsSent} pings)`);
    // Held output: about one high-water mark (16 KiB) plus one pong; before: every pong, hundreds of MiB.
    assert.ok(result.serverOutputBuffered <= 64 * KiB, `server output ${result.serverOutputBuffered} B`);
    assert.ok(result.growthPeak < 32 * 2 ** 20, `server RSS grew ${(result.growthPeak / 2 ** 20).toFixed(1)} MiB`);
  });
});

describe('per-connection memory', () => {
  test('2,000 connections, idle and after echoes: within 1.5x of ws (server heap), no 64 KiB buffer per connection (RSS)', BOUND, async () => {
    const ours = await manyConnections('wsframe', { connections: 2000, messages: 10 });
    const theirs = await manyConnections('ws', { connections: 2000, messages: 10 });
    assert.equal(ours.echoesComplete, 2000);
    const kib = (bytes) => `${(bytes / KiB).toFixed(1)} KiB`;
    const figures = `wsframe heap ${kib(ours.idleHeapPerConnection)}/${kib(ours.trafficHeapPerConnection)}, RSS ${kib(ours.idlePerConnection)}/${kib(ours.trafficPerConnection)}; ` +
      `ws heap ${kib(theirs.idleHeapPerConnection)}/${kib(theirs.trafficHeapPerConnection)}, RSS ${kib(theirs.idlePerConnection)}/${kib(theirs.trafficPerConnection)}`;
    assert.ok(ours.idleHeapPerConnection <= 1.5 * theirs.idleHeapPerConnection, figures);
    assert.ok(ours.trafficHeapPerConnection <= 1.5 * theirs.trafficHeapPerConnection, figures);
    // RSS is noisier at this scale; the former 64 KiB batch buffer per connection showed as 75 KiB.
    assert.ok(ours.trafficPerConnection < 32 * KiB, figures);
  });
});

describe('bad accept() options', () => {
  const cases = [
    ['a header value with CR LF', { headers: { 'X-Test': 'a\r\nInjected: 1' } }, TypeError],
    ['a negative maxMessageSize', { maxMessageSize: -1 }, RangeError],
    ['an unknown readMode', { readMode: 'mmap' }, TypeError],
  ];
  for (const [what, options, ErrorType] of cases) {
    test(`${what}: the client gets 500 and a closed socket, accept() throws`, BOUND, async () => {
      let thrown = null;
      const server = await listen((req, socket, head) => {
        try {
          accept(req, socket, head, options);
        } catch (error) {
          thrown = error;
        }
      });
      try {
        const socket = net.connect(server.port, '127.0.0.1');
        socket.write(upgradeRequest());
        let response = '';
        socket.on('data', (chunk) => { response += chunk.toString('latin1'); });
        await within(once(socket, 'close'), 5000, 'the server to close the socket');
        assert.match(response, /^HTTP\/1\.1 500 /);
        assert.doesNotMatch(response, /101 Switching/);
        assert.doesNotMatch(response, /Injected/);
        assert.ok(thrown instanceof ErrorType, `threw ${thrown}`);
      } finally {
        await server.close();
      }
    });
  }
});

/** Resolves with `promise`, or rejects after `ms`. */
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); }),
  ]);
}

describe('a listener that throws', () => {
  for (const readMode of ['onread', 'data']) {
    test(`fails its connection with 1011; nothing after it is delivered; the error is rethrown (${readMode})`, BOUND, async () => {
      const server = await startServer('wsframe', 'throw', { readMode });
      try {
        const { socket, rest } = await upgrade(server.port);
        const counter = new FrameCounter();
        counter.push(rest);
        socket.on('data', (chunk) => counter.push(chunk));
        socket.on('error', () => {});
        socket.resume();
        // One write, one read: a message, the throwing one, then a message and a ping that must not be answered.
        socket.write(Buffer.concat([
          maskedFrame(1, Buffer.from('one')),
          maskedFrame(1, Buffer.from('throw')),
          maskedFrame(1, Buffer.from('two')),
          maskedFrame(9, Buffer.from('p')),
        ]));
        await within(once(socket, 'end'), 5000, 'the server to end the connection');
        assert.equal(counter.messages, 1, 'only the message before the throw was echoed');
        assert.equal(counter.pongs, 0, 'the ping after it was not answered');
        assert.equal(counter.closeCode, 1011);
        socket.end();
        let stats;
        for (let i = 0; i < 50; i++) {
          stats = await server.ask('stats');
          if (stats.closes['1011'] === 1) break;
          await delay(20);
        }
        assert.deepEqual(stats.uncaught, ['listener failed'], 'the error reached the process once');
        assert.deepEqual(stats.closes, { 1011: 1 }, "'close' reported 1011");
      } finally {
        await server.stop();
      }
    });
  }
});
