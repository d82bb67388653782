// Child process for workload 6 (cold start):  node cold-child.mjs ours|ws
// Ours imports the codec entry, 'wsframe/codec' (WSFRAME_COLD_ENTRY=wsframe for the full package).
// Prints JSON { ms, cpuMs }: wall (and process CPU) time from just before importing the codec to the first
// decoded message (import, WASM compile/instantiate, Decoder construction,
// one push of a small masked frame), in a fresh process.
const which = process.argv[2];
// a 5-byte masked binary frame "hello", built before the clock starts
const key = [0x37, 0xfa, 0x21, 0x3d];
const frame = new Uint8Array([0x82, 0x85, ...key, ...[104, 101, 108, 108, 111].map((b, i) => b ^ key[i & 3])]);
const stub = process.env.WSFRAME_BENCH_IMPL === 'stub';
const c0 = process.cpuUsage();
const t0 = performance.now();
let t1 = 0, got = null, c1 = null;
if (which === 'ours') {
  const { Decoder } = await import(stub ? './stub-codec.mjs' : process.env.WSFRAME_COLD_ENTRY ?? 'wsframe/codec');
  const d = new Decoder({ role: 'server', maxMessageSize: 1 << 20, onMessage(data) { t1 = performance.now(); c1 = process.cpuUsage(c0); got = data.length; } });
  d.push(frame);
} else {
  const { createRequire } = await import('node:module'); // already loaded by Node itself
  const { Receiver } = createRequire(import.meta.url)('ws');
  const r = new Receiver({ isServer: true, maxPayload: 0, binaryType: 'nodebuffer' });
  r.on('message', (data) => { t1 = performance.now(); c1 = process.cpuUsage(c0); got = data.length; });
  r.write(Buffer.from(frame));
}
if (got !== 5) throw new Error(`cold start: first message not delivered synchronously (${got})`);
process.stdout.write(JSON.stringify({ ms: t1 - t0, cpuMs: (c1.user + c1.system) / 1000, sinceProcessStart: t1 }) + '\n');
