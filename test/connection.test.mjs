// The sans-I/O Connection state machine: bytes in, bytes/shutdown/timer requests out.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Connection, Decoder, Encoder, isSendableCloseCode } from 'wsframe';

// Client frames (what a server reads) with an all-zero mask key, so the test
// vectors stay readable; the server's output is unmasked (§5.1).
const clientEncoder = () => new Encoder({ role: 'client', randomFill: (b) => b.fill(0) });
const serverEncoder = () => new Encoder({ role: 'server' });
const bytes = (chunks) => Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
const hex = (chunks) => bytes(chunks).toString('hex');

/** A Connection whose every request is recorded in `log`, in order. */
function harness(options = {}) {
  const log = [];
  const writes = [];
  const conn = new Connection({
    role: 'server',
    open: true,
    onWrite: (chunks) => {
      writes.push(bytes(chunks));
      log.push(['write', hex(chunks)]);
    },
    onShutdown: (how) => log.push(['shutdown', how]),
    onTimer: (kind, ms) => log.push(['timer', kind, ms]),
    onMessage: (data, binary) => log.push(['message', Buffer.from(data).toString('latin1'), binary]),
    onPing: (payload) => log.push(['ping', Buffer.from(payload).toString()]),
    onPong: (payload) => log.push(['pong', Buffer.from(payload).toString()]),
    onPeerClose: (code, reason) => log.push(['peerClose', code, reason]),
    onProtocolError: (error) => log.push(['protocolError', error.closeCode]),
    onClosed: (code, reason, wasClean) => log.push(['closed', code, reason, wasClean]),
    ...options,
  });
  return { conn, log, writes, of: (kind) => log.filter((entry) => entry[0] === kind) };
}

describe('Connection: control frames', () => {
  test('auto-pong echoes the ping payload (§5.5.2), exact bytes', () => {
    const { conn, log } = harness();
    conn.push(bytes(clientEncoder().ping(Buffer.from('hi'))));
    assert.deepEqual(log, [
      ['write', '8a026869'],
      ['ping', 'hi'],
    ]);
  });

  test('autoPong: false writes nothing and still reports the ping', () => {
    const { conn, log } = harness({ autoPong: false });
    conn.push(bytes(clientEncoder().ping(Buffer.from('hi'))));
    assert.deepEqual(log, [['ping', 'hi']]);
  });

  test('client role: pongs are masked, server frames are read unmasked', () => {
    const { conn, of } = harness({ role: 'client', randomFill: (b) => b.fill(0) });
    conn.push(bytes(serverEncoder().ping(Buffer.from('ab'))));
    assert.deepEqual(of('write'), [['write', '8a82000000006162']]);
  });

  test('pong is reported, nothing written', () => {
    const { conn, log } = harness();
    conn.push(bytes(clientEncoder().pong(Buffer.from('x'))));
    assert.deepEqual(log, [['pong', 'x']]);
  });
});

describe('Connection: closing handshake', () => {
  test('peer close 1000: echo code and reason, server ends TCP (§7.1.1), onClosed clean', () => {
    const { conn, log } = harness();
    conn.push(bytes(clientEncoder().close(1000, 'bye')));
    assert.equal(conn.state, 'CLOSING');
    assert.deepEqual(log, [
      ['write', '880503e8627965'],
      ['peerClose', 1000, 'bye'],
      ['timer', 'close', 30000],
      ['shutdown', 'end'],
    ]);
    conn.transportClosed();
    assert.equal(conn.state, 'CLOSED');
    assert.deepEqual(log.slice(4), [
      ['timer', 'close', 0],
      ['timer', 'idle', 0],
      ['closed', 1000, 'bye', true],
    ]);
  });

  test('peer close without a body (1005) is answered without a body', () => {
    const { conn, of } = harness();
    conn.push(bytes(clientEncoder().close()));
    assert.deepEqual(of('write'), [['write', '8800']]);
    conn.transportClosed();
    assert.deepEqual(of('closed'), [['closed', 1005, '', true]]);
  });

  test('client role: after the peer close the client waits for the server to drop TCP', () => {
    const { conn, log } = harness({ role: 'client', randomFill: (b) => b.fill(0) });
    conn.push(bytes(serverEncoder().close(1001)));
    assert.deepEqual(log, [
      ['write', '888200000000' + '03e9'],
      ['peerClose', 1001, ''],
      ['timer', 'close', 30000],
    ]);
    conn.transportEnded();
    assert.deepEqual(log.at(-1), ['shutdown', 'end']);
  });

  test('local close: close frame, close timer; data frames after it are ignored; peer answer completes', () => {
    const { conn, log, of } = harness();
    conn.close(4000, 'done');
    assert.equal(conn.state, 'CLOSING');
    assert.deepEqual(log, [
      ['write', '88060fa0646f6e65'],
      ['timer', 'close', 30000],
    ]);
    const enc = clientEncoder();
    conn.push(bytes([...enc.message('late'), ...enc.close(4000)]));
    assert.deepEqual(of('message'), [], 'data after our close frame is not delivered');
    assert.equal(of('write').length, 1, 'no second close frame');
    assert.deepEqual(of('shutdown'), [['shutdown', 'end']]);
    conn.transportClosed();
    assert.deepEqual(of('closed'), [['closed', 4000, '', true]]);
    assert.equal(conn.send('x'), false, 'send after close is refused');
  });

  test('close timeout drops the transport; no close frame received -> 1006', () => {
    const { conn, of } = harness();
    conn.close(1000);
    conn.timerFired('close');
    assert.deepEqual(of('shutdown'), [['shutdown', 'destroy']]);
    conn.transportClosed();
    assert.deepEqual(of('closed'), [['closed', 1006, '', false]]);
  });

  test('transport lost without a close frame -> 1006, not clean, emitted once', () => {
    const { conn, of } = harness();
    conn.transportEnded();
    conn.transportClosed();
    conn.transportClosed();
    assert.deepEqual(of('closed'), [['closed', 1006, '', false]]);
  });

  test('close code and reason validation (§7.4)', () => {
    const { conn } = harness();
    for (const code of [999, 1004, 1005, 1006, 1015, 2000, 5000]) {
      assert.equal(isSendableCloseCode(code), false, String(code));
      assert.throws(() => conn.close(code), RangeError);
    }
    for (const code of [1000, 1001, 1003, 1007, 1011, 3000, 4999]) assert.equal(isSendableCloseCode(code), true);
    assert.throws(() => conn.close(1000, 'x'.repeat(124)), RangeError);
    assert.equal(conn.state, 'OPEN');
  });

  test('terminate drops the transport at once', () => {
    const { conn, of } = harness();
    conn.terminate();
    assert.deepEqual(of('shutdown'), [['shutdown', 'destroy']]);
    assert.deepEqual(of('write'), []);
  });
});

