// Timing primitives. Micro rows are measured with tinybench in interleaved
// rounds: each round runs every task of a group (memcpy, ours, ws…) for a short
// time budget, the start task rotating between rounds, and the retained samples
// of all rounds are pooled before taking the median. On a shared, noisy
// machine this keeps a burst of neighbour load from landing on one task only.
import { Bench } from 'tinybench';
import v8 from 'node:v8';
import vm from 'node:vm';

/** A full GC between rounds/groups so no task pays for another's garbage. */
v8.setFlagsFromString('--expose-gc');
const gcFn = vm.runInNewContext('gc');
export function fullGc() { gcFn(); }

/**
 * Clocks. 'wall': hrtime. 'cpu': this process's user+system CPU time
 * (process.cpuUsage(), µs), which leaves out the time the process spends
 * descheduled — on a shared, overloaded box that is most of the noise — while
 * still counting page faults (system time) and V8's helper threads (GC).
 */
export const CPU_CLOCK = {
  name: 'cpuUsage',
  fn: () => { const u = process.cpuUsage(); return u.user + u.system; },
  toMs: (us) => Number(us) / 1000,
  fromMs: (ms) => ms * 1000,
};
export const clockProvider = (clock) => (clock === 'cpu' ? CPU_CLOCK : 'hrtimeNow');

const minOf = (xs) => { let m = Infinity; for (const x of xs) if (x < m) m = x; return m; };

export function median(xs) {
  if (!xs.length) return NaN;
  const s = Float64Array.from(xs).sort();
  const m = s.length >> 1;
  return s.length & 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mad(xs) {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/**
 * tasks: [{ id, fn, beforeEach?, beforeAll? }] — fn is synchronous and must throw if the
 * work it did was incomplete (cheap sanity check, e.g. message count).
 * returns Map id → { median, mad, n, min } in milliseconds.
 */
export async function measureInterleaved(tasks, { rounds = 3, time = 300, minIterations = 5, warmupTime = 100, clock = 'wall', profile = null } = {}) {
  if (profile) return profileLoop(tasks, profile);
  const samples = new Map(tasks.map((t) => [t.id, []]));
  for (let r = 0; r < rounds; r++) {
    fullGc();
    const bench = new Bench({
      time,
      iterations: minIterations,
      warmup: true,
      warmupTime: r === 0 ? warmupTime : Math.min(20, warmupTime),
      warmupIterations: r === 0 ? 3 : 1,
      retainSamples: true,
      timestampProvider: clockProvider(clock),
      throws: true,
    });
    const order = tasks.map((_, i) => tasks[(i + r) % tasks.length]);
    for (const t of order) {
      bench.add(t.id, t.fn, { async: false, ...(t.beforeEach ? { beforeEach: t.beforeEach } : {}), ...(t.beforeAll ? { beforeAll: t.beforeAll } : {}) });
    }
    await bench.run();
    for (const task of bench.tasks) {
      const res = task.result;
      if (res.state === 'errored') throw new Error(`task ${task.name} failed: ${res.error?.message}`, { cause: res.error });
      if (!res.latency?.samples) throw new Error(`task ${task.name}: no samples (state ${res.state})`);
      const acc = samples.get(task.name);
      for (const x of res.latency.samples) acc.push(x);
    }
  }
  const out = new Map();
  for (const [id, xs] of samples) {
    let sum = 0;
    for (const x of xs) sum += x;
    out.set(id, { median: median(xs), mad: mad(xs), n: xs.length, min: minOf(xs), mean: sum / xs.length });
  }
  return out;
}

/** Repeated async measurement (loopback rows): warmup, then n timed runs. */
export async function measureAsync(fn, { n = 20, warmup = 3 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const xs = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { median: median(xs), mad: mad(xs), n: xs.length, min: minOf(xs) };
}

/**
 * Profiling mode (bench/profile.mjs): instead of measuring, run only the task
 * `profile.id` in a plain loop for `profile.seconds` (its beforeEach too, so
 * the profile shows it; it is a restore copy, easy to discount). Other tasks
 * get NaN.
 */
function profileLoop(tasks, { id, seconds }) {
  const out = new Map(tasks.map((t) => [t.id, { median: NaN, mad: NaN, n: 0, min: NaN }]));
  const t = tasks.find((x) => x.id === id);
  if (!t) return out;
  t.beforeAll?.();
  const xs = [];
  const end = performance.now() + seconds * 1000;
  const w0 = Number(process.hrtime.bigint() / 1000n);
  globalThis.__benchProfileWindow = null;
  while (performance.now() < end) {
    t.beforeEach?.();
    const t0 = performance.now();
    t.fn();
    xs.push(performance.now() - t0);
  }
  globalThis.__benchProfileWindow = [w0, Number(process.hrtime.bigint() / 1000n)]; // µs, CLOCK_MONOTONIC like the profiler's
  out.set(id, { median: median(xs), mad: mad(xs), n: xs.length, min: minOf(xs) });
  return out;
}
