// Autobahn|Testsuite-style conformance test for the echo testee (dist/cli/echo.js)
// and the client testee (dist/cli/testee-client.js). It stands in for the real
// fuzzingclient / fuzzingserver (Python 2, not runnable here): the peer is a raw
// node:net WebSocket (test/support/autobahn.mjs) that sends frames byte by byte
// exactly as the Autobahn cases do, and judges each case as Autobahn would
// (case.py: expected OK / NON-STRICT events, then the close: closedByMe,
// requireClean, close code, who dropped TCP). Every case must be strictly OK.
//
// Two runs of the same cases (ids are Autobahn's):
// - fuzzingclient mode: dist/cli/echo.js --port 0 is spawned once; every case
//   1.x-7.x, 10.1.1 and the whole 9.x set (one iteration each) runs against it;
// - fuzzingserver mode: a fake fuzzingserver (http + raw upgrade) serves the same
//   cases (9.x: a subset; CONFORMANCE_FULL=1 for all) to dist/cli/testee-client.js,
//   plus a small hand-written 3-case run checking echoes and who drops TCP.
// `node test/support/autobahn-long.mjs` times the whole 9.x set over several
// iterations by hand. CONFORMANCE_REPORT=3.2,6.4.4 prints full case reports.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import {
  FuzzCase,
  FrameParser,
  OK,
  NON_STRICT,
  acceptKey,
  closePayload,
  delay,
  encodeFrame,
  hex,
  msg,
  perfCases,
  pong,
  repeat,
  runPerfCase,
  spawnEcho,
  stopChild,
  timeoutMark,
  utf8TestSequences,
} from './support/autobahn.mjs';
import { autobahnOffer, autobahnServerResponse, deflateCases, runDeflateMessages } from './support/autobahn-deflate.mjs';

// The testees; the environment may point at others (to check this test against a known-bad
// server), and CONFORMANCE_ECHO_ARGS adds arguments (e.g. "--read-mode data").
const ECHO = process.env.CONFORMANCE_ECHO_SCRIPT ?? fileURLToPath(new URL('../dist/cli/echo.js', import.meta.url));
const TESTEE_CLIENT = process.env.CONFORMANCE_CLIENT_SCRIPT ?? fileURLToPath(new URL('../dist/cli/testee-client.js', import.meta.url));

const PROTOCOL_ERROR = 1002;
const INVALID_PAYLOAD = 1007;
const NORMAL = 1000;
const failClose = (code = PROTOCOL_ERROR) => ({ closedByMe: false, closeCode: [code], requireClean: false });
const cleanClose = (codes = [NORMAL]) => ({ closedByMe: true, closeCode: codes, requireClean: true });

let echo;
let port;
const perfTimes = [];

/** Opens a fuzzing connection, runs `body`, waits for the connection to be lost, asserts strict OK. */
/** CONFORMANCE_REPORT=3.2,6.4.4 prints those cases' full reports (both modes), passing or not. */
const SHOW = new Set((process.env.CONFORMANCE_REPORT ?? '').split(',').filter(Boolean));
const show = (c, verdict, mode) => SHOW.has(c.id) && console.log(`# [${mode}]\n${c.report(verdict).replace(/^/gm, '#   ')}`);
/** Close timings of every case: how long the server took to drop TCP after the closing handshake. */
const dropTimes = { echo: [], client: [] };
function recordDrop(c, mode) {
  const t = c.times;
  if (t.closeReceived !== undefined && t.closeSent !== undefined && t.tcpClosed !== undefined) {
    dropTimes[mode].push([c.id, t.tcpClosed - Math.max(t.closeReceived, t.closeSent)]);
  }
}

async function runCase(id, description, body, { informational = null, ceiling = 30_000, deflate = null } = {}) {
  // 12.x/13.x: the case's permessage-deflate offer(s), in Autobahn's order.
  const extensions = deflate === null ? undefined : deflate.offers.map(autobahnOffer).join(', ');
  const c = await FuzzCase.open(port, id, description, '/', { extensions });
  await body(c);
  const verdict = await c.finished(ceiling);
  show(c, verdict, 'echo testee');
  recordDrop(c, 'echo');
  if (informational) {
    informational(c, verdict);
    return c;
  }
  assertStrict(c, verdict);
  return c;
}

/**
 * Strictly OK as Autobahn judges it, and one step further: where the testee must
 * fail the connection, a bare TCP drop (which Autobahn lets pass) is not enough,
 * its close frame must carry the expected code.
 */
function assertStrict(c, verdict) {
  assert.ok(verdict.behavior === OK && verdict.behaviorClose === OK, `\n${c.report(verdict)}\n`);
  if (!c.expectedClose.closedByMe) {
    assert.ok(
      c.remoteCloseCode !== null && c.expectedClose.closeCode.includes(c.remoteCloseCode),
      `\nthe testee failed the connection without a close frame carrying ${c.expectedClose.closeCode}\n${c.report(verdict)}\n`,
    );
  }
}

before(async () => {
  ({ child: echo, port } = await spawnEcho(ECHO, (process.env.CONFORMANCE_ECHO_ARGS ?? '').split(' ').filter(Boolean)));
});

after(async () => {
  if (echo) await stopChild(echo);
  if (perfTimes.length) {
    console.log(`# 9.x timings (echo server, one iteration): ${perfTimes.map(([id, ms]) => `${id}=${ms.toFixed(1)}ms`).join(' ')}`);
  }
  for (const [mode, list] of Object.entries(dropTimes)) {
    if (list.length === 0) continue;
    const worst = list.reduce((a, b) => (b[1] > a[1] ? b : a));
    const mean = list.reduce((a, b) => a + b[1], 0) / list.length;
    console.log(`# TCP drop after the closing handshake (${mode}, ${list.length} cases): mean ${mean.toFixed(2)} ms, worst ${worst[1].toFixed(2)} ms (${worst[0]})`);
  }
});

/**
 * Every case, written once. Called with node:test's describe/test and the
 * fuzzingclient runner (the echo server is the testee), and again with a
 * collector that registers each case for the fuzzingserver run (testee-client).
 */