describe('Connection: failing the connection (§7.1.7)', () => {
  test('frames before a bad frame in the same chunk are delivered and answered first', () => {
    const { conn, log } = harness({
      onMessage: (data, binary) => {
        log.push(['message', Buffer.from(data).toString(), binary]);
        conn.send(data, binary); // an echo written from inside the handler
      },
    });
    const enc = clientEncoder();
    const chunk = Buffer.concat([
      bytes(enc.message('a')),
      bytes(enc.ping(Buffer.from('p'))),
      Buffer.from([0x83, 0x80, 0, 0, 0, 0]), // reserved opcode 0x3 (§5.2)
      bytes(enc.message('never')),
    ]);
    conn.push(chunk);
    assert.deepEqual(log, [
      ['message', 'a', false],
      ['write', '810161'],
      ['write', '8a0170'],
      ['ping', 'p'],
      ['write', '880203ea'],
      ['protocolError', 1002],
      ['timer', 'close', 30000],
      ['shutdown', 'end'],
    ]);
    conn.transportClosed();
    assert.deepEqual(log.at(-1), ['closed', 1002, log.at(-1)[2], false]);
  });

  test('an oversized message fails with 1009', () => {
    const { conn, of } = harness({ maxMessageSize: 10 });
    conn.push(bytes(clientEncoder().message(Buffer.alloc(11))));
    assert.deepEqual(of('write'), [['write', '880203f1']]);
    assert.deepEqual(of('protocolError'), [['protocolError', 1009]]);
  });

  test('invalid UTF-8 in a text message fails with 1007', () => {
    const { conn, of } = harness();
    conn.push(bytes(clientEncoder().message(Buffer.from([0xc0, 0xaf]), { binary: false })));
    assert.deepEqual(of('write'), [['write', '880203ef']]);
  });

  test('an unmasked client frame fails with 1002', () => {
    const { conn, of } = harness();
    conn.push(bytes(serverEncoder().message('x')));
    assert.deepEqual(of('write'), [['write', '880203ea']]);
  });
});

