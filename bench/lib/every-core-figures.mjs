// Workload 9 ("every core"): the two workloads, the number of clients, and
// the arithmetic that turns measured totals into the rows' figures (pure, so
// test/bench-every-core.test.mjs checks it without running a benchmark).

export const CLIENTS = 100;

export const WORKLOADS = {
  // Autobahn 9.4.3: 4 MiB sent as 4096 × 1 KiB masked fragments, echoed as one message.
  rt: { size: 4 * 2 ** 20, fragment: 1024, count: 1, label: 'echo 4 MiB as 4096 × 1 KiB' },
  // pipelined small messages: each client writes 1,000 × 32 B at once, awaits every echo, again.
  pipe: { size: 32, fragment: 0, count: 1000, label: 'echo 1,000 × 32 B pipelined' },
};

/** How many of `total` connections generator `index` of `generators` opens (the first ones take the remainder). */
export function shareOf(total, generators, index) {
  return Math.floor(total / generators) + (index < total % generators ? 1 : 0);
}

/**
 * One measured window → totals to add up. Each process reads its CPU time
 * (and a generator its echoed bytes) between its own mark and read, which IPC
 * delays make a little longer or shorter than the harness's window on a busy
 * machine; every reading is turned into a rate over its own elapsed time and
 * scaled to the common window `windowMs` (a server of several processes
 * gives each process's own reading in `perProcess`).
 * @param {{ cpuMicros: number, elapsedMs: number, perProcess?: { cpuMicros: number, elapsedMs: number }[] }} server
 * @param {{ cpuMicros: number, elapsedMs: number, bytes: number }[]} generators
 */
export function windowTotals(server, generators, windowMs) {
  const scaled = (x, elapsedMs) => (x / elapsedMs) * windowMs;
  return {
    bytes: generators.reduce((sum, g) => sum + scaled(g.bytes, g.elapsedMs), 0),
    seconds: windowMs / 1000,
    serverCpuMicros: (server.perProcess ?? [server]).reduce((sum, p) => sum + scaled(p.cpuMicros, p.elapsedMs), 0),
    generatorCpuMicros: generators.reduce((sum, g) => sum + scaled(g.cpuMicros, g.elapsedMs), 0),
  };
}

/**
 * Totals of the measured windows → figures. Messages are counted as echoed
 * payload bytes ÷ message size: bytes arrive continuously, whereas 100
 * clients sending 4 MiB each finish their messages in bursts that a window
 * of a second would cut at random.
 * @param {{ bytes: number, seconds: number, serverCpuMicros: number, generatorCpuMicros: number }} t
 * @param {number} size message size in bytes
 */
export function figures(t, size) {
  const messages = t.bytes / size;
  const serverCpuS = t.serverCpuMicros / 1e6;
  return {
    echoed: messages,
    msgsPerSec: messages / t.seconds,
    serverCpuUsPerMsg: t.serverCpuMicros / messages,
    generatorCpuUsPerMsg: t.generatorCpuMicros / messages,
    // messages per second of server CPU time: the throughput one core would
    // give if the server had it to itself, whatever the neighbours took
    perCoreMsgsPerSec: messages / serverCpuS,
    // cores the server (all its processes) and the generators kept busy on average
    serverCores: serverCpuS / t.seconds,
    generatorCores: t.generatorCpuMicros / 1e6 / t.seconds,
  };
}

/**
 * 1 → N workers: `wall` is the throughput ratio (what the machine delivered;
 * N at best, less when the generator needs the same cores); `perCore` is the
 * ratio of messages per server CPU second (1 when adding workers costs
 * nothing per message; below 1 is the price of sharing: the cluster primary,
 * cache and scheduler effects).
 */
export function scaling(one, many) {
  return { wall: many.msgsPerSec / one.msgsPerSec, perCore: many.perCoreMsgsPerSec / one.perCoreMsgsPerSec };
}
