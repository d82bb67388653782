// wsframe-bench as a user gets it: the `npm pack` tarball installed into an
// empty project, its `bin` run against echo servers (ws) on 127.0.0.1. Checks
// the JSON it writes, the HTML report, the exit codes of the regression gate,
// and that bad input of every kind ends in one line on stderr (no stack).
// Counts are tiny: this tests behaviour, never speed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { WebSocketServer } = require('ws');
const root = new URL('..', import.meta.url).pathname;

let dir, app, bin;
const servers = [];

function listen(server) {
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** A ws echo server; `onMessage(ws, data, isBinary, n)` may replace the echo. */
async function wsServer(onMessage, options = {}) {
  const server = http.createServer((req, res) => res.end('not a websocket'));
  const wss = new WebSocketServer({ server, perMessageDeflate: false, ...options });
  wss.on('connection', (ws) => {
    let n = 0;
    ws.on('message', (data, isBinary) => (onMessage ?? ((w, d, b) => w.send(d, { binary: b })))(ws, data, isBinary, n++));
    ws.on('error', () => {});
  });
  server.on('close', () => { for (const c of wss.clients) c.terminate(); });
  return `ws://127.0.0.1:${await listen(server)}/echo`;
}

/** Runs the installed command without blocking this process's servers. */
function run(args) {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd: app, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

function assertOneLine(result, code, pattern) {
  assert.equal(result.code, code, `exit code ${code}: ${result.stderr}`);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got: ${result.stderr}`);
  assert.match(lines[0], /^wsframe-bench: /);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  assert.match(lines[0], pattern);
}

const tiny = ['--warmup', '0', '-n', '20', '--timeout', '5000', '-q'];
let echo;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wsframe-bench-'));
  const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }));
  assert.ok(packed[0].files.some((f) => f.path === 'dist/cli/wsframe-bench.js'), 'the tarball has the command');
  assert.ok(packed[0].files.some((f) => f.path === 'dist/loadgen/workloads.js'), 'and its parts');
  app = join(dir, 'app');
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, packed[0].filename)], { cwd: app, stdio: 'pipe' });
  bin = join(app, 'node_modules/.bin/wsframe-bench');
  assert.ok(existsSync(bin), 'npm linked the bin');
  // `npx wsframe-bench` finds the installed bin (no network).
  const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  assert.equal(execFileSync('npx', ['--offline', 'wsframe-bench', '--version'], { cwd: app, encoding: 'utf8' }).trim(), version);
  echo = await wsServer();
});

after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

test('--help documents every option, its default and the exit codes', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const option of ['--workload', '--duration', '--warmup', '--messages', '--rounds', '--size', '--fragment', '--count', '--connections', '--text', '--fresh-masks', '--timeout', '--wait', '--header', '--protocol', '--compare', '--server-pid', '--json', '--html', '--baseline', '--metric', '--threshold', '--retries', '--quiet']) {
    assert.ok(r.stdout.includes(option), `--help mentions ${option}`);
  }
  for (const w of ['ref', 'frame', 'pipeline', 'concurrent', 'ping', 'connect']) assert.match(r.stdout, new RegExp(`^  ${w} `, 'm'));
  assert.match(r.stdout, /Exit codes:\n  0 .*\n  1 .*\n  2 .*\n  3 /);
  assert.match(r.stdout, /\[10000\]/, 'defaults are shown');
});

test('every workload runs against a ws echo server and is written to --json and --html', { timeout: 60_000 }, async () => {
  const json = join(dir, 'all.json');
  const html = join(dir, 'all.html');
  const r = await run([echo, '-w', 'all', '--size', '100', '--fragment', '10', '--count', '5', '-c', '2', ...tiny, '--json', json, '--html', html]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal');
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(doc.tool, 'wsframe-bench');
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.rows.map((row) => row.workload), ['ref', 'frame', 'pipeline', 'concurrent', 'ping', 'connect']);
  for (const row of doc.rows) {
    assert.ok(row.messages >= 20, `${row.key}: ran 20 operations (got ${row.messages})`);
    assert.ok(row.msgsPerSec > 0 && row.seconds > 0, row.key);
    const l = row.latencyMs;
    assert.ok(l.min <= l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max, `${row.key}: percentiles ordered`);
    assert.equal(row.histogram.buckets.reduce((n, b) => n + b[1], 0), row.messages, `${row.key}: one latency per operation`);
    assert.equal(row.errors, 0);
    assert.ok(row.clientCpu.totalMs > 0 && row.clientCpu.usPerMessage > 0, `${row.key}: the generator's CPU time`);
    assert.equal(row.serverCpu, null, 'no --server-pid, no server CPU');
    assert.equal(row.target, echo.slice(5));
  }
  const byWorkload = Object.fromEntries(doc.rows.map((row) => [row.workload, row]));
  assert.equal(byWorkload.ref.key, 'ref size=100 fragment=10 connections=2 binary');
  assert.equal(byWorkload.pipeline.params.count, 5);
  assert.ok(Math.abs(byWorkload.pipeline.mbPerSec * 1e6 / byWorkload.pipeline.msgsPerSec - 100) < 1e-6, 'MB/s counts the payload bytes');
  // Each connection ends with the closing handshake: ws answers 1000.
  assert.deepEqual(byWorkload.concurrent.closeCodes, { 1000: 2 });
  assert.ok(byWorkload.connect.closeCodes['1000'] >= 20);
  assert.match(r.stdout, /^workload\s+server\s+msgs\/s/);
  const page = readFileSync(html, 'utf8');
  assert.match(page, /^<!doctype html>/);
  assert.equal((page.match(/<svg /g) ?? []).length, 12, 'two charts per workload');
  assert.doesNotMatch(page, /<script|src=|href=/, 'self-contained: no script, nothing fetched');
});