describe('Connection: data', () => {
  test('CONNECTING refuses to send; open() enables it', () => {
    const { conn, of } = harness({ open: false });
    assert.equal(conn.state, 'CONNECTING');
    assert.throws(() => conn.send('x'), /not open/);
    conn.open();
    assert.equal(conn.state, 'OPEN');
    assert.equal(conn.send('x'), true);
    assert.equal(conn.send(Buffer.from([1, 2]), true), true);
    assert.deepEqual(of('write'), [['write', '810178'], ['write', '82020102']]);
  });

  test('fragmented send (§5.4)', () => {
    const { conn, of } = harness();
    conn.send('abcde', false, 2);
    assert.deepEqual(of('write'), [['write', '0102616200026364' + '800165']]);
  });

  test('a decoder view passed back to send() is copied before it is written', () => {
    let written = [];
    const { conn } = harness({
      onWrite: (chunks) => {
        written = chunks;
      },
      onMessage: (data, binary) => conn.send(data, binary),
    });
    conn.push(bytes(clientEncoder().message(Buffer.from('payload'))));
    assert.ok(written.length > 0);
    for (const chunk of written) assert.equal(Decoder.isDecoderMemory(chunk), false);
    assert.equal(bytes(written).toString('latin1'), '\x82\x07payload');
  });

  test('control payloads over 125 bytes are refused (§5.5)', () => {
    const { conn } = harness();
    assert.throws(() => conn.ping(Buffer.alloc(126)), RangeError);
    assert.equal(conn.ping('ok'), true);
  });

  test('idle timeout: requested on open, fires a 1001 close', () => {
    const { conn, log } = harness({ idleTimeout: 500 });
    assert.deepEqual(log, [['timer', 'idle', 500]]);
    conn.timerFired('idle');
    assert.deepEqual(log.slice(1), [
      ['write', '880e03e969646c652074696d656f7574'],
      ['timer', 'idle', 0],
      ['timer', 'close', 30000],
    ]);
  });

  test('any chunking gives the same events', () => {
    const enc = clientEncoder();
    const stream = Buffer.concat([bytes(enc.message('hello')), bytes(enc.ping(Buffer.from('!'))), bytes(enc.message(Buffer.from([9])))]);
    const whole = harness();
    whole.conn.push(stream);
    const split = harness();
    for (let i = 0; i < stream.length; i++) split.conn.push(stream.subarray(i, i + 1));
    assert.deepEqual(split.log, whole.log);
    assert.deepEqual(whole.of('message'), [['message', 'hello', false], ['message', '\t', true]]);
  });
});

describe('Connection: onWriteFrame (small server frames copied straight into the transport)', () => {
  /** A harness whose transport takes small frames through onWriteFrame (writeSmallFrame into its own buffer). */
  async function frameHarness(options = {}) {
    const { writeSmallFrame } = await import('../dist/core/encoder.js');
    const out = [];  // ['frame' | 'write', bytes] in order
    let blocked = false;
    const h = harness({
      onWrite: (chunks) => { out.push(['write', bytes(chunks)]); return !blocked; },
      onWriteFrame: (firstByte, payload) => {
        const target = Buffer.alloc(payload.length + 4);
        const n = writeSmallFrame(target, 0, firstByte, payload);
        out.push(['frame', target.subarray(0, n)]);
        return !blocked;
      },
      ...options,
    });
    return { ...h, out, block: (b) => { blocked = b; } };
  }

  test('a message of up to 1 KiB in one frame goes through onWriteFrame, same bytes as the encoder', async () => {
    const { conn, out } = await frameHarness();
    const enc = serverEncoder();
    const cases = [[new Uint8Array(0), true], [Buffer.alloc(100, 1), true], ['héllo', false], [new Uint8Array(1024).fill(3), true], [new Uint16Array([1, 2, 3]), true]];
    for (const [data, binary] of cases) conn.send(data, binary);
    assert.deepEqual(out.map(([kind]) => kind), cases.map(() => 'frame'));
    cases.forEach(([data, binary], i) => {
      const payload = typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      assert.deepEqual(out[i][1], bytes(enc.message(payload, { binary })), `case ${i}`);
    });
  });

  test('pings, pongs and automatic pongs go through onWriteFrame too; close frames through onWrite', async () => {
    const { conn, out } = await frameHarness();
    conn.ping('p');
    conn.pong(Buffer.from('q'));
    conn.push(bytes(clientEncoder().ping(Buffer.from('hi'))));
    conn.close(1000);
    assert.deepEqual(out.map(([kind, b]) => [kind, b.toString('hex')]), [['frame', '8901' + '70'], ['frame', '8a01' + '71'], ['frame', '8a026869'], ['write', '880203e8']]);
  });

  test('over 1 KiB, fragmented, and the client role go through onWrite', async () => {
    const { conn, out } = await frameHarness();
    conn.send(new Uint8Array(1025), true);
    conn.send(new Uint8Array(100), true, 10);
    conn.sendFragment(new Uint8Array(3), true, true);
    assert.deepEqual(out.map(([kind]) => kind), ['write', 'write', 'write']);
    assert.equal(out[1][1].length, 10 * (2 + 10), 'ten frames of 10 bytes');
    const client = await frameHarness({ role: 'client', randomFill: (b) => b.fill(0) });
    client.conn.send(new Uint8Array(10), true);
    assert.deepEqual(client.out.map(([kind]) => kind), ['write']);
    assert.equal(client.out[0][1][1], 0x80 | 10, 'masked');
  });

  test('onWriteFrame returning false holds the automatic pong back, as onWrite does (§5.5.3)', async () => {
    const { conn, out, block } = await frameHarness();
    block(true);
    conn.send(Buffer.from('x'), true);
    conn.push(bytes(clientEncoder().ping(Buffer.from('hi'))));
    assert.deepEqual(out.map(([kind]) => kind), ['frame'], 'the pong waits');
    block(false);
    conn.outputDrained();
    assert.deepEqual(out.map(([kind, b]) => [kind, b.toString('hex')]), [['frame', '820178'], ['frame', '8a026869']]);
  });
});