function defineCases(describe, test, runCase) {
// ---------------------------------------------------------------------------- 1.x
describe('1 Framing: text and binary echo', () => {
  const lengths = [0, 125, 126, 127, 128, 65535, 65536];
  for (const [group, binary, fill] of [
    ['1.1', false, '*'],
    ['1.2', true, Buffer.from([0xfe])],
  ]) {
    lengths.forEach((len, i) => {
      const id = `${group}.${i + 1}`;
      test(`${id} ${binary ? 'binary' : 'text'} message of ${len} B`, () => runCase(id, `${binary ? 'binary' : 'text'} ${len} B`, (c) => {
          const payload = repeat(fill, len);
          c.expect({ [OK]: [msg(payload, binary)] }, cleanClose());
          c.sendFrame({ opcode: binary ? 2 : 1, payload });
          c.killAfter(len > 1000 ? 10_000 : 1000);
        }));
    });
    const id = `${group}.8`;
    test(`${id} ${binary ? 'binary' : 'text'} message of 65536 B sent in 997-byte chops`, () => runCase(id, '65536 B in chops of 997', async (c) => {
        const payload = repeat(fill, 65536);
        c.expect({ [OK]: [msg(payload, binary)] }, cleanClose());
        c.killAfter(10_000);
        await c.sendFrame({ opcode: binary ? 2 : 1, payload, chopsize: 997 });
      }));
  }
});

// ---------------------------------------------------------------------------- 2.x
describe('2 Pings/Pongs', () => {
  const pingCase = (id, desc, payload, chopsize) =>
    test(`${id} ${desc}`, () => runCase(id, desc, async (c) => {
        c.expect({ [OK]: [pong(payload)] }, cleanClose());
        c.closeAfter(2000);
        await c.sendFrame({ opcode: 9, payload, chopsize });
      }));
  pingCase('2.1', 'ping without payload', Buffer.alloc(0));
  pingCase('2.2', 'ping with small text payload', Buffer.from('Hello, world!'));
  pingCase('2.3', 'ping with small binary payload', Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]));
  pingCase('2.4', 'ping with 125 B binary payload', repeat([0xfe], 125));
  test('2.5 ping with 126 B payload: fail 1002', () => runCase('2.5', 'ping 126 B', (c) => {
      c.expect({ [OK]: [] }, failClose());
      c.sendFrame({ opcode: 9, payload: repeat([0xfe], 126) });
      c.killAfter(1000);
    }));
  pingCase('2.6', 'ping with 125 B payload in octet-wise chops', repeat([0xfe], 125), 1);
  test('2.7 unsolicited pong without payload is ignored', () => runCase('2.7', 'unsolicited pong', (c) => {
      c.expect({ [OK]: [] }, cleanClose());
      c.sendFrame({ opcode: 10 });
      c.closeAfter(1000);
    }));
  test('2.8 unsolicited pong with payload is ignored', () => runCase('2.8', 'unsolicited pong with payload', (c) => {
      c.expect({ [OK]: [] }, cleanClose());
      c.sendFrame({ opcode: 10, payload: 'unsolicited pong payload' });
      c.closeAfter(1000);
    }));
  test('2.9 unsolicited pong, then ping: pong for the ping only', () => runCase('2.9', 'pong then ping', (c) => {
      c.expect({ [OK]: [pong('ping payload')] }, cleanClose());
      c.sendFrame({ opcode: 10, payload: 'unsolicited pong payload' });
      c.sendFrame({ opcode: 9, payload: 'ping payload' });
      c.closeAfter(1000);
    }));
  for (const [id, chopsize] of [
    ['2.10', undefined],
    ['2.11', 1],
  ]) {
    test(`${id} 10 pings${chopsize ? ' in octet-wise chops' : ''}: 10 pongs in order`, () => runCase(id, '10 pings', async (c) => {
        const pongs = Array.from({ length: 10 }, (_, i) => pong(`payload-${i}`));
        c.expect({ [OK]: pongs }, cleanClose());
        c.closeAfter(3000);
        for (let i = 0; i < 10; i++) await c.sendFrame({ opcode: 9, payload: `payload-${i}`, chopsize });
      }));
  }
});

// ---------------------------------------------------------------------------- 3.x
describe('3 Reserved bits', () => {
  const hello = 'Hello, world!';
  test('3.1 text with RSV=1: fail 1002', () => runCase('3.1', 'RSV=1', (c) => {
      c.expect({ [OK]: [] }, failClose());
      c.sendFrame({ opcode: 1, payload: hello, rsv: 1 });
      c.killAfter(1000);
    }));
  const thenBad = (id, rsv, how) =>
    test(`${id} text, text with RSV=${rsv}, ping${how ? ` (${how})` : ''}: echo of the first BEFORE close 1002, no pong`, () =>
      runCase(id, `text, RSV=${rsv} text, ping`, async (c) => {
        c.expect({ [OK]: [msg(hello)], [NON_STRICT]: [] }, failClose());
        c.killAfter(1000);
        const opts = how === 'frame-wise chops' ? { sync: true } : how === 'octet-wise chops' ? { chopsize: 1 } : {};
        // Autobahn's RSV value is the 3-bit field: RSV=2 is RSV2, RSV=4 is RSV1.
        await c.sendFrame({ opcode: 1, payload: hello, ...opts });
        await c.sendFrame({ opcode: 1, payload: hello, rsv, ...opts });
        await c.sendFrame({ opcode: 9, ...opts });
      }));
  thenBad('3.2', 2);
  thenBad('3.3', 3, 'frame-wise chops');
  thenBad('3.4', 4, 'octet-wise chops');
  test('3.5 binary with RSV=5: fail 1002', () => runCase('3.5', 'RSV=5 binary', (c) => {
      c.expect({ [OK]: [] }, failClose());
      c.sendFrame({ opcode: 2, payload: Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]), rsv: 5 });
      c.killAfter(1000);
    }));
  test('3.6 ping with RSV=6: fail 1002', () => runCase('3.6', 'RSV=6 ping', (c) => {
      c.expect({ [OK]: [] }, failClose());
      c.sendFrame({ opcode: 9, payload: hello, rsv: 6 });
      c.killAfter(1000);
    }));
  test('3.7 close with RSV=7: fail 1002', () => runCase('3.7', 'RSV=7 close', (c) => {
      c.expect({ [OK]: [] }, failClose());
      c.sendFrame({ opcode: 8, rsv: 7 });
      c.killAfter(1000);
    }));
});

