// The attack scenarios, each a function (impl, params) -> figures, run against
// a server in a child process (server.mjs, or `npm run echo` itself). Used at
// full size by `npm run attack` and at small size by test/hostile.test.mjs.
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { upgrade, maskedFrame, maskedHeader, repeat, FrameCounter, processMemory, delay, MiB } from './peer.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../..');

/** Starts server.mjs for `impl` in `mode`; resolves { port, pid, ask(cmd), alive(), stop() }. */
export async function startServer(impl, mode, options = {}) {
  const child = fork(path.join(HERE, 'server.mjs'), [impl, mode, JSON.stringify(options)], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
  const waiting = new Map();
  child.on('message', (message) => {
    if (message.reply !== undefined) waiting.get(message.reply)?.(message);
  });
  const port = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
    child.on('message', (message) => message.ready && resolve(message.port));
  });
  return {
    port,
    pid: child.pid,
    alive: () => child.exitCode === null && child.signalCode === null,
    exitInfo: () => ({ code: child.exitCode, signal: child.signalCode, stderr: stderr.split('\n').find((line) => /Error|error:/.test(line))?.trim() ?? stderr.trim().split('\n').pop() }),
    ask(cmd, timeout = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
      return new Promise((resolve) => {
        const timer = setTimeout(() => { waiting.delete(cmd); resolve(null); }, timeout);
        waiting.set(cmd, (message) => { clearTimeout(timer); waiting.delete(cmd); resolve(message); });
        child.send({ cmd });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
      }
    },
  };
}

/** Starts `npm run echo -- --port 0` as a user would; resolves { port, pid, stop() }. */
export async function startEchoCli() {
  const child = spawn('npm', ['run', '-s', 'echo', '--', '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm run echo did not start: ${output}`)), 20_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on ws:\/\/[^:]+:(\d+)/.exec(output);
      if (match) { clearTimeout(timer); resolve(Number(match[1])); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => { output += chunk; });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`npm run echo exited (${code}): ${output}`)); });
  });
  // npm and node run in their own process group: make sure it goes if we do.
  const killGroup = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} };
  process.once('exit', killGroup);
  return {
    port,
    pid: child.pid,
    output: () => output,
    async stop() {
      process.off('exit', killGroup);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      killGroup();
      await exited;
    },
  };
}

/** Resolves when `done()` is true, checking every `every` ms, or after `ms` (resolves false). */
async function until(done, ms, every = 20) {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await delay(every);
  }
  return true;
}

/** Samples a process's RSS every 50 ms; stop() returns the peak seen. */
function sampleRss(pid) {
  let peak = processMemory(pid).rss;
  const timer = setInterval(() => { peak = Math.max(peak, processMemory(pid).rss); }, 50);
  return () => { clearInterval(timer); return Math.max(peak, processMemory(pid).rss); };
}

/**
 * Back-pressure: the server sends `count` messages of `size` bytes to a client
 * that starts reading only after `readAfterMs`, waiting whenever told to.
 */
export async function drain(impl, { count = 20_000, size = 100, readAfterMs = 1500, maxMs = 20_000 } = {}) {
  const server = await startServer(impl, 'send', { count, size });
  try {
    const { socket, rest } = await upgrade(server.port);
    const counter = new FrameCounter();
    counter.push(rest);
    const started = Date.now();
    await delay(readAfterMs);
    socket.on('data', (chunk) => counter.push(chunk));
    socket.resume();
    const complete = await until(() => counter.messages >= count, maxMs);
    const stats = await server.ask('stats');
    socket.destroy();
    return { delivered: counter.messages, count, complete, ms: Date.now() - started, falses: stats?.falses, drains: stats?.drains, warnings: stats?.warnings ?? [] };
  } finally {
    await server.stop();
  }
}

/** Pipelining: `count` masked text frames of `size` bytes in one write to an echo server; how many come back. */
export async function pipelining(impl, { count = 100_000, size = 32, maxMs = 20_000 } = {}) {
  const server = impl === 'wsframe' ? await startEchoCli() : await startServer(impl, 'echo');
  try {
    const { socket, rest } = await upgrade(server.port);
    const counter = new FrameCounter();
    counter.push(rest);
    socket.on('data', (chunk) => counter.push(chunk));
    socket.resume();
    const started = Date.now();
    socket.write(repeat(maskedFrame(1, Buffer.alloc(size, 0x61)), count));
    const complete = await until(() => counter.messages >= count, maxMs);
    const ms = Date.now() - started;
    socket.destroy();
    return { echoed: counter.messages, count, complete, ms, server: impl === 'wsframe' ? 'npm run echo' : 'ws echo' };
  } finally {
    await server.stop();
  }
}

