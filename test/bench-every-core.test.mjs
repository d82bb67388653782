// The every-core bench rows' arithmetic (bench/lib/every-core-figures.mjs) on
// synthetic readings, and the echo CLI's `--workers` (dist/cli/workers.js,
// dist/cli/cpu-marks.js) on a real cluster: worker-count parsing, every
// worker echoing, the CPU reading summed over the primary and its workers,
// and shutdown. No timings are asserted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { CLIENTS, WORKLOADS, figures, scaling, shareOf, windowTotals } from '../bench/lib/every-core-figures.mjs';
import { workerCount } from '../dist/cli/workers.js';

const ECHO = fileURLToPath(new URL('../dist/cli/echo.js', import.meta.url));

test('the workloads are 9.4.3 (4 MiB as 4096 × 1 KiB) and 1,000 × 32 B pipelined, for 100 clients', () => {
  assert.equal(CLIENTS, 100);
  assert.deepEqual([WORKLOADS.rt.size, WORKLOADS.rt.fragment, WORKLOADS.rt.count], [4 * 2 ** 20, 1024, 1]);
  assert.deepEqual([WORKLOADS.pipe.size, WORKLOADS.pipe.fragment, WORKLOADS.pipe.count], [32, 0, 1000]);
});

test('shareOf deals every connection out once, the remainder to the first generators', () => {
  assert.deepEqual([0, 1].map((i) => shareOf(100, 2, i)), [50, 50]);
  assert.deepEqual([0, 1, 2].map((i) => shareOf(100, 3, i)), [34, 33, 33]);
  assert.deepEqual([0].map((i) => shareOf(100, 1, i)), [100]);
  for (const g of [1, 2, 3, 7, 100]) {
    let sum = 0;
    for (let i = 0; i < g; i++) sum += shareOf(100, g, i);
    assert.equal(sum, 100, `${g} generators`);
  }
});

test('windowTotals turns each process reading into a rate over its own elapsed time, scaled to the window', () => {
  // a server of two processes: one read over 2 s (saw 'read' late), one over 1 s
  const server = { cpuMicros: 3_000_000, elapsedMs: 2000, perProcess: [{ cpuMicros: 2_000_000, elapsedMs: 2000 }, { cpuMicros: 500_000, elapsedMs: 1000 }] };
  const gens = [{ cpuMicros: 100_000, elapsedMs: 1000, bytes: 4000 }, { cpuMicros: 400_000, elapsedMs: 2000, bytes: 2000 }];
  const t = windowTotals(server, gens, 1000);
  assert.equal(t.seconds, 1);
  assert.equal(t.serverCpuMicros, 1_000_000 + 500_000); // the per-process readings, not the sum over the primary's window
  assert.equal(t.bytes, 4000 + 1000);
  assert.equal(t.generatorCpuMicros, 100_000 + 200_000);
  // a server of one process (uWS, or wsframe's without workers) gives no perProcess
  assert.equal(windowTotals({ cpuMicros: 600, elapsedMs: 3 }, [], 1).serverCpuMicros, 200);
});

test('figures: messages from echoed bytes, CPU per message, messages per server core-second, cores busy', () => {
  const f = figures({ bytes: 32 * 1_000_000, seconds: 2, serverCpuMicros: 1_500_000, generatorCpuMicros: 250_000 }, 32);
  assert.equal(f.echoed, 1_000_000);
  assert.equal(f.msgsPerSec, 500_000);
  assert.equal(f.serverCpuUsPerMsg, 1.5);
  assert.equal(f.generatorCpuUsPerMsg, 0.25);
  assert.ok(Math.abs(f.perCoreMsgsPerSec - 1_000_000 / 1.5) < 1e-6);
  assert.equal(f.serverCores, 0.75);
  assert.equal(f.generatorCores, 0.125);
});

test('scaling: throughput ratio and per-core ratio, 1 → N', () => {
  const one = { msgsPerSec: 1000, perCoreMsgsPerSec: 1000 };
  assert.deepEqual(scaling(one, { msgsPerSec: 1800, perCoreMsgsPerSec: 900 }), { wall: 1.8, perCore: 0.9 });
  assert.deepEqual(scaling(one, one), { wall: 1, perCore: 1 });
});