// ---------------------------------------------------------------------------- 4.x
describe('4 Opcodes', () => {
  const hello = 'Hello, world!';
  for (const [group, first] of [
    ['4.1', 3],
    ['4.2', 11],
  ]) {
    const kind = group === '4.1' ? 'non-control' : 'control';
    test(`${group}.1 reserved ${kind} opcode ${first}: fail 1002`, () => runCase(`${group}.1`, `opcode ${first}`, (c) => {
        c.expect({ [OK]: [] }, failClose());
        c.sendFrame({ opcode: first });
        c.killAfter(1000);
      }));
    test(`${group}.2 reserved ${kind} opcode ${first + 1} with payload: fail 1002`, () => runCase(`${group}.2`, `opcode ${first + 1}`, (c) => {
        c.expect({ [OK]: [] }, failClose());
        c.sendFrame({ opcode: first + 1, payload: 'reserved opcode payload' });
        c.killAfter(1000);
      }));
    for (let k = 3; k <= 5; k++) {
      const opcode = first + k - 1;
      const id = `${group}.${k}`;
      test(`${id} text, reserved opcode ${opcode}${k > 3 ? ' with payload' : ''}, ping: echo BEFORE close 1002, no pong`, () => runCase(id, `text, opcode ${opcode}, ping`, (c) => {
          c.expect({ [OK]: [msg(hello)], [NON_STRICT]: [] }, failClose());
          // One write, as the three sendFrame calls land in one TCP segment.
          c.write(
            Buffer.concat([
              c.frame({ opcode: 1, payload: Buffer.from(hello) }),
              c.frame({ opcode, payload: Buffer.from(k > 3 ? 'reserved opcode payload' : '') }),
              c.frame({ opcode: 9 }),
            ]),
          );
          c.killAfter(1000);
        }));
    }
  }
});

// ---------------------------------------------------------------------------- 5.x
describe('5 Fragmentation', () => {
  test('5.1 ping fragmented into 2: fail 1002', () => runCase('5.1', 'fragmented ping', (c) => {
      c.expect({ [OK]: [] }, failClose());
      c.sendFrame({ opcode: 9, fin: false, payload: 'fragment1' });
      c.sendFrame({ opcode: 0, fin: true, payload: 'fragment2' });
      c.killAfter(1000);
    }));
  test('5.2 pong fragmented into 2: fail 1002', () => runCase('5.2', 'fragmented pong', (c) => {
      c.expect({ [OK]: [] }, failClose());
      c.sendFrame({ opcode: 10, fin: false, payload: 'fragment1' });
      c.sendFrame({ opcode: 0, fin: true, payload: 'fragment2' });
      c.killAfter(1000);
    }));
  const chopModes = [
    ['', {}],
    ['frame-wise chops', { sync: true }],
    ['octet-wise chops', { chopsize: 1 }],
  ];
  chopModes.forEach(([how, opts], i) => {
    const id = `5.${3 + i}`;
    test(`${id} text in 2 fragments${how ? ` (${how})` : ''}`, () =>
      runCase(id, 'text in 2 fragments', async (c) => {
        c.expect({ [OK]: [msg('fragment1fragment2')] }, cleanClose());
        c.closeAfter(1000);
        await c.sendFrame({ opcode: 1, fin: false, payload: 'fragment1', ...opts });
        await c.sendFrame({ opcode: 0, fin: true, payload: 'fragment2', ...opts });
      }));
  });
  chopModes.forEach(([how, opts], i) => {
    const id = `5.${6 + i}`;
    test(`${id} text in 2 fragments with a ping between${how ? ` (${how})` : ''}: pong, then echo`, () =>
      runCase(id, 'fragments with ping', async (c) => {
        c.expect({ [OK]: [pong('ping payload'), msg('fragment1fragment2')] }, cleanClose());
        c.closeAfter(1000);
        await c.sendFrame({ opcode: 1, fin: false, payload: 'fragment1', ...opts });
        await c.sendFrame({ opcode: 9, fin: true, payload: 'ping payload', ...opts });
        await c.sendFrame({ opcode: 0, fin: true, payload: 'fragment2', ...opts });
      }));
  });
  chopModes.forEach(([how, opts], i) => {
    const id = `5.${9 + i}`;
    test(`${id} continuation FIN=1 with nothing to continue, then text${how ? ` (${how})` : ''}: fail 1002`, () =>
      runCase(id, 'continuation without start', async (c) => {
        c.expect({ [OK]: [] }, failClose());
        c.killAfter(1000);
        await c.sendFrame({ opcode: 0, fin: true, payload: 'non-continuation payload', ...opts });
        await c.sendFrame({ opcode: 1, fin: true, payload: 'Hello, world!', ...opts });
      }));
  });
  chopModes.forEach(([how, opts], i) => {
    const id = `5.${12 + i}`;
    test(`${id} continuation FIN=0 with nothing to continue, then text${how ? ` (${how})` : ''}: fail 1002`, () =>
      runCase(id, 'continuation without start', async (c) => {
        c.expect({ [OK]: [] }, failClose());
        c.killAfter(1000);
        await c.sendFrame({ opcode: 0, fin: false, payload: 'non-continuation payload', ...opts });
        await c.sendFrame({ opcode: 1, fin: true, payload: 'Hello, world!', ...opts });
      }));
  });
  test('5.15 text in 2 fragments, then continuation FIN=0 with nothing to continue, then text: echo, then fail 1002', () => runCase('5.15', 'good fragmented message then bad one', (c) => {
      c.expect({ [OK]: [msg('fragment1fragment2')], [NON_STRICT]: [] }, failClose());
      c.write(
        Buffer.concat([
          c.frame({ opcode: 1, fin: false, payload: Buffer.from('fragment1') }),
          c.frame({ opcode: 0, fin: true, payload: Buffer.from('fragment2') }),
          c.frame({ opcode: 0, fin: false, payload: Buffer.from('fragment3') }),
          c.frame({ opcode: 1, fin: true, payload: Buffer.from('fragment4') }),
        ]),
      );
      c.killAfter(1000);
    }));
  for (const [id, fin] of [
    ['5.16', false],
    ['5.17', true],
  ]) {
    test(`${id} 2x (continuation FIN=${fin ? 1 : 0} with nothing to continue, then text in 2 fragments): fail 1002`, () => runCase(id, 'repeated bad continuation', (c) => {
        c.expect({ [OK]: [] }, failClose());
        const frames = [];
        for (let i = 0; i < 2; i++) {
          frames.push(c.frame({ opcode: 0, fin, payload: Buffer.from('fragment1') }));
          frames.push(c.frame({ opcode: 1, fin: false, payload: Buffer.from('fragment2') }));
          frames.push(c.frame({ opcode: 0, fin: true, payload: Buffer.from('fragment3') }));
        }
        c.write(Buffer.concat(frames));
        c.killAfter(1000);
      }));
  }
  test('5.18 text in 2 fragments, both with opcode text: fail 1002', () => runCase('5.18', 'two text-opcode fragments', (c) => {
      c.expect({ [OK]: [] }, failClose());
      c.sendFrame({ opcode: 1, fin: false, payload: 'fragment1' });
      c.sendFrame({ opcode: 1, fin: true, payload: 'fragment2' });
      c.killAfter(1000);
    }));
  for (const [id, sync] of [
    ['5.19', false],
    ['5.20', true],
  ]) {
    test(`${id} text in 5 fragments, pings between, 1 s pause${sync ? ' (frame-wise chops)' : ''}: first pong before the message ends`, () => runCase(id, 'fragments + pings + delay', async (c) => {
        const f = ['fragment1', 'fragment2', 'fragment3', 'fragment4', 'fragment5'];
        c.expect({ [OK]: [pong('pongme 1!'), pong('pongme 2!'), msg(f.join(''))] }, cleanClose());
        await c.sendFrame({ opcode: 1, fin: false, payload: f[0], sync });
        await c.sendFrame({ opcode: 0, fin: false, payload: f[1], sync });
        await c.sendFrame({ opcode: 9, payload: 'pongme 1!', sync });
        c.continueLater(1000, async () => {
          // The first pong must already be here: the peer answers pings inside a fragmented message.
          c.firstPongInTime = c.received.length === 1 && c.received[0][0] === 'pong';
          await c.sendFrame({ opcode: 0, fin: false, payload: f[2], sync });
          await c.sendFrame({ opcode: 0, fin: false, payload: f[3], sync });
          await c.sendFrame({ opcode: 9, payload: 'pongme 2!', sync });
          await c.sendFrame({ opcode: 0, fin: true, payload: f[4], sync });
          c.closeAfter(1000);
        });
      }).then((c) => assert.ok(c.firstPongInTime, `${id}: first pong not received within 1 s\n${c.report()}`)));
  }
});

