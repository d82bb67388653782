#!/usr/bin/env node
// Long-form fuzzer for the Decoder (issue #6).
//
//   npm run fuzz -- --iterations 200000 --seed 42        run (deterministic for a given seed)
//   npm run fuzz -- --replay fuzz-failures/<file>.json   re-run one saved failing input
//
// Options: --iterations N (default 20000)  --seed S (default random, printed)
//          --kind all|differential|mutation (default all)  --hang-ms T (default 20000)
//          --max-seconds N (stop early, still a pass if nothing failed)
//
// Each input is either a random frame sequence (valid and invalid mixed; checked against ws and the
// RFC model, whole and randomly chunked) or a mutated valid stream (bit flips, truncations,
// insertions…; also checked for prefix preservation and cross-decoder corruption).
// The loop runs in a worker; the main thread watches a progress counter in shared memory, so a
// hang or a crash of the worker (e.g. a WASM trap escaping, an abort) is caught too: the input in
// flight is written under fuzz-failures/ with a replay command and the process exits non-zero.
//
// Other builds: `npm run build:wasm:debug && WSFRAME_WASM=build/wsframe.debug.wasm npm run fuzz …`
// fuzzes the AssemblyScript build with runtime assertions on (a failed assertion or a WASM trap
// makes push() throw, which fails the input);
// WSFRAME_IMPL=<path/to/index.js> fuzzes another copy of dist/.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const HERE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(HERE), '../..');
const SAB_BYTES = 8 * 2 ** 20;

function parseArgs(argv) {
  const a = { iterations: 20000, seed: undefined, kind: 'all', hangMs: 20000, maxSeconds: 0, replay: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i];
    if (k === '--iterations' || k === '-n') a.iterations = Number(v());
    else if (k === '--seed') a.seed = Number(v()) | 0;
    else if (k === '--kind') a.kind = v();
    else if (k === '--hang-ms') a.hangMs = Number(v());
    else if (k === '--max-seconds') a.maxSeconds = Number(v());
    else if (k === '--replay') a.replay = v();
    else if (k === '--help' || k === '-h') a.help = true;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!Number.isFinite(a.iterations) || a.iterations < 1) throw new Error('--iterations must be a positive number');
  if (!['all', 'differential', 'mutation'].includes(a.kind)) throw new Error('--kind must be all|differential|mutation');
  a.seed ??= (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
  return a;
}