test('text messages are echoed and verified as text', async () => {
  const json = join(dir, 'text.json');
  const r = await run([echo, '-w', 'concurrent', '--text', '--size', '33', '-c', '3', ...tiny, '--json', json]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(readFileSync(json, 'utf8')).rows[0].key, 'concurrent size=33 connections=3 text');
});

test('a server that accepts permessage-deflate: the generator does not offer it, and the run passes', async () => {
  // ws compresses every message it can (threshold 0) when the client offers the extension.
  const offers = [];
  const deflating = await wsServer(undefined, {
    perMessageDeflate: { threshold: 0 },
    verifyClient: (info) => { offers.push(info.req.headers['sec-websocket-extensions'] ?? null); return true; },
  });
  const r = await run([deflating, '-w', 'frame,pipeline', '--size', '2KiB', ...tiny]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(offers.length >= 2, `connections seen: ${offers.length}`);
  assert.deepEqual([...new Set(offers)], [null], 'no Sec-WebSocket-Extensions in any request');
});

test('--header and --protocol reach the handshake', async () => {
  const guarded = await wsServer(undefined, {
    verifyClient: (info) => info.req.headers['x-token'] === 'let me in',
    handleProtocols: (offered) => (offered.has('echo.v1') ? 'echo.v1' : false),
  });
  assertOneLine(await run([guarded, '-w', 'ping', ...tiny]), 1, /server did not upgrade: Unexpected server response: 401/);
  const r = await run([guarded, '-w', 'ping,connect', ...tiny, '-H', 'X-Token: let me in', '--protocol', 'chat', '--protocol', 'echo.v1']);
  assert.equal(r.code, 0, r.stderr);
  assertOneLine(await run([guarded, '-H', 'no colon']), 2, /--header: expected "Name: value"/);
  assertOneLine(await run([guarded, '--protocol', 'a b']), 2, /--protocol: "a b" is not a token/);
});

test('--baseline passes within the threshold and exits 3 on a regression, after re-measuring', { timeout: 60_000 }, async () => {
  const base = join(dir, 'base.json');
  const first = await run([echo, '-w', 'pipeline,ping', '--size', '16', '--count', '10', ...tiny, '--json', base]);
  assert.equal(first.code, 0, first.stderr);
  const pass = await run([echo, '-w', 'pipeline,ping', '--size', '16', '--count', '10', ...tiny, '--baseline', base, '--threshold', '1000000']);
  assert.equal(pass.code, 0, pass.stderr + pass.stdout);
  assert.match(pass.stdout, /Gate passed/);

  // A baseline 1000 times faster than anything measurable here.
  const doc = JSON.parse(readFileSync(base, 'utf8'));
  for (const row of doc.rows) { row.msgsPerSec *= 1000; row.latencyMs.p99 /= 1000; }
  const inflated = join(dir, 'inflated.json');
  writeFileSync(inflated, JSON.stringify(doc));
  const out = join(dir, 'gate.json');
  const fail = await run([echo, '-w', 'pipeline,ping', '--size', '16', '--count', '10', ...tiny, '--baseline', inflated, '--retries', '1', '--json', out]);
  assert.equal(fail.code, 3, fail.stderr + fail.stdout);
  assert.match(fail.stdout, /FAIL pipeline size=16 count=10 connections=1 binary/);
  assert.match(fail.stdout, /Gate FAILED/);
  const gate = JSON.parse(readFileSync(out, 'utf8')).gate;
  assert.equal(gate.pass, false);
  assert.equal(gate.metric, 'msgs/s');
  assert.equal(gate.rows.length, 2);
  for (const row of gate.rows) assert.equal(row.measured.length, 2, 'measured, then re-measured once');

  const p99 = await run([echo, '-w', 'ping', '--size', '16', ...tiny, '--baseline', inflated, '--metric', 'p99', '--retries', '0']);
  assert.equal(p99.code, 3, p99.stdout);
  // A workload the baseline does not have is reported, not gated.
  const missing = await run([echo, '-w', 'frame', '--size', '16', ...tiny, '--baseline', inflated]);
  assert.equal(missing.code, 0, missing.stdout);
  assert.match(missing.stdout, /not in the baseline, not gated/);
});

test('--compare runs two servers alternately and reports ratios of medians', { timeout: 60_000 }, async () => {
  const other = await wsServer();
  const json = join(dir, 'compare.json');
  const r = await run([echo, '--compare', other, '--name', 'A', '--name', 'B', '--rounds', '3', '-w', 'ping', ...tiny, '--json', json]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(readFileSync(json, 'utf8'));
  assert.deepEqual(doc.rows.map((row) => [row.target, row.rounds]), [['A', 3], ['B', 3]]);
  assert.equal(doc.comparison.length, 1);
  assert.deepEqual(doc.comparison[0].servers, ['A', 'B']);
  assert.equal(doc.comparison[0].ratios.A['msgs/s'], 1);
  const b = doc.rows[1];
  assert.ok(Math.abs(doc.comparison[0].ratios.B['msgs/s'] - b.msgsPerSec / doc.rows[0].msgsPerSec) < 1e-9);
  assert.match(r.stdout, /Same-run comparison/);
});

test('bad input ends with one line and its exit code', { timeout: 60_000 }, async () => {
  assertOneLine(await run([echo, '--bogus']), 2, /unknown option '--bogus'/i);
  assertOneLine(await run(['not a url']), 2, /invalid URL "not a url"/);
  assertOneLine(await run(['http://127.0.0.1:1/']), 2, /scheme must be ws: or wss:/);
  assertOneLine(await run([]), 2, /missing URL/);
  assertOneLine(await run([echo, '-w', 'nope']), 2, /unknown workload "nope"/);
  assertOneLine(await run([echo, '-w', 'ping', '--size', '200']), 2, /at most 125 bytes/);
  assertOneLine(await run([echo, '--size', 'lots']), 2, /--size: expected a size/);
  assertOneLine(await run([echo, '--baseline', join(dir, 'nothing.json')]), 2, /no such file/);

  // A port nobody listens on (a server opened and closed).
  const closed = http.createServer();
  const port = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  assertOneLine(await run([`ws://127.0.0.1:${port}/`, ...tiny]), 1, /cannot connect to .*connection refused \(ECONNREFUSED\)/);
  assertOneLine(await run([`ws://127.0.0.1:${port}/`, ...tiny, '--wait', '0.5']), 1, /connection refused/);

  // An HTTP server that does not upgrade.
  const plain = `ws://127.0.0.1:${await listen(http.createServer((req, res) => res.end('hello')))}/`;
  assertOneLine(await run([plain, ...tiny]), 1, /server did not upgrade: Unexpected server response: 200/);

  // A server that closes the connection after a few echoes.
  const closer = await wsServer((ws, data, binary, n) => (n < 3 ? ws.send(data, { binary }) : ws.close(1011, 'going away now')));
  assertOneLine(await run([closer, '-w', 'concurrent', '-c', '1', ...tiny]), 1, /closed the connection during the run: close code 1011 "going away now"/);
  const dropper = await wsServer((ws, data, binary, n) => (n < 3 ? ws.send(data, { binary }) : ws.terminate()));
  assertOneLine(await run([dropper, '-w', 'pipeline', '--count', '2', ...tiny]), 1, /without a close frame|connection reset/);

  // A server whose echo is wrong in one byte, or of the wrong type.
  const corrupt = await wsServer((ws, data, binary, n) => {
    if (n === 5) data[7] ^= 1;
    ws.send(data, { binary });
  });
  assertOneLine(await run([corrupt, '-w', 'concurrent', '-c', '1', '--size', '64', ...tiny]), 1, /concurrent: message 5: echo differs from what was sent at byte 7/);
  // Large messages repeat a random block of 65,521 bytes: a byte past the first block is still checked.
  const corruptLarge = await wsServer((ws, data, binary, n) => {
    if (n === 2) data[150_000] ^= 0x40;
    ws.send(data, { binary });
  });
  assertOneLine(await run([corruptLarge, '-w', 'frame', '--size', '200k', ...tiny]), 1, /frame: message 2: echo differs from what was sent at byte 150000 /);
  // A block echoed in the wrong place (here: the first two 1 KiB fragments swapped) is caught too.
  const swapped = await wsServer((ws, data, binary) => {
    const copy = Buffer.from(data);
    data.copy(copy, 0, 1024, 2048);
    data.copy(copy, 1024, 0, 1024);
    ws.send(copy, { binary });
  });
  assertOneLine(await run([swapped, '-w', 'ref', '--size', '128k', ...tiny]), 1, /ref: message 0: echo differs from what was sent at byte \d+ /);
  const asBinary = await wsServer((ws, data) => ws.send(data, { binary: true }));
  assertOneLine(await run([asBinary, '-w', 'frame', '--size', '100', '--text', '--binary', ...tiny]), 2, /exclude each other/);
  const json = join(dir, 'failed.json');
  assertOneLine(await run([asBinary, '-w', 'frame', '--size', '32', '--text', ...tiny, '--json', json]), 1, /frame: message 0: echoed as binary, sent as text/);
  const failed = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(failed.ok, false, 'a failed run is written as failed');
  assert.match(failed.error, /echoed as binary/);
  // Random bytes echoed as text are not UTF-8: the decoder's own check (1007) fails the run.
  const asText = await wsServer((ws, data) => ws.send(data, { binary: false }));
  assertOneLine(await run([asText, '-w', 'frame', '--size', '64', ...tiny]), 1, /invalid frame: .*UTF-8.*1007/);

  // A server that accepts and then never answers: a stall, not a hang.
  const silent = await wsServer(() => {});
  assertOneLine(await run([silent, '-w', 'frame', '--size', '10', ...tiny, '--timeout', '300']), 1, /no reply within 300 ms/);
});