// ---------------------------------------------------------------------------- 6.x
describe('6 UTF-8 handling', () => {
  const kosme = Buffer.from([0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5]);
  const helloUtf8 = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!', 'utf8');
  const invalid = Buffer.concat([kosme, Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('edited')]);
  test('6.1.1 empty text message', () => runCase('6.1.1', 'empty text', (c) => {
      c.expect({ [OK]: [msg('')] }, cleanClose());
      c.sendFrame({ opcode: 1 });
      c.killAfter(1000);
    }));
  test('6.1.2 text in 3 empty fragments', () => runCase('6.1.2', '3 empty fragments', (c) => {
      c.expect({ [OK]: [msg('')] }, cleanClose());
      c.sendFrame({ opcode: 1, fin: false });
      c.sendFrame({ opcode: 0, fin: false });
      c.sendFrame({ opcode: 0, fin: true });
      c.killAfter(1000);
    }));
  test('6.1.3 empty, non-empty, empty fragments', () => runCase('6.1.3', 'empty/non-empty/empty', (c) => {
      c.expect({ [OK]: [msg('middle frame payload')] }, cleanClose());
      c.sendFrame({ opcode: 1, fin: false });
      c.sendFrame({ opcode: 0, fin: false, payload: 'middle frame payload' });
      c.sendFrame({ opcode: 0, fin: true });
      c.killAfter(1000);
    }));
  test('6.2.1 valid UTF-8 in one frame', () => runCase('6.2.1', 'valid utf8', (c) => {
      c.expect({ [OK]: [msg(helloUtf8)] }, cleanClose());
      c.sendMessage(helloUtf8);
      c.killAfter(1000);
    }));
  test('6.2.2 valid UTF-8 in 2 fragments split on a code point boundary', () => runCase('6.2.2', 'valid utf8 2 fragments', (c) => {
      c.expect({ [OK]: [msg(helloUtf8)] }, cleanClose());
      c.sendFrame({ opcode: 1, fin: false, payload: helloUtf8.subarray(0, 12) });
      c.sendFrame({ opcode: 0, fin: true, payload: helloUtf8.subarray(12) });
      c.killAfter(1000);
    }));
  test('6.2.3 valid UTF-8 in 1-octet fragments', () => runCase('6.2.3', 'valid utf8 per byte', (c) => {
      c.expect({ [OK]: [msg(helloUtf8)] }, cleanClose());
      c.sendMessage(helloUtf8, { fragmentSize: 1 });
      c.killAfter(1000);
    }));
  test('6.2.4 valid UTF-8 (κόσμε) in 1-octet fragments', () => runCase('6.2.4', 'kosme per byte', (c) => {
      c.expect({ [OK]: [msg(kosme)] }, cleanClose());
      c.sendMessage(kosme, { fragmentSize: 1 });
      c.killAfter(1000);
    }));
  test('6.3.1 invalid UTF-8 in one frame: fail 1007', () => runCase('6.3.1', 'invalid utf8', (c) => {
      c.expect({ [OK]: [] }, failClose(INVALID_PAYLOAD));
      c.sendMessage(invalid);
      c.killAfter(1000);
    }));
  test('6.3.2 invalid UTF-8 in 1-octet fragments: fail 1007', () => runCase('6.3.2', 'invalid utf8 per byte', (c) => {
      c.expect({ [OK]: [] }, failClose(INVALID_PAYLOAD));
      c.sendMessage(invalid, { fragmentSize: 1 });
      c.killAfter(1000);
    }));

  // 6.4.x fail fast: the server must fail the connection (1007) as soon as it has
  // the octet that makes the payload invalid, before the message (or frame) ends.
  const P1 = kosme;
  const P2 = Buffer.from([0xf4, 0x90, 0x80, 0x80]); // 0x110000: invalid at 0x90
  const P3 = Buffer.from('edited');
  const PAYLOAD = Buffer.concat([P1, P2, P3]);
  const WAIT = 500;
  const failFast = (id, desc, parts, mode) =>
    test(`${id} fail fast on UTF-8: ${desc}`, () => runCase(id, desc, (c) => {
        c.expect({ [OK]: [timeoutMark('A')], [NON_STRICT]: [timeoutMark('A'), timeoutMark('B')] }, failClose(INVALID_PAYLOAD));
        // frames: 3 frames of one fragmented message; chops: 3 chops of one frame (header first with the full length).
        const frameBytes = mode === 'chops' ? c.frame({ opcode: 1, payload: PAYLOAD }) : null;
        const headerLength = frameBytes ? frameBytes.length - PAYLOAD.length : 0;
        let offset = 0;
        const send = (i) => {
          if (mode === 'frames') {
            c.sendFrame({ opcode: i === 0 ? 1 : 0, fin: i === 2, payload: parts[i] });
          } else {
            const end = (i === 0 ? headerLength : offset) + parts[i].length;
            c.write(frameBytes.subarray(offset, end));
            offset = end;
          }
          c.times[`part${i + 1}Sent`] = c.now();
        };
        send(0);
        c.continueLater(
          WAIT,
          () => {
            send(1);
            c.continueLater(
              WAIT,
              () => {
                send(2);
                c.killAfter(1000);
              },
              'B',
            );
          },
          'A',
        );
      }));
  failFast('6.4.1', '3 frames, the 2nd (f4 90 80 80) makes it invalid', [P1, P2, P3], 'frames');
  failFast('6.4.2', '3 frames, the 2nd is only the invalid octet 0x90', [PAYLOAD.subarray(0, 12), PAYLOAD.subarray(12, 13), PAYLOAD.subarray(13)], 'frames');
  failFast('6.4.3', '3 chops of one frame, the 2nd (f4 90 80 80) makes it invalid', [P1, P2, P3], 'chops');
  failFast('6.4.4', '3 chops of one frame, the 2nd is only the invalid octet 0x90', [PAYLOAD.subarray(0, 12), PAYLOAD.subarray(12, 13), PAYLOAD.subarray(13)], 'chops');

  utf8TestSequences().forEach(([category, list], i) => {
    list.forEach(([valid, payload], j) => {
      const id = `6.${i + 5}.${j + 1}`;
      test(`${id} ${category}: 0x${payload.toString('hex')} ${valid ? 'echoed' : 'fail 1007'}`, () => runCase(id, `${category} 0x${payload.toString('hex')}`, (c) => {
          if (valid) c.expect({ [OK]: [msg(payload)] }, cleanClose());
          else c.expect({ [OK]: [] }, failClose(INVALID_PAYLOAD));
          c.sendMessage(payload);
          c.killAfter(500);
        }));
    });
  });
});