function save(tag, record) {
  const dir = path.join(ROOT, 'fuzz-failures');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${tag}-seed${record.seed}-${Date.now()}.json`);
  const rel = path.relative(ROOT, file);
  record.replay = `npm run fuzz -- --replay ${rel}`;
  writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
  return rel;
}

// ---------------------------------------------------------------------------------------------
// worker side

async function loadKit() {
  const fc = (await import('fast-check')).default;
  const frames = await import('../support/frames.mjs');
  const oracle = await import('../support/oracle.mjs');
  const mutation = await import('../support/mutation.mjs');
  const mod = await oracle.loadOurs();
  return { fc, frames, oracle, mutation, mod };
}

function checkOne(kit, input, tally) {
  const { frames, oracle, mutation, mod } = kit;
  if (input.kind === 'mutation') return mutation.checkMutated(mod, input.c, tally);
  const c = input.c;
  oracle.differentialCheck(mod, c, tally);
  const cuts = input.cuts.map((x) => x % (c.bytes.length + 1));
  const o = { role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments };
  const whole = oracle.runOurs(mod, [c.bytes], o).events;
  const chunked = oracle.runOurs(mod, frames.splitAt(c.bytes, cuts), o).events;
  if (JSON.stringify(whole) !== JSON.stringify(chunked)) {
    throw new Error(`chunked decode differs (cuts ${JSON.stringify(cuts)})\nwhole:\n${oracle.formatEvents(whole)}\nchunked:\n${oracle.formatEvents(chunked)}`);
  }
}

function recordOf(kit, input) {
  const hex = kit.frames.hex;
  if (input.kind === 'mutation') return { kind: 'mutation', ...kit.mutation.mutatedRecord(input.c) };
  const c = input.c;
  return { kind: 'differential', role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments, cuts: input.cuts, hex: hex(c.bytes) };
}

async function workerMain() {
  const { args, sab } = workerData;
  const ctrl = new Int32Array(sab, 0, 4); // [0] inputs started, [1] length of input in flight
  const buf = new Uint8Array(sab, 16);
  const kit = await loadKit();
  const { fc, frames, mutation } = kit;
  const arbDiff = fc.tuple(frames.arbCase(), fc.array(fc.nat(), { maxLength: 8 })).map(([c, cuts]) => ({ kind: 'differential', c, cuts }));
  const arbMut = mutation.arbMutated.map((c) => ({ kind: 'mutation', c }));
  const arb = args.kind === 'differential' ? arbDiff : args.kind === 'mutation' ? arbMut : fc.oneof(arbDiff, arbMut);
  const tally = {};
  let started = 0;
  const t0 = Date.now();
  const step = Math.max(1, Math.floor(args.iterations / 20));
  const details = fc.check(
    fc.property(arb, (input) => {
      started++;
      const rec = JSON.stringify(recordOf(kit, input));
      const enc = new TextEncoder().encode(rec);
      const n = Math.min(enc.length, buf.length);
      buf.set(enc.subarray(0, n));
      Atomics.store(ctrl, 1, n);
      Atomics.add(ctrl, 0, 1);
      if (started % step === 0) parentPort.postMessage({ type: 'progress', started, elapsed: Date.now() - t0 });
      checkOne(kit, input, tally);
    }),
    {
      seed: args.seed,
      numRuns: args.iterations,
      ...(args.maxSeconds > 0 ? { interruptAfterTimeLimit: args.maxSeconds * 1000, markInterruptAsFailure: false } : {}),
    },
  );
  const result = { type: 'done', numRuns: details.numRuns, interrupted: details.interrupted, started, tally, elapsed: Date.now() - t0 };
  if (details.failed) {
    const input = details.counterexample[0];
    result.failure = {
      seed: details.seed,
      path: details.counterexamplePath,
      shrinks: details.numShrinks,
      error: String(details.errorInstance?.stack ?? details.errorInstance ?? details.error),
      ...recordOf(kit, input),
      describe: input.kind === 'mutation' ? mutation.describeMutated(input.c) : `options ${JSON.stringify({ role: input.c.role, maxMessageSize: input.c.maxMessageSize, maxFragments: input.c.maxFragments })} cuts ${JSON.stringify(input.cuts)}\nbytes (${input.c.bytes.length}) ${frames.hex(input.c.bytes, 4096)}`,
    };
  }
  parentPort.postMessage(result);
}

// ---------------------------------------------------------------------------------------------
// replay

async function replay(file) {
  const rec = JSON.parse(readFileSync(path.resolve(file), 'utf8'));
  const kit = await loadKit();
  const { frames } = kit;
  const c = { role: rec.role, maxMessageSize: rec.maxMessageSize, maxFragments: rec.maxFragments, bytes: frames.fromHex(rec.hex) };
  console.log(`replaying ${file}: kind ${rec.kind}, ${c.bytes.length} bytes, options ${JSON.stringify({ role: c.role, maxMessageSize: c.maxMessageSize, maxFragments: c.maxFragments })}`);
  let input;
  if (rec.kind === 'mutation') input = { kind: 'mutation', c: { ...c, clean: frames.fromHex(rec.clean), at: rec.at, cuts: rec.cuts ?? [], muts: rec.muts } };
  else input = { kind: 'differential', c, cuts: rec.cuts ?? [] };
  try {
    checkOne(kit, input, {});
    console.log('PASS (the saved input no longer fails)');
    return 0;
  } catch (e) {
    console.log(`FAIL\n${e.stack ?? e}`);
    return 1;
  }
}

// ---------------------------------------------------------------------------------------------
// main side

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(String(e.message));
    return 2;
  }
  if (args.help) {
    const lines = readFileSync(HERE, 'utf8').split('\n');
    console.log(lines.slice(1, lines.findIndex((l) => l.startsWith('import'))).map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    return 0;
  }
  if (args.replay) return replay(args.replay);

  console.log(`wsframe fuzz: ${args.iterations} inputs, seed ${args.seed}, kind ${args.kind} (replay this run: npm run fuzz -- --iterations ${args.iterations} --seed ${args.seed}${args.kind !== 'all' ? ` --kind ${args.kind}` : ''})`);
  const sab = new SharedArrayBuffer(16 + SAB_BYTES);
  const ctrl = new Int32Array(sab, 0, 4);
  const buf = new Uint8Array(sab, 16);
  const inFlight = () => {
    const n = Atomics.load(ctrl, 1);
    try {
      return JSON.parse(new TextDecoder().decode(buf.slice(0, n)));
    } catch {
      return { note: 'input too large to capture', partial: new TextDecoder().decode(buf.slice(0, 2000)) };
    }
  };
  const worker = new Worker(HERE, { workerData: { args, sab }, resourceLimits: { maxOldGenerationSizeMb: 2048 } });
  return await new Promise((resolve) => {
    let finished = false;
    let last = -1;
    let lastChange = Date.now();
    const finish = (code) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      resolve(code);
    };
    const timer = setInterval(() => {
      const now = Atomics.load(ctrl, 0);
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > args.hangMs) {
        const rel = save('hang', { seed: args.seed, note: `no progress for ${args.hangMs} ms (input #${now})`, ...inFlight() });
        console.error(`HANG: input #${now} made no progress for ${args.hangMs} ms\nsaved: ${rel}\nreplay: npm run fuzz -- --replay ${rel}`);
        worker.terminate();
        finish(3);
      }
    }, 250);
    worker.on('message', (m) => {
      if (m.type === 'progress') {
        console.log(`  ${m.started} inputs, ${(m.elapsed / 1000).toFixed(1)} s, ${Math.round((m.started * 1000) / Math.max(1, m.elapsed))}/s`);
        return;
      }
      if (m.type !== 'done') return;
      const secs = (m.elapsed / 1000).toFixed(1);
      if (m.failure) {
        const f = m.failure;
        const rel = save(f.kind, { ...f });
        console.error(
          `FAIL after ${m.numRuns} inputs (${secs} s), shrunk ${f.shrinks}×\n${f.describe}\n${f.error}\n\n` +
            `saved: ${rel}\nreplay the input: npm run fuzz -- --replay ${rel}\n` +
            `replay the run:   npm run fuzz -- --iterations ${args.iterations} --seed ${f.seed}${args.kind !== 'all' ? ` --kind ${args.kind}` : ''}  (fast-check path ${f.path})`,
        );
        finish(1);
      } else {
        console.log(`OK: ${m.numRuns} inputs${m.interrupted ? ' (time limit reached)' : ''} in ${secs} s, seed ${args.seed}\noutcomes ${JSON.stringify(m.tally)}`);
        finish(0);
      }
    });
    worker.on('error', (e) => {
      const rel = save('crash', { seed: args.seed, error: String(e?.stack ?? e), ...inFlight() });
      console.error(`CRASH in the fuzz worker at input #${Atomics.load(ctrl, 0)}: ${e?.stack ?? e}\nsaved: ${rel}\nreplay: npm run fuzz -- --replay ${rel}`);
      finish(1);
    });
    worker.on('exit', (code) => {
      if (finished) return;
      const rel = save('crash', { seed: args.seed, error: `worker exited with code ${code}`, ...inFlight() });
      console.error(`CRASH: fuzz worker exited with code ${code} at input #${Atomics.load(ctrl, 0)}\nsaved: ${rel}\nreplay: npm run fuzz -- --replay ${rel}`);
      finish(1);
    });
  });
}

if (isMainThread) {
  process.exitCode = await main();
} else {
  await workerMain();
}
