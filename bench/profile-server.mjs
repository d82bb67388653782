#!/usr/bin/env node
// Where an echo server's CPU goes: runs wsframe's echo (accept() in an http
// server, honouring send()'s result) in a child under V8's CPU profiler, drives
// it from the near-free raw client of the loopback rows, and prints self time
// by function and by file, WebAssembly functions named.
//
//   node bench/profile-server.mjs [--workload ref|small] [--ops N] [--server native|facade|ws] [--owned]
//
//   ref:   Autobahn 9.4.3 round trips (4 MiB as 4096 masked 1 KiB fragments, echoed as one frame)
//   small: rounds of 10,000 pipelined 32 B messages in one write
//   --server: native accept() (default), the wsframe/ws WebSocketServer, or ws 8
//   --owned:  messages as owned Buffers (the default of accept() and wsframe/ws)
//             instead of zero-copy views (ws always delivers owned Buffers)
//
// Writes bench/results/prof/server-<server>-<workload>[-owned].cpuprofile.
import fs from 'node:fs';
import path from 'node:path';
import { fork } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { rawClient } from './lib/loopback.mjs';
import { summarize } from './lib/cpuprofile.mjs';

const { values: a } = parseArgs({ options: {
  workload: { type: 'string', default: 'ref' }, ops: { type: 'string' }, top: { type: 'string', default: '30' }, child: { type: 'boolean', default: false },
  server: { type: 'string', default: 'native' }, owned: { type: 'boolean', default: false },
} });

if (a.child) {
  const http = await import('node:http');
  const server = http.createServer();
  const zeroCopy = !a.owned;
  if (a.server === 'native') {
    const { accept } = await import('wsframe');
    server.on('upgrade', (req, socket, head) => {
      const ws = accept(req, socket, head, { maxMessageSize: 64 * 2 ** 20, zeroCopy });
      if (!ws) return;
      // The documented pattern: pause on false, resume on the one 'drain' that follows.
      let paused = false;
      ws.on('drain', () => { paused = false; ws.resume(); });
      ws.on('message', (data, binary) => {
        if (!ws.send(data, { binary }) && !paused) { paused = true; ws.pause(); }
      });
      ws.on('error', () => {});
    });
  } else {
    // ws's API: send() has no verdict; the echo is written as ws users write it.
    const { WebSocketServer } = await import(a.server === 'ws' ? 'ws' : 'wsframe/ws');
    const wss = new WebSocketServer({ server, maxPayload: 64 * 2 ** 20, perMessageDeflate: false, ...(a.server === 'facade' ? { zeroCopy } : {}) });
    wss.on('connection', (ws) => {
      ws.on('message', (data, binary) => ws.send(data, { binary }));
      ws.on('error', () => {});
    });
  }
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, cpu: process.cpuUsage() }));
  process.on('message', (m) => { if (m === 'cpu') process.send({ cpu: process.cpuUsage() }); });
  process.on('disconnect', () => process.exit(0));  // exit flushes the profile
} else {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const dir = path.join(here, 'results', 'prof');
  fs.mkdirSync(dir, { recursive: true });
  const name = `server-${a.server}-${a.workload}${a.owned ? '-owned' : ''}.cpuprofile`;
  const child = fork(fileURLToPath(import.meta.url), ['--child', '--server', a.server, ...(a.owned ? ['--owned'] : [])], { execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`] });
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { port } = await next();
  const client = rawClient(port);
  await client.opened;
  const ops = Number(a.ops ?? (a.workload === 'ref' ? 60 : 60));
  const cpu = (c) => (c.user + c.system) / 1000;
  child.send('cpu');
  const before = cpu((await next()).cpu);
  const t0 = performance.now();
  if (a.workload === 'ref') {
    const payload = Buffer.alloc(4 * 2 ** 20, 0x5a);
    for (let i = 0; i < ops; i++) {
      await new Promise((resolve) => { client.onMessage(resolve); client.sendFragmented(payload, 1024); });
    }
  } else {
    const list = Array.from({ length: 10_000 }, (_, i) => Buffer.alloc(32, i & 0xff));
    for (let i = 0; i < ops; i++) {
      await new Promise((resolve) => { let n = 0; client.onMessage(() => { if (++n === list.length) resolve(); }); client.sendAll(list); });
    }
  }
  const wall = performance.now() - t0;
  child.send('cpu');
  const after = cpu((await next()).cpu);
  client.close();
  console.log(`${a.server}${a.owned ? ' (owned)' : ''}, ${a.workload}: ${ops} operations, server CPU ${((after - before) / ops).toFixed(2)} ms per operation, wall ${(wall / ops).toFixed(2)} ms per operation (under the profiler)`);
  child.disconnect();
  await new Promise((resolve) => child.once('exit', resolve));
  console.log(summarize(path.join(dir, name), Number(a.top), null));
}
