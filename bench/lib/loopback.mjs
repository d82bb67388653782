// Workload 5: loopback TCP echo. Servers (ws, uWS, ours) run in forked
// children (echo-servers.mjs), one process each, so client and server each
// get a core and each server's CPU time is its own; clients run here. Round trip = send the reference message as 4096 × 1 KiB fragments, wait
// for the whole echo. Pipelined = send 10,000 × 32 B, wait for all echoes.
// The table shows the wall-clock median (what the target is about); the gate
// score is CPU time per operation relative to ws measured alongside.
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { REF_SIZE, REF_FRAGMENT, randomBytes, Checksum, buildStream } from './streams.mjs';
import { median, mad, measureInterleaved } from './measure.mjs';
import { memcpyTask } from './micro.mjs';

const require = createRequire(import.meta.url);
const OP_TIMEOUT_MS = 15_000;

/** One echo server (`which`: ws, ours, uws) in its own child process. */
function startServer(which, env) {
  const child = fork(fileURLToPath(new URL('./echo-servers.mjs', import.meta.url)), [which], {
    env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${which} echo server did not start in 15 s`)), 15_000);
    child.once('message', (m) => { clearTimeout(t); resolve(m); });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`${which} echo server exited (${code})`)); });
  });
  const cpu = () => new Promise((resolve) => {
    child.once('message', (m) => resolve(m.cpu));
    child.send({ cmd: 'cpu' });
  });
  const stop = () => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.disconnect();
    setTimeout(() => { if (child.exitCode === null) child.kill('SIGKILL'); }, 3000).unref();
  });
  return { child, ready, cpu, stop };
}

/** The three servers, each in its own process; `info` has every port (uWS's 0 when it could not load). */
function startServers(env) {
  const servers = Object.fromEntries(['ws', 'ours', 'uws'].map((which) => [which, startServer(which, env)]));
  const ready = Promise.all(Object.values(servers).map((s) => s.ready)).then(([ws, ours, uws]) => ({
    ports: { ws: ws.port, ours: ours.port, uws: uws.error ? 0 : uws.port },
    uwsError: uws.error, nodeName: ours.nodeName, coreName: ours.coreName,
  }));
  const stop = () => Promise.all(Object.values(servers).map((s) => s.stop()));
  return { servers, ready, stop };
}

/** Uniform client: open(), sendRef(buf), sendSmall(buf), onMessage(cb), close(). */
function wsClient(url) {
  const WebSocket = require('ws');
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
  let cb = () => {};
  ws.on('message', (data, isBinary) => cb(data, isBinary));
  ws.on('error', () => {});
  return {
    opened: new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); }),
    onMessage(f) { cb = f; },
    sendFragmented(buf, frag) {
      for (let i = 0; i < buf.length; i += frag) ws.send(buf.subarray(i, Math.min(buf.length, i + frag)), { binary: true, fin: i + frag >= buf.length });
    },
    send(buf) { ws.send(buf, { binary: true }); },
    close() { ws.terminate(); },
  };
}

function oursClient(impl, url) {
  const c = impl.connect(url, {});
  let cb = () => {};
  c.on('message', (data, binary) => cb(data, binary));
  c.on('error', () => {});
  return {
    opened: new Promise((res, rej) => { c.once('open', res); c.once('error', rej); }),
    onMessage(f) { cb = f; },
    sendFragmented(buf, frag) { c.send(buf, { binary: true, fragmentSize: frag }); },
    send(buf) { c.send(buf, { binary: true }); },
    close() { try { c.close(1000, ''); } catch {} },
  };
}

/**
 * A near-zero-cost client for measuring servers: hand-written upgrade request,
 * frames pre-encoded once (masked, so any server accepts them) and written in
 * one socket write, echoes parsed by a header-skipping reader that only copies
 * payload when verifying. Its own CPU is a small part of each operation, so
 * the raw→X rows compare servers rather than clients.
 */
export function rawClient(port) {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  let cb = () => {};
  let assemble = false;
  const cache = new Map();
  // reader state
  let pending = null, remaining = 0, msgLen = 0, fin = false, parts = null, isData = false;
  const onFrames = (chunk) => {
    if (pending) { chunk = Buffer.concat([pending, chunk]); pending = null; }
    let p = 0;
    while (p < chunk.length) {
      if (remaining > 0) {
        const n = Math.min(remaining, chunk.length - p);
        if (isData) { if (assemble) parts.push(chunk.subarray(p, p + n)); msgLen += n; }
        remaining -= n; p += n;
        if (remaining === 0 && fin && isData) deliver();
        continue;
      }
      if (chunk.length - p < 2) { pending = chunk.subarray(p); return; }
      const b0 = chunk[p], b1 = chunk[p + 1] & 0x7f;
      const hl = b1 === 126 ? 4 : b1 === 127 ? 10 : 2;
      if (chunk.length - p < hl) { pending = chunk.subarray(p); return; }
      const len = b1 === 126 ? chunk.readUInt16BE(p + 2) : b1 === 127 ? Number(chunk.readBigUInt64BE(p + 2)) : b1;
      const op = b0 & 0x0f;
      fin = (b0 & 0x80) !== 0;
      isData = op < 8;
      if (isData && op !== 0) { msgLen = 0; parts = assemble ? [] : null; }
      p += hl; remaining = len;
      if (len === 0 && fin && isData) deliver();
    }
  };
  const deliver = () => { cb(assemble ? Buffer.concat(parts, msgLen) : { length: msgLen }); };
  const opened = new Promise((resolve, reject) => {
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    });
    let head = Buffer.alloc(0);
    const onHead = (d) => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onHead);
      if (!/^HTTP\/1\.1 101/.test(head.subarray(0, end).toString('latin1'))) return reject(new Error(`raw client: ${head.subarray(0, end).toString('latin1').split('\r\n')[0]}`));
      sock.on('data', onFrames);
      if (head.length > end + 4) onFrames(head.subarray(end + 4));
      resolve();
    };
    sock.on('data', onHead);
  });
  sock.on('error', () => {});
  const encoded = (key, build) => { let e = cache.get(key); if (!e) { e = build(); cache.set(key, e); } return e; };
  return {
    opened,
    onMessage(f, { verify = false } = {}) { cb = f; assemble = verify; },
    sendFragmented(buf, frag) { sock.write(encoded(buf, () => buildStream([{ payload: buf, opcode: 2 }], { fragmentSize: frag, masked: true, seed: 31 }))); },
    sendAll(list) { sock.write(encoded(list, () => buildStream(list.map((payload) => ({ payload, opcode: 2 })), { masked: true, seed: 37 }))); },
    close() { sock.destroy(); },
  };
}

function withTimeout(p, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`${what}: timed out after ${OP_TIMEOUT_MS} ms`)), OP_TIMEOUT_MS); })])
    .finally(() => clearTimeout(t));
}

export async function w5(ctx) {
  const { impl } = ctx;
  const srv = startServers({ ...process.env, WSFRAME_BENCH_IMPL: impl.which });
  const rows = [];
  try {
    const info = await srv.ready;
    const payload = randomBytes(REF_SIZE, 55);
    const want = new Checksum().add(payload, true);
    const small = Array.from({ length: 10_000 }, (_, i) => randomBytes(32, 1000 + i));
    const nodeLbl = ctx.nodeName === 'stub' ? 'stub adapter' : 'wsframe';
    const combos = [
      { key: 'ours-ours', client: 'ours', server: 'ours', label: `our client → our server${nodeLbl === 'wsframe' ? '' : ` (${nodeLbl})`}`, targets: [{ speedup: 2 }], gated: true },
      // not gated: with ws's client, the server's share of loopback CPU is too noisy (±20–40% between runs); raw→ours gates the server
      { key: 'ws-ours', client: 'ws', server: 'ours', label: `ws client → our server${nodeLbl === 'wsframe' ? '' : ` (${nodeLbl})`}`, targets: [], gated: false, note: 'no target: the ws client is half the work' },
      { key: 'ws-ws', client: 'ws', server: 'ws', label: 'ws client → ws server', impl: 'ws' },
      { key: 'ws-uws', client: 'ws', server: 'uws', label: 'ws client → uWS server', impl: 'uws' },
      { key: 'ours-uws', client: 'ours', server: 'uws', label: `our client → uWS server${nodeLbl === 'wsframe' ? '' : ` (${nodeLbl})`}`, impl: 'uws' },
      { key: 'raw-ours', client: 'raw', server: 'ours', label: `raw client → our server${nodeLbl === 'wsframe' ? '' : ` (${nodeLbl})`}`, targets: [], gated: true, note: 'raw client: pre-encoded frames, header-skipping reader' },
      { key: 'raw-ws', client: 'raw', server: 'ws', label: 'raw client → ws server', impl: 'ws' },
      { key: 'raw-uws', client: 'raw', server: 'uws', label: 'raw client → uWS server', impl: 'uws' },
    ].filter((c) => c.server !== 'uws' || info.ports.uws);

    const url = (server) => `ws://127.0.0.1:${info.ports[server]}/`;
    const clients = new Map();
    for (const c of combos) {
      const cl = c.client === 'ws' ? wsClient(url(c.server)) : c.client === 'raw' ? rawClient(info.ports[c.server]) : oursClient(impl, url(c.server));
      await withTimeout(cl.opened, `${c.key} open`);
      clients.set(c.key, cl);
    }

    // One round trip of the reference message; `check` verifies the bytes.
    const rt = (cl, check) => new Promise((resolve, reject) => {
      cl.onMessage((data) => {
        if (data.length !== REF_SIZE) return reject(new Error(`echo of ${data.length} B`));
        if (check && !new Checksum().add(data, true).equals(want)) return reject(new Error('echo bytes differ'));
        resolve();
      }, { verify: check });
      cl.sendFragmented(payload, REF_FRAGMENT);
    });
    const pipe = (cl, check) => new Promise((resolve, reject) => {
      let got = 0;
      cl.onMessage((data) => {
        if (data.length !== 32 || (check && Buffer.compare(Buffer.from(data.buffer, data.byteOffset, 32), Buffer.from(small[got].buffer, small[got].byteOffset, 32)) !== 0)) {
          return reject(new Error(`pipelined echo #${got} wrong`));
        }
        if (++got === small.length) resolve();
      }, { verify: check });
      if (cl.sendAll) cl.sendAll(small);
      else for (let i = 0; i < small.length; i++) cl.send(small[i]);
    });

    // verify every combination once
    for (const c of combos) {
      await withTimeout(rt(clients.get(c.key), true), `${c.key} verify`);
      await withTimeout(pipe(clients.get(c.key), true), `${c.key} verify pipelined`);
    }
    // Warm every combination up before anything is measured: a Node server's
    // per-message code is compiled by V8's optimizing tier (on a background
    // thread, counted in the process's CPU time) over its first few dozen
    // 9.4.3 round trips, which then cost twice the steady state (a fresh
    // `npm run echo`: 3.8 ms per round trip over its first 50, 1.7-2.2 ms
    // after; uWebSockets.js, native, 2.5 then 1.7-2.2). The rows are about
    // the steady state.
    const warmup = { rt: ctx.quick ? 10 : 40, pipe: ctx.quick ? 2 : 5 };
    for (const c of combos) {
      for (let k = 0; k < warmup.rt; k++) await withTimeout(rt(clients.get(c.key), false), `${c.key} warm-up`);
      for (let k = 0; k < warmup.pipe; k++) await withTimeout(pipe(clients.get(c.key), false), `${c.key} warm-up pipelined`);
    }

    const rounds = ctx.quick ? 1 : 3;
    // Operations per measured window: enough that each server's garbage
    // collections fall inside its windows in proportion (uWS's JS callback
    // allocates per message too), not by chance between them.
    const perRound = { rt: ctx.quick ? 5 : 12, pipe: ctx.quick ? 3 : 8 };
    const samples = new Map();
    const cpu = new Map();
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < combos.length; i++) {
        const c = combos[(i + r) % combos.length];
        const cl = clients.get(c.key);
        for (const [kind, op] of [['rt', rt], ['pipe', pipe]]) {
          const id = `w5.${kind}.${c.key}`;
          if (!samples.has(id)) { samples.set(id, []); cpu.set(id, { server: 0, client: 0 }); }
          await withTimeout(op(cl, false), id); // warm-up
          const s0 = await srv.servers[c.server].cpu();
          const k0 = process.cpuUsage();
          for (let k = 0; k < perRound[kind]; k++) {
            const t0 = process.hrtime.bigint();
            await withTimeout(op(cl, false), id);
            samples.get(id).push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
          const k1 = process.cpuUsage();
          const s1 = await srv.servers[c.server].cpu();
          const acc = cpu.get(id);
          acc.server += (s1.user - s0.user + s1.system - s0.system) / 1000;
          acc.client += (k1.user - k0.user + k1.system - k0.system) / 1000;
        }
      }
    }
    for (const cl of clients.values()) cl.close();

    const m = await measureInterleaved([memcpyTask()], { ...ctx.micro, rounds: 1 });
    const memcpyMs = m.get('memcpy').median;
    for (const kind of ['rt', 'pipe']) {
      for (const c of combos) {
        const id = `w5.${kind}.${c.key}`;
        const xs = samples.get(id);
        rows.push({
          id, group: 'w5',
          label: kind === 'rt' ? `echo 4 MiB: ${c.label}` : `echo 10k × 32 B pipelined: ${c.label}`,
          impl: c.impl ?? ctx.nodeName, medianMs: median(xs), madMs: mad(xs), samples: xs.length, memcpyMs,
          bytes: kind === 'rt' ? REF_SIZE : 10_000 * 32, messages: kind === 'rt' ? 1 : 10_000,
          vs: c.key === 'ws-ws' || c.key === 'raw-ws' ? undefined : c.client === 'raw' ? `w5.${kind}.raw-ws` : `w5.${kind}.ws-ws`,
          vsLabel: c.client === 'raw' ? 'raw→ws' : 'ws→ws',
          targets: kind === 'rt' || c.key === 'ours-ours' ? c.targets ?? [] : [],
          gated: !!c.gated, noisy: true,
          serverCpuMs: cpu.get(id).server / xs.length,
          clientCpuMs: cpu.get(id).client / xs.length,
          cpuMs: (cpu.get(id).server + cpu.get(id).client) / xs.length,
          note: [`CPU/op client ${(cpu.get(id).client / xs.length).toFixed(1)} + server ${(cpu.get(id).server / xs.length).toFixed(1)} ms`, c.note].filter(Boolean).join('; '),
        });
      }
    }
    // Gate score: CPU time per operation of our code relative to ws doing the
    // same job in the same run — client + server for ours→ours against ws→ws,
    // the server alone for ws→ours against the ws server. Wall time on a shared
    // box follows the load, and a memcpy is a poor yardstick for syscall-bound
    // work (it swings with the neighbours' memory traffic), so neither is used.
    for (const kind of ['rt', 'pipe']) {
      const ref = rows.find((r) => r.id === `w5.${kind}.ws-ws`);
      // Our server against the raw client is compared with uWebSockets.js's
      // (the rival, and native: its CPU per operation holds still from run to
      // run, where ws's pipelined figure moved 70-112 ms on a quiet machine),
      // or with ws's when uWS could not load.
      const rawUws = rows.find((r) => r.id === `w5.${kind}.raw-uws`);
      const rawRef = rawUws ?? rows.find((r) => r.id === `w5.${kind}.raw-ws`);
      for (const r of rows.filter((x) => x.id.startsWith(`w5.${kind}.`) && x.gated)) {
        if (r.id.endsWith('ws-ours')) { r.score = r.serverCpuMs / ref.serverCpuMs; r.scoreBasis = 'server CPU ÷ ws server CPU (ws client)'; }
        else if (r.id.endsWith('raw-ours')) { r.score = r.serverCpuMs / rawRef.serverCpuMs; r.scoreBasis = `server CPU ÷ ${rawUws ? 'uWS' : 'ws'} server CPU (raw client)`; }
        else { r.score = r.cpuMs / ref.cpuMs; r.scoreBasis = 'client+server CPU ÷ ws→ws'; }
      }
    }
    if (info.uwsError) rows.push({ id: 'w5.uws', group: 'w5', label: 'uWebSockets.js rows skipped', impl: 'uws', note: info.uwsError, targets: [], gated: false });
  } finally {
    await srv.stop();
  }
  return rows;
}
