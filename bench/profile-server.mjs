#!/usr/bin/env node
// Where an echo server's CPU goes: runs an echo server of bench/ws-facade.mjs
// (accept() honouring send()'s result, wsframe/ws or ws) in a child under V8's CPU profiler, drives
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
  // The echo servers of bench/ws-facade.mjs, each with its back-pressure pattern.
  const { echoServer } = await import('./ws-facade.mjs');
  const server = await echoServer(a.server, !a.owned);
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
