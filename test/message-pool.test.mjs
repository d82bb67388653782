// The message pool's hold on idle buffers (core/message-pool.ts), in a child
// process with --expose-gc (test/support/pool-strong-child.mjs): large idle
// buffers within the recycling decoders' shares survive garbage collections
// (a busy server's own traffic causes them; with WeakRefs alone, every one
// dropped the pool and the next messages faulted fresh buffers in), while
// small ones, those past the shares, and those idle through two aging
// periods are left to the collector; and a message with no size hint takes
// an idle large buffer rather than a fresh doubling run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MiB = 2 ** 20;

test('the pool holds the decoders\' shares of large idle buffers through GC, and lets go of the rest', () => {
  const child = fileURLToPath(new URL('./support/pool-strong-child.mjs', import.meta.url));
  const r = spawnSync(process.execPath, ['--expose-gc', child], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `child failed (${r.status} ${r.signal})\n${r.stdout}\n${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
  // 4 decoders finished 4 MiB messages: their buffers idle, strongly held, alive after a GC
  assert.ok(out.afterBig.strongBuffers >= 4, JSON.stringify(out.afterBig));
  assert.equal(out.bigAliveAfterGc, 4, 'idle 4 MiB buffers within the shares were collected');
  // no size hint: an idle large buffer, not a fresh 64 KiB one grown by doubling to the message's 200,000 bytes
  assert.ok(out.noHintBytesOk);
  assert.ok(out.noHintBuffer >= MiB, `a message with no hint got a ${out.noHintBuffer}-byte buffer`);
  // small buffers: weak from the start
  assert.equal(out.smallStrongAdded, 0);
  assert.equal(out.smallAliveAfterGc, 0, 'idle 256 KiB buffers outlived a GC');
  // 4 decoders alive: shares of 8 buffers / 32 MiB; twelve more 4 MiB buffers, only the shares survive a GC
  assert.equal(out.withExtra.strongBuffers, 8);
  assert.equal(out.withExtra.strongBytes, 32 * MiB);
  assert.equal(out.extraAliveAfterGc, 8, 'exactly the strong shares survive');
  // aging: one period keeps them, the second demotes them, a GC takes them
  assert.equal(out.afterOnePeriod.strongBuffers, 8);
  assert.equal(out.afterTwoPeriods.strongBuffers, 0);
  assert.equal(out.bigAliveAfterAging, 0, 'buffers idle through two periods outlived a GC');
  // decoders gone: the caps fall to the base, nothing strong
  assert.equal(out.afterDestroy.strongBuffers, 0);
  assert.ok(out.afterDestroy.buffers <= 16);
});