test('--workers: a positive integer, or auto for one per core', () => {
  assert.equal(workerCount('1'), 1);
  assert.equal(workerCount('3'), 3);
  assert.equal(workerCount('auto'), availableParallelism());
  for (const bad of ['0', '-1', '1.5', 'two', '', 'NaN']) assert.throws(() => workerCount(bad), RangeError, bad);
});

/** Forks the echo CLI as the bench does (with an IPC channel); resolves { child, port, ask }. */
async function startEcho(workers) {
  const child = fork(ECHO, ['--port', '0', '--workers', String(workers)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on ws:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`echo exited (${code}) before listening: ${out}`)));
  });
  const ask = (message, key) => new Promise((resolve) => {
    const listener = (reply) => { if (key in reply) { child.off('message', listener); resolve(reply); } };
    child.on('message', listener);
    child.send(message);
  });
  return { child, port, ask };
}

function echoOnce(port, payload) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    ws.once('open', () => ws.send(payload, { binary: true }));
    ws.once('message', (data, binary) => { ws.terminate(); resolve({ data, binary }); });
    ws.once('error', reject);
  });
}

const exited = (child) => new Promise((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode);
  else child.once('exit', (code, signal) => resolve(code ?? signal));
});

test('echo --workers 2: every connection is echoed; CPU is read from the primary and both workers; SIGTERM stops all', async (t) => {
  const { child, port, ask } = await startEcho(2);
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  assert.deepEqual(await ask('mark', 'marked'), { marked: true });
  // round-robin over two workers: four connections reach both
  for (let i = 0; i < 4; i++) {
    const payload = Buffer.from(Array.from({ length: 1000 + i }, (_, k) => (k * 7 + i) & 0xff));
    const { data, binary } = await echoOnce(port, payload);
    assert.equal(binary, true);
    assert.deepEqual(Buffer.from(data), payload);
  }
  const read = await ask('read', 'cpuMicros');
  assert.equal(read.processes, 3);
  assert.equal(read.perProcess.length, 3);
  for (const p of read.perProcess) {
    assert.ok(Number.isFinite(p.cpuMicros) && p.cpuMicros >= 0, JSON.stringify(p));
    assert.ok(p.elapsedMs >= 0, JSON.stringify(p));
  }
  assert.equal(read.cpuMicros, read.perProcess.reduce((s, p) => s + p.cpuMicros, 0));
  assert.ok(read.cpuMicros > 0, 'four echoes cost some CPU time');
  child.kill('SIGTERM');
  assert.equal(await exited(child), 0);
});

test('echo without workers answers for itself, and stops when its harness goes away', async (t) => {
  const { child, port, ask } = await startEcho(1);
  t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  await ask('mark', 'marked');
  const { data } = await echoOnce(port, Buffer.from('every core'));
  assert.equal(Buffer.from(data).toString(), 'every core');
  const read = await ask('read', 'cpuMicros');
  assert.equal(read.processes, 1);
  assert.deepEqual(read.perProcess, [{ cpuMicros: read.cpuMicros, elapsedMs: read.elapsedMs }]);
  child.disconnect();
  assert.equal(await exited(child), 0);
});

test('merge-baseline puts one group\'s rows into the baseline and leaves the rest alone', async () => {
  const { mergeGroups } = await import('../bench/merge-baseline.mjs');
  const row = (id, score) => ({ id, score, gated: true });
  const baseline = { quick: false, date: 'then', rows: [row('w1.a', 1), row('w5.rt.x', 2), row('w9.rt.ours.1w', 9), row('w6.mem.ours', 3)] };
  const run = { quick: false, date: 'now', rows: [row('w9.rt.ours.1w', 1.5), row('w9.pipe.ours.nw', 1.2), row('w1.a', 100)] };
  const merged = mergeGroups(baseline, run, ['w9']);
  assert.equal(merged.date, 'then');
  assert.deepEqual(merged.rows.map((r) => [r.id, r.score]), [['w1.a', 1], ['w5.rt.x', 2], ['w6.mem.ours', 3], ['w9.rt.ours.1w', 1.5], ['w9.pipe.ours.nw', 1.2]]);
  assert.throws(() => mergeGroups(baseline, { ...run, quick: true }, ['w9']), /not comparable/);
  assert.throws(() => mergeGroups(baseline, run, ['w7']), /no rows/);
});
