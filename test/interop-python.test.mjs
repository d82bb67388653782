// Interop with Python's `websockets` (Debian python3-websockets), both ways:
// a Python client against our accept(), and our connect() against a Python
// server. The Python scripts live in test/support/py/. Issue #4.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startServer, connectOpen, echo, SUBJECT } from './support/subject.mjs';
import { findPython, runClient, startPythonServer } from './support/python.mjs';
import { binaryPayload, textPayload, textBytes } from './support/payload.mjs';
import { SIZES, MiB, KiB, label, sameBytes, withTimeout, eventQueue } from './support/util.mjs';

const py = findPython();
// Python's pure-Python masking makes 16 MiB cost seconds per message; the issue
// asks 16 MiB of ws and Chromium, so Python stops at 1 MiB (plus 3 MiB fragmented).
const PY_SIZES = SIZES.filter((s) => s <= MiB);
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/** test() that skips visibly when Python's websockets is not available. */
const it = (name, fn, timeout = 30000) => test(name, { timeout }, (t) => (py.missing ? t.skip(py.missing) : fn(t)));

const routes = {
  echo: { options: { maxMessageSize: 32 * MiB }, on: echo },
  small: { options: { maxMessageSize: 64 * KiB }, on: echo },
  close1000: { on: (ws) => setTimeout(() => ws.close(1000, 'normal bye'), 20) },
  close4000: { on: (ws) => setTimeout(() => ws.close(4000, 'app close'), 20) },
  ping: {
    on: (ws) => {
      ws.pongs = [];
      ws.on('pong', (p) => { ws.pongs.push(Buffer.from(p).toString()); ws.send('done'); });
      setTimeout(() => ws.ping(Buffer.from('node-ping')), 20);
    },
  },
  idle: { on: () => {} },
};
const route = (req) => routes[req.url.split('/')[1]] ?? routes.idle;

describe(`our server <- Python websockets client (subject: ${SUBJECT})`, () => {
  let srv;
  let n = 0;
  const path = (name) => `/${name}/${++n}`;
  before(async () => {
    srv = await startServer({ options: (req) => route(req).options ?? {}, onConnection: (ws, req) => route(req).on(ws) });
  });
  after(() => srv?.close());
  const done = (r) => {
    const last = r.out.find((l) => l.done);
    assert.ok(last, `python client finished (exit ${r.code}, stderr: ${r.stderr})`);
    return last.done;
  };

  it('python has websockets', (t) => { t.diagnostic(`${py.python}: websockets ${py.version}`); });

  it('echo of text and binary, 0 B to 1 MiB, byte for byte (checked by Python)', async (t) => {
    const p = path('echo');
    const r = await runClient(py.python, ['echo', `${srv.url}${p}`], 60000);
    assert.deepEqual(r.out.find((l) => l.extensions)?.extensions, [], 'permessage-deflate offered by websockets must be declined');
    const cases = r.out.filter((l) => l.case);
    for (const kind of ['binary', 'text']) {
      for (const size of PY_SIZES) {
        await t.test(`${kind} ${label(size)}`, () => {
          const c = cases.find((x) => x.case === `${kind} ${size}`);
          assert.ok(c, `case ran (stderr: ${r.stderr.slice(-500)})`);
          assert.equal(c.type_ok, true, 'echo keeps the message type');
          assert.equal(c.diff, null);
        });
      }
    }
    assert.equal(done(r).code, 1000);
    const conn = await srv.connectionFor(p);
    assert.deepEqual(await withTimeout(conn.closed, 5000, 'server close'), { code: 1000, reason: 'py done' });
    assert.deepEqual(conn.errors, []);
  }, 90000);

  it('fragmented text (with an empty fragment) and binary messages from Python', async () => {
    const r = await runClient(py.python, ['frag', `${srv.url}${path('echo')}`]);
    for (const name of ['text fragments', 'binary fragments']) {
      const c = r.out.find((x) => x.case === name);
      assert.ok(c, `${name} ran (stderr: ${r.stderr.slice(-500)})`);
      assert.equal(c.type_ok, true, `${name}: type`);
      assert.equal(c.diff, null, `${name}: bytes`);
    }
    assert.equal(done(r).code, 1000);
  });

  it('pings both ways', async () => {
    const p = path('ping');
    const r = await runClient(py.python, ['ping', `${srv.url}${p}`]);
    assert.ok(r.out.some((l) => l.pong === 'py-ping'), `python got its pong (stderr: ${r.stderr.slice(-500)})`);
    assert.ok(r.out.some((l) => l.message === 'done'), 'our server got the pong to its ping');
    const conn = await srv.connectionFor(p);
    assert.deepEqual(conn.pongs, ['node-ping']);
    assert.deepEqual(conn.pings, ['py-ping']);
  });

  it('Python closes with 4001: our server reports it and echoes the code', async () => {
    const p = path('idle');
    const r = await runClient(py.python, ['close', `${srv.url}${p}`, '4001', 'py leaves']);
    assert.equal(done(r).code, 4001);
    const conn = await srv.connectionFor(p);
    assert.deepEqual(await withTimeout(conn.closed, 5000, 'server close'), { code: 4001, reason: 'py leaves' });
  });

  it('our server closes with 1000 and a reason', async () => {
    const r = await runClient(py.python, ['wait-close', `${srv.url}${path('close1000')}`]);
    assert.deepEqual(done(r), { code: 1000, reason: 'normal bye' });
  });

  it('our server closes with application code 4000', async () => {
    const r = await runClient(py.python, ['wait-close', `${srv.url}${path('close4000')}`]);
    assert.deepEqual(done(r), { code: 4000, reason: 'app close' });
  });

  it('Python sends more than maxMessageSize -> Python sees 1009', async () => {
    const r = await runClient(py.python, ['wait-close', `${srv.url}${path('small')}`, 'big', String(64 * KiB + 1)]);
    assert.equal(done(r).code, 1009);
  });

  it('Python sends invalid UTF-8 in a text frame -> Python sees 1007', async () => {
    const r = await runClient(py.python, ['wait-close', `${srv.url}${path('echo')}`, 'badutf8', 'cebae1bdb9cf83cebcceb5eda080656469746564']);
    assert.equal(done(r).code, 1007);
  });
});

