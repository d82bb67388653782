// Rows measured in child processes: ws without bufferutil, workload 6 memory
// (fresh process, --expose-gc) and cold start (fresh process per sample).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median, mad, measureInterleaved } from './measure.mjs';
import { memcpyTask } from './micro.mjs';
import { REF_SIZE } from './streams.mjs';

const run = promisify(execFile);
const here = (f) => fileURLToPath(new URL(f, import.meta.url));

async function child(args, env = {}) {
  const { stdout } = await run(process.execPath, args, {
    env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 16 * 2 ** 20,
  });
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]);
}

export async function wsNoBufferutilRows(ctx) {
  const rows = await child([here('./nobu-child.mjs'), JSON.stringify(ctx.micro)], { WS_NO_BUFFER_UTIL: '1' });
  for (const r of rows) r.note = [r.note, 'child process, own memcpy'].filter(Boolean).join('; ');
  return rows;
}

export async function w6mem(ctx) {
  const env = { WSFRAME_BENCH_IMPL: ctx.impl.which };
  const rows = [];
  for (const [who, label] of [['ours', `peak memory decoding ref, × message size (${ctx.coreLabel})`], ['ws', 'peak memory decoding ref, × message size (ws)']]) {
    // memory is near-deterministic; take the median of 3 fresh processes (1 with --quick)
    const rs = [];
    for (let i = 0; i < (ctx.quick ? 1 : 3); i++) rs.push(await child(['--expose-gc', here('./mem-child.mjs'), who], env));
    const ratio = median(rs.map((r) => r.ratio));
    const r0 = rs[0];
    rows.push({
      id: `w6.mem.${who}`, group: 'w6', label, impl: who === 'ours' ? ctx.coreName : 'ws', kind: 'mem',
      value: ratio, samples: rs.length,
      targets: who === 'ours' ? [{ memRatio: 1.25 }] : [], gated: who === 'ours',
      note: `floor ${(r0.floor / 2 ** 20).toFixed(1)} MiB, peak +${((r0.peak - r0.floor) / 2 ** 20).toFixed(2)} MiB` + (who === 'ours' ? `, WASM ${(r0.wasmBefore / 2 ** 20).toFixed(2)}→${(r0.wasmAfter / 2 ** 20).toFixed(2)} MiB` : ''),
    });
  }
  return rows;
}

export async function w6cold(ctx) {
  const env = { WSFRAME_BENCH_IMPL: ctx.coreName === 'stub' ? 'stub' : 'dist' };
  const n = ctx.quick ? 3 : 7;
  // 'full': the same child importing the whole package, 'wsframe' (informational row)
  const full = ctx.coreName !== 'stub';
  const xs = { ours: [], ws: [], full: [] }, cpu = { ours: [], ws: [], full: [] };
  for (let i = 0; i < n; i++) {
    for (const who of i % 2 ? ['ws', 'ours', 'full'] : ['full', 'ours', 'ws']) {
      if (who === 'full' && !full) continue;
      const r = await child([here('./cold-child.mjs'), who === 'full' ? 'ours' : who], who === 'full' ? { ...env, WSFRAME_COLD_ENTRY: 'wsframe' } : env);
      xs[who].push(r.ms); cpu[who].push(r.cpuMs);
    }
  }
  const m = await measureInterleaved([memcpyTask()], { ...ctx.micro, rounds: 1 });
  const memcpyMs = m.get('memcpy').median;
  // gate score: our CPU time to the first message ÷ ws's, measured alternately
  const score = median(cpu.ours) / median(cpu.ws);
  return [
    { score, scoreBasis: 'CPU ÷ ws CPU', gateThreshold: 0.5, id: 'w6.cold.ours', group: 'w6', label: `cold start: import 'wsframe/codec' → first message (${ctx.coreLabel})`, impl: ctx.coreName, kind: 'cold', medianMs: median(xs.ours), madMs: mad(xs.ours), cpuMs: median(cpu.ours), samples: n, memcpyMs, vs: 'w6.cold.ws', targets: [{ maxMs: 20 }], gated: true, noisy: true, note: `CPU ${median(cpu.ours).toFixed(1)} ms` },
    ...(full ? [{ score: median(cpu.full) / median(cpu.ws), scoreBasis: 'CPU ÷ ws CPU', gateThreshold: 0.5, id: 'w6.cold.full', group: 'w6', label: `cold start: import 'wsframe' (the whole package) → first message`, impl: ctx.coreName, kind: 'cold', medianMs: median(xs.full), madMs: mad(xs.full), cpuMs: median(cpu.full), samples: n, memcpyMs, vs: 'w6.cold.ws', targets: [{ maxMs: 20 }], gated: true, noisy: true, note: `CPU ${median(cpu.full).toFixed(1)} ms` }] : []),
    { id: 'w6.cold.ws', group: 'w6', label: 'cold start: import → first message (ws Receiver)', impl: 'ws', kind: 'cold', medianMs: median(xs.ws), madMs: mad(xs.ws), cpuMs: median(cpu.ws), samples: n, memcpyMs, targets: [], gated: false, noisy: true, note: `CPU ${median(cpu.ws).toFixed(1)} ms` },
  ];
}