// ---------------------------------------------------------------------------- 7.x
describe('7 Close handling', () => {
  test('7.1.1 message, then close', () => runCase('7.1.1', 'message then close', (c) => {
      c.expect({ [OK]: [msg('Hello World!')] }, cleanClose());
      c.sendFrame({ opcode: 1, payload: 'Hello World!' });
      c.killAfter(1000);
    }));
  const afterClose = (id, desc, body) =>
    test(`${id} ${desc}`, () => runCase(id, desc, (c) => {
        c.suppressClose = true;
        c.expect({ [OK]: [] }, cleanClose());
        body(c);
        c.killAfter(1000);
      }));
  afterClose('7.1.2', 'two close frames: the second is ignored', (c) => {
    c.sendClose(NORMAL);
    c.sendFrame({ opcode: 8 });
  });
  afterClose('7.1.3', 'ping after close: no pong', (c) => {
    c.sendClose(NORMAL);
    c.sendFrame({ opcode: 9 });
  });
  afterClose('7.1.4', 'text after close: not echoed', (c) => {
    c.sendClose(NORMAL);
    c.sendFrame({ opcode: 1, payload: 'Hello World!' });
  });
  afterClose('7.1.5', 'fragment, close, last fragment: nothing echoed', (c) => {
    c.sendFrame({ opcode: 1, fin: false, payload: 'fragment1' });
    c.sendClose(NORMAL);
    c.sendFrame({ opcode: 0, fin: true, payload: 'fragment2' });
  });
  test('7.1.6 256 KiB message, small message, close, ping (informational; the close must be handled)', async () => {
    const c = await runCase(
      '7.1.6',
      '256K message, message, close, ping',
      (c) => {
        c.suppressClose = true;
        c.expect({ [OK]: [msg('Hello World!')], [NON_STRICT]: [] }, cleanClose());
        c.write(
          Buffer.concat([
            c.frame({ opcode: 1, payload: repeat('BAsd7&jh23', 256 * 2 ** 10) }),
            c.frame({ opcode: 1, payload: Buffer.from('Hello World!') }),
          ]),
        );
        c.sendClose(NORMAL);
        c.sendFrame({ opcode: 9 });
        c.killAfter(1000);
      },
      {
        informational: (c, v) => {
          c.verdictText = `close=${v.behaviorClose}; received ${c.received.map((e) => `${e[0]}(${e[1].length} B)`).join(', ')}`;
          assert.equal(v.behaviorClose, OK, `\n${c.report(v)}\n`);
          assert.equal(c.remoteCloseCode, NORMAL, `\n${c.report(v)}\n`);
          assert.ok(!c.received.some((e) => e[0] === 'pong'), `no pong may follow the close\n${c.report(v)}`);
        },
      },
    );
    console.log(`# 7.1.6 (informational): ${c.verdictText}`);
  });

  // 7.3.x close frame payload lengths.
  const closeCase = (id, desc, send, expectedClose) =>
    test(`${id} ${desc}`, () => runCase(id, desc, (c) => {
        c.suppressClose = true;
        c.expect({ [OK]: [] }, expectedClose);
        send(c);
        c.killAfter(1000);
      }));
  closeCase('7.3.1', 'close with empty payload: empty or 1000 reply, clean', (c) => c.sendClose(), cleanClose());
  closeCase('7.3.2', 'close with 1-byte payload: 1002', (c) => c.sendClose(undefined, 'a'), { closedByMe: true, closeCode: [PROTOCOL_ERROR], requireClean: false });
  closeCase('7.3.3', 'close with code 1000 only', (c) => c.sendClose(NORMAL), cleanClose());
  closeCase('7.3.4', 'close with code and reason', (c) => c.sendClose(NORMAL, 'Hello World!'), cleanClose());
  closeCase('7.3.5', 'close with 123-byte reason (125 B payload)', (c) => c.sendClose(NORMAL, '*'.repeat(123)), cleanClose());
  closeCase('7.3.6', 'close with 124-byte reason (126 B payload): 1002', (c) => c.sendClose(NORMAL, '*'.repeat(124)), {
    closedByMe: true,
    closeCode: [PROTOCOL_ERROR],
    requireClean: false,
  });
  closeCase(
    '7.5.1',
    'close with invalid UTF-8 reason: 1002 or 1007',
    (c) => c.sendClose(NORMAL, Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex')),
    { closedByMe: true, closeCode: [PROTOCOL_ERROR, INVALID_PAYLOAD], requireClean: false },
  );
  [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999].forEach((code, i) =>
    closeCase(`7.7.${i + 1}`, `close with valid code ${code}: echoed or 1000, clean`, (c) => c.sendClose(code), cleanClose([NORMAL, code])),
  );
  [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999].forEach((code, i) =>
    closeCase(`7.9.${i + 1}`, `close with invalid code ${code}: 1002`, (c) => c.sendClose(code), {
      closedByMe: true,
      closeCode: [PROTOCOL_ERROR],
      requireClean: false,
    }),
  );
  // Older Autobahn releases (case7_9_X.py before 1012-1014 were registered) listed
  // 1012, 1013, 1014, 1015 as invalid codes too (7.9.6-7.9.9 there, expecting 1002).
  // Current releases do not test them; 1015 must never be on the wire (RFC 6455 §7.4.1).
  // Informational for 1012-1014 (registered: valid), strict for 1015.
  for (const code of [1012, 1013, 1014]) {
    test(`7.9.x-legacy close with code ${code} (informational: older Autobahn releases expected 1002)`, async () => {
      const c = await runCase(
        `7.9.x-legacy-${code}`,
        `close ${code}`,
        (c) => {
          c.suppressClose = true;
          c.expect({ [OK]: [] }, { closedByMe: true, closeCode: [NORMAL, code, PROTOCOL_ERROR], requireClean: false });
          c.sendClose(code);
          c.killAfter(1000);
        },
        { informational: (c, v) => assert.equal(v.behaviorClose, OK, `\n${c.report(v)}\n`) },
      );
      console.log(`# 7.9.x-legacy (informational): close ${code} answered with ${c.remoteCloseCode}`);
    });
  }
  closeCase('7.9.x-legacy-1015', 'close with code 1015 (never sent on the wire): 1002', (c) => c.sendClose(1015), {
    closedByMe: true,
    closeCode: [PROTOCOL_ERROR],
    requireClean: false,
  });
  for (const [id, code] of [
    ['7.13.1', 5000],
    ['7.13.2', 65535],
  ]) {
    test(`${id} close with code ${code} (informational; 1000, ${code} or 1002 and a dropped TCP)`, async () => {
      const c = await runCase(
        id,
        `close ${code}`,
        (c) => {
          c.suppressClose = true;
          c.expect({ [OK]: [] }, { closedByMe: true, closeCode: [NORMAL, code, PROTOCOL_ERROR], requireClean: false });
          c.sendClose(code);
          c.killAfter(1000);
        },
        {
          informational: (c, v) => {
            assert.equal(v.behaviorClose, OK, `\n${c.report(v)}\n`);
          },
        },
      );
      console.log(`# ${id} (informational): server replied ${c.remoteCloseCode}`);
    });
  }
});

// ---------------------------------------------------------------------------- 10.x
describe('10 Auto-fragmentation', () => {
  test('10.1.1 65536 B text sent in 1300-byte fragments', () =>
    runCase('10.1.1', 'auto-fragmented 65536 B', (c) => {
      const payload = repeat('*', 65536);
      c.expect({ [OK]: [msg(payload)] }, cleanClose());
      c.sendMessage(payload, { fragmentSize: 1300 });
      c.killAfter(10_000);
    }));
});

// ---------------------------------------------------------------------------- 12.x / 13.x
// permessage-deflate (RFC 7692), as Autobahn's sections 12 and 13: many compressed
// messages of 16 B-128 KiB (whole and in 256-byte fragments), five kinds of payload
// (12.x) and every parameter combination of the testsuite's offers (13.x). The peer
// inflates with exactly the agreed window (autobahn-deflate.mjs), so a testee that
// ignores server_max_window_bits or no_context_takeover fails.
for (const [section, title] of [['12', '12 WebSocket Compression (different payloads)'], ['13', '13 WebSocket Compression (different parameters)']]) {
  describe(title, () => {
    for (const spec of deflateCases().filter((k) => k.id.startsWith(`${section}.`))) {
      test(`${spec.id} ${spec.desc}`, () => runCase(spec.id, spec.desc, (c) => {
        c.expect({ [OK]: [] }, cleanClose());
        c.killAfter(20_000);
        runDeflateMessages(c, spec);
      }, { deflate: spec }));
    }
  });
}

}