/**
 * Ping flood: a peer sends pings with `payload`-byte bodies as fast as it can
 * for `seconds` and never reads; then it resets the connection.
 */
export async function pingFlood(impl, { seconds = 8, payload = 125 } = {}) {
  const server = await startServer(impl, 'echo');
  try {
    const before = await server.ask('mem');
    const { socket } = await upgrade(server.port);
    const counter = new FrameCounter();
    let serverClosed = false;
    socket.on('close', () => { serverClosed = true; });
    socket.on('error', () => {});
    const burst = repeat(maskedFrame(9, Buffer.alloc(payload, 0x70)), Math.floor(64 * 1024 / (payload + 6)));
    const stopSampling = sampleRss(server.pid);
    const deadline = Date.now() + seconds * 1000;
    let writing = true;
    const pump = () => {
      while (writing && !socket.destroyed && Date.now() < deadline) {
        if (!socket.write(burst)) return;
      }
    };
    socket.on('drain', pump);
    pump();
    await until(() => Date.now() >= deadline || serverClosed, seconds * 1000 + 1000, 100);
    writing = false;
    const closedByServer = serverClosed;
    const during = await server.ask('stats');
    const peak = stopSampling();
    const sent = Math.floor(socket.bytesWritten / (payload + 6));
    // The client never read: what the server got is what it could not drop.
    socket.resetAndDestroy();
    await delay(500);
    const after = await server.ask('mem');
    return {
      pingsSent: sent,
      serverClosedConnection: closedByServer,
      growthPeak: peak - before.rss,
      growthAfterReset: after === null ? null : after.rss - before.rss,
      serverOutputBuffered: during?.output ?? null,
      serverAlive: server.alive(),
      counterFrames: counter.frames,
    };
  } finally {
    await server.stop();
  }
}

/** Opens `n` peers that each send `size` bytes of a `size`-byte message but one, in 1 MiB writes. */
async function unfinishedMessages(server, peers, size, maxMs) {
  const sockets = [];
  for (let i = 0; i < peers; i++) {
    try {
      sockets.push(await upgrade(server.port));
    } catch (error) {
      sockets.push({ error });
    }
  }
  const chunk = Buffer.alloc(MiB);
  const state = sockets.map(({ socket, error }) => {
    const peer = { socket, written: 0, closed: error !== undefined, counter: new FrameCounter(), done: false };
    if (socket === undefined) return peer;
    socket.on('data', (data) => peer.counter.push(data));
    socket.on('close', () => { peer.closed = true; });
    socket.on('error', () => {});
    socket.resume();
    socket.write(maskedHeader(2, size));
    const pump = () => {
      while (!socket.destroyed && peer.written < size - 1) {
        const n = Math.min(chunk.length, size - 1 - peer.written);
        peer.written += n;
        if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return;
      }
      if (peer.written >= size - 1) peer.done = true;
    };
    socket.on('drain', pump);
    pump();
    return peer;
  });
  await until(() => state.every((peer) => peer.closed || (peer.done && peer.socket.writableLength === 0)), maxMs, 100);
  // Let the server read what is still in flight.
  await delay(500);
  return state;
}

/** Exhaustion: `peers` peers each leave a `size`-byte message unfinished; does the server survive, how big does it get? */
export async function exhaustion(impl, { peers = 60, size = 63 * MiB, maxMs = 60_000 } = {}) {
  const server = await startServer(impl, 'echo');
  try {
    const before = await server.ask('mem');
    const stopSampling = sampleRss(server.pid);
    const state = await unfinishedMessages(server, peers, size, maxMs);
    const peak = stopSampling();
    const stats = await server.ask('stats');
    const codes = {};
    for (const peer of state) if (peer.closed) codes[peer.counter.closeCode || 'reset'] = (codes[peer.counter.closeCode || 'reset'] ?? 0) + 1;
    const refused = state.filter((peer) => peer.closed).length;
    for (const peer of state) peer.socket?.resetAndDestroy();
    await delay(1000);
    const after = await server.ask('mem');
    return {
      peers,
      sentMiB: Math.round(state.reduce((sum, peer) => sum + peer.written, 0) / MiB),
      peersRefused: refused,
      closeCodes: codes,
      serverAlive: server.alive(),
      serverExit: server.alive() ? null : server.exitInfo(),
      peakGrowth: peak - before.rss,
      afterResetGrowth: after === null ? null : after.rss - before.rss,
      serverCloses: stats?.closes ?? null,
    };
  } finally {
    await server.stop();
  }
}