describe(`our client -> Python websockets server (subject: ${SUBJECT})`, () => {
  let server;
  let n = 0;
  const path = (name) => `/${name}/${++n}`;
  before(async () => { if (!py.missing) server = await startPythonServer(py.python); }, { timeout: 20000 });
  after(() => server?.close());
  const closedOnPython = (p) => server.waitLine((l) => l.path === p && 'close_code' in l, 5000, `python server close of ${p}`);

  for (const binary of [true, false]) {
    for (const size of PY_SIZES) {
      it(`echo ${binary ? 'binary' : 'text'} ${label(size)}`, async () => {
        const p = path('echo');
        const ws = await connectOpen(`${server.url}${p}`, { maxMessageSize: 32 * MiB });
        const q = ws.messages;
        ws.send(binary ? binaryPayload(size) : textPayload(size), { binary });
        const [data, isBinary] = await q.next(20000, `echo of ${label(size)}`);
        assert.equal(isBinary, binary, 'echo keeps the message type');
        assert.equal(sameBytes(data, binary ? binaryPayload(size) : textBytes(size)), true);
        ws.close(1000, 'bye');
        assert.equal((await withTimeout(ws.closed, 5000, 'our close')).code, 1000);
        const line = await closedOnPython(p);
        assert.deepEqual([line.close_code, line.close_reason], [1000, 'bye']);
        assert.deepEqual(ws.errors, []);
      });
    }
  }

  it('fragmented text and binary messages from Python', async () => {
    const p = path('frag');
    const ws = await connectOpen(`${server.url}${p}`, { maxMessageSize: 32 * MiB });
    const q = ws.messages;
    const [text, tb] = await q.next(10000, 'fragmented text');
    const [blob, bb] = await q.next(10000, 'fragmented binary');
    const sent = await server.waitLine((l) => l.path === p && l.frag_sha256, 5000, 'hashes from python');
    assert.equal(tb, false);
    assert.equal(bb, true);
    assert.deepEqual([sha256(text), sha256(blob)], sent.frag_sha256, 'reassembled messages are byte-identical');
    ws.close(1000);
    await closedOnPython(p);
  });

  it('pings both ways', async () => {
    const p = path('ping');
    const ws = await connectOpen(`${server.url}${p}`);
    const msgs = ws.messages;
    const pongs = eventQueue(ws, 'pong', (d) => Buffer.from(d).toString());
    const [m] = await msgs.next(5000, 'python confirms our auto-pong');
    assert.equal(m.toString(), 'pong-received');
    assert.deepEqual(ws.pings, ['py-server-ping'], "our 'ping' event carries the payload");
    ws.ping(Buffer.from('node-client-ping'));
    assert.equal(await pongs.next(5000), 'node-client-ping');
    ws.close(1000, 'bye');
    assert.deepEqual(await closedOnPython(p).then((l) => [l.close_code, l.close_reason]), [1000, 'bye']);
  });

  it('Python closes with 4000: our client reports it and echoes the code', async () => {
    const p = path('close4000');
    const ws = await connectOpen(`${server.url}${p}`);
    assert.deepEqual(await withTimeout(ws.closed, 5000, 'our close'), { code: 4000, reason: 'py app close' });
    assert.equal((await closedOnPython(p)).close_code, 4000);
    assert.equal(ws.closes.length, 1);
  });

  it('Python sends more than our maxMessageSize -> Python sees 1009', async () => {
    const p = `/big/${2 * MiB}/${++n}`;
    const ws = await connectOpen(`${server.url}${p}`, { maxMessageSize: MiB });
    assert.equal((await closedOnPython(p)).close_code, 1009);
    await withTimeout(ws.closed, 5000, 'our close');
    assert.equal(ws.closes.length, 1);
  });

  it('Python sends invalid UTF-8 -> Python sees 1007', async () => {
    const p = path('badutf8');
    const ws = await connectOpen(`${server.url}${p}`);
    assert.equal((await closedOnPython(p)).close_code, 1007);
    await withTimeout(ws.closed, 5000, 'our close');
  });
});