// ---------------------------------------------------------------------------- echo testee
describe('echo testee (dist/cli/echo.js) driven as by the fuzzingclient', () => {
  defineCases(describe, test, runCase);
});

// Register the same cases for the fuzzingserver run (client role, testee-client).
const SERVER_CASES = [];
{
  let title = '';
  defineCases(
    (_name, fn) => fn(),
    (name, fn) => {
      title = name;
      fn();
    },
    (id, description, body, opts = {}) => {
      SERVER_CASES.push({ id, title, description, body, opts });
      return new Promise(() => {}); // the post-checks of the echo run do not apply here
    },
  );
}

// ---------------------------------------------------------------------------- 9.x
describe('echo testee: 9 Limits/Performance (one iteration each)', () => {
  for (const spec of perfCases()) {
    test(`${spec.id} ${spec.desc}`, async () => {
      const { c, verdict, ms } = await runPerfCase(port, spec);
      perfTimes.push([spec.id, ms]);
      show(c, verdict, 'echo testee');
      recordDrop(c, 'echo');
      assert.ok(verdict.behavior === OK && verdict.behaviorClose === OK, `\n${c.report(verdict)}\n`);
    });
  }
});

// ---------------------------------------------------------------------------- client testee
// A small fake fuzzingserver (http + raw upgrade, our own framing) driving
// dist/cli/testee-client.js: /getCaseCount, /runCase?case=i&agent=A, /updateReports?agent=A.
describe('testee-client against a fake fuzzingserver', () => {
  test('getCaseCount, 3 cases echoed exactly, updateReports last; the client waits for the server to drop TCP', async () => {
    const AGENT = 'wsframe-conformance';
    const log = [];
    const results = new Map();
    const big = repeat('*', 65536);
    const bin = randomBytes(10_000);
    const plans = {
      1: {
        // text, binary, fragmented text, a ping
        frames: [
          encodeFrame({ opcode: 1, payload: Buffer.from('Hello, world!'), mask: false }),
          encodeFrame({ opcode: 2, payload: Buffer.from([0x00, 0xff, 0xfe, 0xfd]), mask: false }),
          encodeFrame({ opcode: 1, fin: false, payload: Buffer.from('frag'), mask: false }),
          encodeFrame({ opcode: 0, fin: false, payload: Buffer.from('ment'), mask: false }),
          encodeFrame({ opcode: 0, fin: true, payload: Buffer.from('ed'), mask: false }),
          encodeFrame({ opcode: 9, payload: Buffer.from('ping!'), mask: false }),
        ],
        expect: [
          ['message', Buffer.from('Hello, world!'), false],
          ['message', Buffer.from([0x00, 0xff, 0xfe, 0xfd]), true],
          ['message', Buffer.from('fragmented'), false],
          ['pong', Buffer.from('ping!')],
        ],
      },
      2: {
        // 10 KB binary, 64 KiB text in 1300-byte fragments with a ping between, empty text
        frames: [
          encodeFrame({ opcode: 2, payload: bin, mask: false }),
          ...Array.from({ length: Math.ceil(65536 / 1300) }, (_, i) =>
            encodeFrame({ opcode: i === 0 ? 1 : 0, fin: i === Math.ceil(65536 / 1300) - 1, payload: big.subarray(i * 1300, (i + 1) * 1300), mask: false }),
          ).flatMap((f, i) => (i === 10 ? [f, encodeFrame({ opcode: 9, payload: Buffer.from('mid'), mask: false })] : [f])),
          encodeFrame({ opcode: 1, payload: Buffer.alloc(0), mask: false }),
        ],
        expect: [
          ['message', bin, true],
          ['pong', Buffer.from('mid')],
          ['message', big, false],
          ['message', Buffer.alloc(0), false],
        ],
      },
      3: {
        // UTF-8 text in 1-byte fragments, then a 1 MiB binary message
        frames: [
          ...[...Buffer.from('κόσμε', 'utf8')].map((byte, i, all) =>
            encodeFrame({ opcode: i === 0 ? 1 : 0, fin: i === all.length - 1, payload: Buffer.from([byte]), mask: false }),
          ),
          encodeFrame({ opcode: 2, payload: repeat([0x00, 0xfe, 0x23, 0xfa, 0xf0], 2 ** 20), mask: false }),
        ],
        expect: [
          ['message', Buffer.from('κόσμε', 'utf8'), false],
          ['message', repeat([0x00, 0xfe, 0x23, 0xfa, 0xf0], 2 ** 20), true],
        ],
      },
    };
    const CASES = Object.keys(plans).length;

    const server = createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket) => {
      const url = new URL(req.url, 'http://x');
      log.push(url.pathname + url.search);
      const key = req.headers['sec-websocket-key'];
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
      const parser = new FrameParser({ expectMasked: true });
      const st = { events: [], closeFrame: null, clientFin: false, clientFinBeforeDrop: false, dropped: false, violations: [], fragments: null, rx: [] };
      let onClientClose = null;
      socket.on('data', (chunk) => {
        if (st.rx.length < 20) st.rx.push(hex(chunk, 64));
        for (const f of parser.push(chunk)) {
          if (st.closeFrame) {
            st.violations.push(`frame opcode ${f.opcode} after the client's close`);
            continue;
          }
          if (f.opcode === 8) {
            st.closeFrame = f.payload;
            onClientClose?.();
          } else if (f.opcode === 10) st.events.push(['pong', f.payload]);
          else if (f.opcode === 9) st.events.push(['ping', f.payload]);
          else if (f.opcode === 1 || f.opcode === 2) {
            if (f.fin) st.events.push(['message', f.payload, f.opcode === 2]);
            else st.fragments = { parts: [f.payload], binary: f.opcode === 2 };
          } else if (f.opcode === 0 && st.fragments) {
            st.fragments.parts.push(f.payload);
            if (f.fin) {
              st.events.push(['message', Buffer.concat(st.fragments.parts), st.fragments.binary]);
              st.fragments = null;
            }
          } else st.violations.push(`unexpected opcode ${f.opcode}`);
        }
        st.violations.push(...parser.violations.splice(0));
      });
      socket.on('end', () => {
        st.clientFin = true;
        if (!st.dropped) st.clientFinBeforeDrop = true;
      });
      socket.on('error', (e) => st.violations.push(`socket error ${e.code}`));
      // The fuzzingserver's closing handshake: send close 1000, wait for the client's
      // close, keep the TCP up for a moment (a conforming client must not drop it), then drop it.
      const closeAndDrop = async () => {
        const gotClose = new Promise((r) => (onClientClose = r));
        if (!st.closeFrame) socket.write(encodeFrame({ opcode: 8, payload: closePayload(NORMAL), mask: false }));
        let t;
        await Promise.race([gotClose, new Promise((r) => (t = setTimeout(r, 2000)))]);
        clearTimeout(t);
        await delay(200);
        st.dropped = true;
        socket.end();
        await new Promise((r) => (socket.destroyed ? r() : socket.once('close', r)));
      };
      (async () => {
        if (url.pathname === '/getCaseCount') {
          socket.write(encodeFrame({ opcode: 1, payload: Buffer.from(String(CASES)), mask: false }));
          await closeAndDrop();
        } else if (url.pathname === '/runCase') {
          const i = Number(url.searchParams.get('case'));
          const plan = plans[i];
          results.set(i, { st, agent: url.searchParams.get('agent'), plan });
          socket.write(Buffer.concat(plan.frames));
          const deadline = Date.now() + 5000;
          while (st.events.length < plan.expect.length && Date.now() < deadline && !socket.destroyed) await delay(5);
          await closeAndDrop();
        } else if (url.pathname === '/updateReports') {
          results.set('update', { st, agent: url.searchParams.get('agent') });
          await closeAndDrop();
        }
      })();
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const serverPort = server.address().port;
    const child = spawn(process.execPath, [TESTEE_CLIENT, '--url', `ws://127.0.0.1:${serverPort}`, '--agent', AGENT], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    let killTimer;
    const exit = await Promise.race([
      new Promise((r) => child.once('exit', (code) => r(code))),
      new Promise((r) => (killTimer = setTimeout(() => r('timeout'), 20_000))),
    ]);
    clearTimeout(killTimer);
    if (exit === 'timeout') {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    server.close();
    const ctx = `\nclient output:\n${out}\nrequests: ${log.join(' ')}`;
    assert.equal(exit, 0, `testee-client exit ${exit}${ctx}`);
    assert.deepEqual(
      log.map((p) => p.replace(/\?.*/, '')),
      ['/getCaseCount', '/runCase', '/runCase', '/runCase', '/updateReports'],
      ctx,
    );
    assert.equal(log.at(-1), `/updateReports?agent=${AGENT}`, ctx);
    for (let i = 1; i <= CASES; i++) {
      assert.equal(log[i], `/runCase?case=${i}&agent=${AGENT}`, ctx);
      const { st, agent, plan } = results.get(i);
      const detail = `case ${i}: events ${st.events.map((e) => `${e[0]}(${e[1].length} B${e[0] === 'message' ? (e[2] ? ' bin' : ' text') : ''})`).join(', ')}; violations ${st.violations.join('; ')}; rx ${st.rx.slice(0, 4).join(' | ')}${ctx}`;
      assert.equal(agent, AGENT);
      assert.equal(st.events.length, plan.expect.length, detail);
      plan.expect.forEach((e, k) => {
        assert.equal(st.events[k][0], e[0], detail);
        assert.ok(Buffer.from(st.events[k][1]).equals(e[1]), `event ${k} payload differs: ${detail}`);
        if (e[0] === 'message') assert.equal(st.events[k][2], e[2], detail);
      });
      assert.deepEqual(st.violations, [], detail);
      assert.ok(st.closeFrame, `no close frame from the client: ${detail}`);
      assert.equal(st.closeFrame.length >= 2 ? st.closeFrame.readUInt16BE(0) : null, NORMAL, `client close reply: ${detail}`);
      assert.equal(st.clientFinBeforeDrop, false, `the client dropped TCP before the server did: ${detail}`);
    }
    const update = results.get('update');
    assert.ok(update.st.closeFrame, 'updateReports: client did not answer the close');
    assert.equal(update.st.clientFinBeforeDrop, false, 'updateReports: the client dropped TCP first');
  });
});

// ---------------------------------------------------------------------------- client testee, every case
// The fuzzingserver run: dist/cli/testee-client.js connects for every case
// (/runCase?case=i&agent=A) and echoes; this side is Autobahn's fuzzingserver
// running the same case (unmasked frames out, masked frames expected in, and
// the server drops TCP after the closing handshake). Judged exactly as above.
describe('testee-client (dist/cli/testee-client.js) driven as by the fuzzingserver, every case', () => {
  const AGENT = 'wsframe-fuzzingserver';
  // 9.x: a representative subset here (the echo run above does the whole set);
  // CONFORMANCE_FULL=1 runs every 9.x case against the client too.
  const PERF_SUBSET = new Set(['9.1.1', '9.1.3', '9.1.6', '9.2.6', '9.3.1', '9.3.9', '9.4.3', '9.5.1', '9.6.6', '9.7.6', '9.8.1']);
  const perf = perfCases()
    .filter((spec) => process.env.CONFORMANCE_FULL === '1' || PERF_SUBSET.has(spec.id))
    .map((spec) => ({ id: spec.id, title: spec.desc, perf: spec }));
  const all = [...SERVER_CASES, ...perf];
  const results = new Map();
  const requests = [];
  let output = '';
  let exitCode = null;

  before(async () => {
    const server = createServer((_req, res) => res.writeHead(404).end());
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url, 'http://x');
      requests.push(url.pathname + url.search);
      // Twisted sends the 101 and the frames the case writes in onOpen in one segment:
      // the client must take frames that arrive with the response head.
      socket.cork();
      process.nextTick(() => socket.uncork());
      const k = url.pathname === '/runCase' ? all[Number(url.searchParams.get('case')) - 1] : undefined;
      // 12.x/13.x: accept the testee's permessage-deflate offer with the case's parameters.
      const deflate = k?.opts?.deflate;
      const extensions = deflate && req.headers['sec-websocket-extensions'] ? autobahnServerResponse(deflate.offers[0]) : undefined;
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nServer: AutobahnTestSuite/0.8.2-0.10.9\r\nX-Powered-By: AutobahnPython/0.10.9\r\n' +
          `Upgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(req.headers['sec-websocket-key'])}\r\n` +
          (extensions ? `Sec-WebSocket-Extensions: ${extensions}\r\n` : '') + '\r\n',
      );
      if (url.pathname === '/runCase') {
        const c = FuzzCase.accept(socket, head, k.id, k.title);
        c.offerReceived = req.headers['sec-websocket-extensions'];
        c.responseExtensions = extensions;
        const started = performance.now();
        (async () => {
          let verdict;
          if (k.perf) ({ verdict } = await runPerfCase(c, k.perf));
          else {
            await k.body(c);
            verdict = await c.finished(30_000);
          }
          results.set(k.id, { c, verdict, ms: performance.now() - started, agent: url.searchParams.get('agent') });
          show(c, verdict, 'testee-client');
          if (!k.perf) recordDrop(c, 'client');
        })().catch((error) => results.set(k.id, { error }));
      } else {
        // getCaseCount (the count, then close) and updateReports (close).
        const c = FuzzCase.accept(socket, head, url.pathname, '');
        if (url.pathname === '/getCaseCount') c.write(c.frame({ opcode: 1, payload: String(all.length) }));
        c.sendClose(NORMAL);
        c.killAfter(5000);
      }
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const child = spawn(process.execPath, [TESTEE_CLIENT, '--url', `ws://127.0.0.1:${server.address().port}`, '--agent', AGENT], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timer;
    exitCode = await Promise.race([
      new Promise((r) => child.once('exit', (code) => r(code))),
      new Promise((r) => (timer = setTimeout(() => r('timeout'), 60_000))),
    ]);
    clearTimeout(timer);
    if (exitCode === 'timeout') {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    server.close();
  });

  after(() => {
    const times = perf.map((k) => [k.id, results.get(k.id)?.ms]).filter(([, ms]) => ms !== undefined);
    if (times.length) console.log(`# 9.x timings (testee-client, case connection open to TCP closed): ${times.map(([id, ms]) => `${id}=${ms.toFixed(1)}ms`).join(' ')}`);
  });

  test('the run: getCaseCount, every case in order, updateReports last, exit 0', () => {
    const ctx = `\nclient output:\n${output.slice(-2000)}`;
    assert.equal(exitCode, 0, ctx);
    assert.equal(requests[0], '/getCaseCount', ctx);
    assert.equal(requests.at(-1), `/updateReports?agent=${AGENT}`, ctx);
    assert.equal(requests.length, all.length + 2, ctx);
  });

  for (const k of all) {
    test(`${k.perf ? `${k.id} ` : ''}${k.title} (client role)`, () => {
      const r = results.get(k.id);
      assert.ok(r, `case ${k.id} was not run by the client`);
      if (r.error) throw r.error;
      assert.equal(r.agent, AGENT);
      if (k.opts?.informational) return k.opts.informational(r.c, r.verdict);
      assertStrict(r.c, r.verdict);
    });
  }
});
