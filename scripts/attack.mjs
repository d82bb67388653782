#!/usr/bin/env node
// Hostile-peer scenarios at full size, wsframe and ws side by side (issue 10).
//
//   npm run attack                          all scenarios, both libraries
//   npm run attack -- --only pingFlood      one scenario (comma-separated list for several)
//   npm run attack -- --impl wsframe        one library
//   npm run attack -- --quick               every scenario at a tenth of its size
//   npm run attack -- --max-seconds 30      bound on each scenario run's traffic phase
//
// Scenarios: drain (server sends 20,000 x 100 B and 20,000 x 3,000 B to a client
//   that reads after 1.5 s, waiting whenever told to), pipelining (100,000 x 32 B
//   frames in one write to `npm run echo` / a ws echo server), pingFlood (8 s of
//   125 B pings from a peer that never reads, then a reset), exhaustion (60 peers x
//   63 MiB unfinished messages), memoryReturn (8 x 60 MiB unfinished, then every
//   peer resets), manyConnections (10,000 connections idle, then 10 echoes each).
// Every server runs in its own child process; memory figures are its RSS.
// Needs `npm run build` first (the wsframe side runs dist/).
import { SCENARIOS } from './attack/scenarios.mjs';
import { MiB, KiB } from './attack/peer.mjs';

function parseArgs(argv) {
  const args = { only: Object.keys(SCENARIOS), impl: ['wsframe', 'ws'], quick: false, maxSeconds: 60 };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    const value = () => argv[++i];
    if (key === '--only') args.only = value().split(',');
    else if (key === '--impl') args.impl = value().split(',');
    else if (key === '--quick') args.quick = true;
    else if (key === '--max-seconds') args.maxSeconds = Number(value());
    else if (key === '--help' || key === '-h') args.help = true;
    else throw new Error(`unknown argument ${key}`);
  }
  for (const name of args.only) if (!(name in SCENARIOS)) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(', ')}`);
  return args;
}

const mib = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : `${(bytes / MiB).toFixed(1)} MiB`);
const kib = (bytes) => `${(bytes / KiB).toFixed(1)} KiB`;

/** Each scenario's runs (parameters at full size) and how to print one result. */
function plan(args) {
  const scale = args.quick ? 0.1 : 1;
  const maxMs = args.maxSeconds * 1000;
  return {
    drain: {
      runs: [{ count: 20_000, size: 100, maxMs }, { count: 20_000, size: 3000, maxMs }],
      show: (r, p) => `${p.size} B: delivered ${r.delivered}/${r.count} in ${r.ms} ms; false ${r.falses}x, 'drain' ${r.drains}x${r.warnings.length ? `; warnings: ${r.warnings.join('; ')}` : ''}`,
    },
    pipelining: {
      runs: [{ count: Math.round(100_000 * scale), maxMs }],
      show: (r) => `${r.server}: echoed ${r.echoed}/${r.count} in ${r.ms} ms`,
    },
    pingFlood: {
      runs: [{ seconds: Math.min(8, args.maxSeconds) * (args.quick ? 0.25 : 1) }],
      show: (r) => `${r.pingsSent} pings taken; server grew ${mib(r.growthPeak)} at peak, ${mib(r.growthAfterReset)} after the reset; output buffered ${kib(r.serverOutputBuffered ?? 0)}; server closed it: ${r.serverClosedConnection}; alive: ${r.serverAlive}`,
    },
    exhaustion: {
      runs: [{ peers: Math.max(2, Math.round(60 * scale)), size: 63 * MiB, maxMs }],
      show: (r) => `${r.peers} peers sent ${r.sentMiB} MiB; refused ${r.peersRefused} (${JSON.stringify(r.closeCodes)}); server alive: ${r.serverAlive}${r.serverExit ? ` (exit ${r.serverExit.code ?? r.serverExit.signal}: ${r.serverExit.stderr})` : ''}; peak growth ${mib(r.peakGrowth)}; after reset ${mib(r.afterResetGrowth)}`,
    },
    memoryReturn: {
      runs: [{ peers: 8, size: Math.round(60 * scale) * MiB, maxMs }],
      show: (r) => `${r.peers} x ${r.sizeMiB} MiB: RSS ${mib(r.rssBefore)} -> peak ${mib(r.rssPeak)} -> after reset ${mib(r.rssAfterReset)} (kept ${mib(r.kept)}; wasm ${mib(r.wasmAfterReset)}); refused ${r.peersRefused}; alive: ${r.serverAlive}`,
    },
    manyConnections: {
      runs: [{ connections: Math.round(10_000 * scale), maxMs: Math.max(maxMs, 120_000) }],
      show: (r) => `${r.connections} connections: ${kib(r.idlePerConnection)} RSS/conn idle, ${kib(r.trafficPerConnection)} after ${r.echoesComplete} echo bursts (heap ${kib(r.idleHeapPerConnection)} -> ${kib(r.trafficHeapPerConnection)}/conn)`,
    },
  };
}

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  console.log('usage: npm run attack -- [--only ' + Object.keys(SCENARIOS).join('|') + '] [--impl wsframe,ws] [--quick] [--max-seconds N]');
  process.exit(0);
}
const plans = plan(args);
let failures = 0;
for (const name of args.only) {
  console.log(`\n== ${name}`);
  for (const params of plans[name].runs) {
    for (const impl of args.impl) {
      try {
        const result = await SCENARIOS[name](impl, params);
        console.log(`  ${impl.padEnd(8)} ${plans[name].show(result, params)}`);
        if (process.env.ATTACK_JSON) console.log(JSON.stringify({ name, impl, params, result }));
      } catch (error) {
        failures++;
        console.log(`  ${impl.padEnd(8)} failed: ${error.stack ?? error}`);
      }
    }
  }
}
process.exit(failures === 0 ? 0 : 1);
