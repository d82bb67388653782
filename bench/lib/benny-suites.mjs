// benny suites for people who want to look rather than read: the headline
// decode and encode comparisons saved as JSON + an HTML chart under
// bench/results/ (gitignored). The table's numbers come from tinybench
// (interleaved medians); these charts are an independent second opinion in
// ops/s, wall clock, each case in a tight loop — so cases that allocate a fresh
// 4 MiB per operation (ws's fragment concat, client-role encode output) pay
// this VM's page-fault cost in full and look worse than in the table. ws
// unmasks its input in place; for binary data that only toggles the payload
// between two valid states, so no restore is needed here.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { KiB, REF_SIZE, REF_FRAGMENT, chunk, randomBytes } from './streams.mjs';
import { refStream, memcpyTask } from './micro.mjs';

const require = createRequire(import.meta.url);
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export async function runBenny(ctx) {
  const b = require('benny');
  const { Receiver, Sender } = require('ws');
  const { stream } = refStream();
  const cases = { minSamples: 5, maxTime: ctx.quick ? 0.3 : 0.8, initCount: 1 };
  const save = (file) => [b.save({ file, folder: RESULTS_DIR, format: 'json', details: true }), b.save({ file, folder: RESULTS_DIR, format: 'chart.html' })];
  const oursLbl = ctx.coreLabel;
  const log = console.log;
  console.log = (...a) => console.error(...a); // keep stdout for the table
  try {
    const memcpy = memcpyTask(); // the same DRAM-bound calibrator as the table
    memcpy.beforeAll();
    const ourChunks = chunk(stream.slice(), 64 * KiB);
    const wsChunks = chunk(stream.slice(), 64 * KiB).map((c) => Buffer.from(c.buffer, c.byteOffset, c.length));
    let n = 0;
    const d = new ctx.impl.Decoder({ role: 'server', maxMessageSize: 64 * 2 ** 20, onMessage() { n++; }, onError(e) { throw e; } });
    const r = new Receiver({ isServer: true, maxPayload: 0, binaryType: 'nodebuffer' });
    r.on('message', () => { n++; });
    await b.suite('decode reference case (4 MiB, 4096 x 1 KiB masked fragments, 64 KiB chunks)',
      b.configure({ cases }),
      b.add('memcpy 4 MiB (DRAM-bound calibrator)', memcpy.fn),
      b.add(`${oursLbl} Decoder (view)`, () => { for (const c of ourChunks) d.push(c); }),
      b.add('ws Receiver + bufferutil', () => { for (const c of wsChunks) r.write(c); }),
      b.cycle(() => undefined),
      b.complete(() => undefined),
      ...save('decode-ref'),
    );
    const enc = new ctx.impl.Encoder({ role: 'client' });
    const payload = Buffer.from(randomBytes(REF_SIZE, 77));
    await b.suite('encode 4 MiB as 4096 x 1 KiB fragments, client role (masked)',
      b.configure({ cases }),
      b.add('memcpy 4 MiB (DRAM-bound calibrator)', memcpy.fn),
      b.add(`${oursLbl} Encoder`, () => { enc.message(payload, { binary: true, fragmentSize: REF_FRAGMENT }); }),
      b.add('ws Sender.frame (readOnly:false) + bufferutil', () => {
        for (let i = 0; i < 4096; i++) Sender.frame(payload.subarray(i * REF_FRAGMENT, (i + 1) * REF_FRAGMENT), { fin: i === 4095, opcode: i ? 0 : 2, mask: true, readOnly: false, rsv1: false });
      }),
      b.cycle(() => undefined),
      b.complete(() => undefined),
      ...save('encode-ref-client'),
    );
    d.destroy();
    if (n === 0) throw new Error('benny: no messages decoded');
  } finally {
    console.log = log;
  }
  return [`${RESULTS_DIR}decode-ref.{json,chart.html}`, `${RESULTS_DIR}encode-ref-client.{json,chart.html}`];
}