/** Memory return: `peers` x `size` unfinished messages, then every peer resets; what does the server keep? */
export async function memoryReturn(impl, { peers = 8, size = 60 * MiB, maxMs = 60_000 } = {}) {
  const server = await startServer(impl, 'echo');
  try {
    const before = await server.ask('mem');
    const stopSampling = sampleRss(server.pid);
    const state = await unfinishedMessages(server, peers, size, maxMs);
    const loaded = await server.ask('mem');
    const peak = stopSampling();
    const refused = state.filter((peer) => peer.closed).length;
    for (const peer of state) peer.socket?.resetAndDestroy();
    await delay(1000);
    const after = await server.ask('mem');
    return {
      peers,
      sizeMiB: size / MiB,
      peersRefused: refused,
      serverAlive: server.alive(),
      rssBefore: before.rss,
      rssPeak: peak,
      rssLoaded: loaded?.rss ?? null,
      rssAfterReset: after?.rss ?? null,
      wasmAfterReset: after?.wasm ?? null,
      kept: after === null ? null : after.rss - before.rss,
    };
  } finally {
    await server.stop();
  }
}

/**
 * Many connections: `connections` peers connect (idle figure), then each
 * pipelines `messages` small messages and reads the echoes (after-traffic
 * figure). Figures are server RSS deltas after GC, per connection.
 */
export async function manyConnections(impl, { connections = 10_000, messages = 10, size = 32, parallel = 250, maxMs = 120_000, readMode } = {}) {
  const server = await startServer(impl, 'echo', readMode === undefined ? {} : { readMode });
  const sockets = [];
  try {
    const before = await server.ask('mem');
    for (let i = 0; i < connections; i += parallel) {
      const batch = await Promise.all(Array.from({ length: Math.min(parallel, connections - i) }, () => upgrade(server.port, { timeout: 30_000 })));
      for (const { socket } of batch) {
        socket.on('error', () => {});
        sockets.push(socket);
      }
    }
    await delay(200);
    const idle = await server.ask('mem');
    const burst = repeat(maskedFrame(1, Buffer.alloc(size, 0x62)), messages);
    const expected = messages * (size + 2);
    let complete = 0;
    await Promise.all(sockets.map((socket) => new Promise((resolve) => {
      let got = 0;
      const onData = (chunk) => {
        got += chunk.length;
        if (got >= expected) { socket.off('data', onData); socket.pause(); complete++; resolve(); }
      };
      socket.on('data', onData);
      socket.resume();
      socket.write(burst);
      setTimeout(resolve, maxMs).unref();
    })));
    await delay(200);
    const traffic = await server.ask('mem');
    return {
      connections,
      echoesComplete: complete,
      idlePerConnection: (idle.rss - before.rss) / connections,
      trafficPerConnection: (traffic.rss - before.rss) / connections,
      idleHeapPerConnection: (idle.heapUsed - before.heapUsed) / connections,
      trafficHeapPerConnection: (traffic.heapUsed - before.heapUsed) / connections,
      trafficArrayBuffersPerConnection: (traffic.arrayBuffers - before.arrayBuffers) / connections,
      trafficExternalPerConnection: (traffic.external - before.external) / connections,
      trafficWasmPerConnection: (traffic.wasm - before.wasm) / connections,
      idleHeapTotalPerConnection: (idle.heapTotal - before.heapTotal) / connections,
      trafficHeapTotalPerConnection: (traffic.heapTotal - before.heapTotal) / connections,
    };
  } finally {
    for (const socket of sockets) socket.destroy();
    await server.stop();
  }
}

export const SCENARIOS = { drain, pipelining, pingFlood, exhaustion, memoryReturn, manyConnections };
