// Unit tests for the regression gate's comparison logic (bench/check.mjs),
// on synthetic results: no benchmark runs here.
import test from 'node:test';
import assert from 'node:assert/strict';
import { compareRows, gate, limitFor, medianOf, formatReport } from '../bench/check.mjs';

const doc = (rows, extra = {}) => ({ schema: 'wsframe-bench/1', quick: false, impl: { core: 'wsframe' }, ...extra, rows });
const row = (id, score, extra = {}) => ({ id, label: id, score, gated: true, ...extra });

const baseline = doc([
  row('w1.ours.view.64k', 1.20),
  row('w4.ours.client.frag', 1.40),
  row('w5.rt.ours-ours', 200, { noisy: true }),
  row('w6.mem.ours', 1.05),
  row('w1.ws.64k', 12.0, { gated: false }),
]);

/** A fake re-measure callback: replays queued scores per row and records calls. */
function fakeRemeasure(queue) {
  const calls = [];
  const fn = async (ids) => {
    calls.push([...ids]);
    return Object.fromEntries(ids.map((id) => [id, queue[id]?.shift()]).filter(([, v]) => v !== undefined));
  };
  return { fn, calls };
}

test('an unchanged run passes without re-measuring', async () => {
  const current = doc(baseline.rows.map((r) => ({ ...r })));
  const { fn, calls } = fakeRemeasure({});
  const res = await gate({ baseline, current, remeasure: fn });
  assert.equal(res.ok, true);
  assert.equal(calls.length, 0);
  assert.deepEqual(res.rows.map((r) => r.verdict), ['ok', 'ok', 'ok', 'ok']);
});

test('a regressed row fails after being re-measured', async () => {
  const current = doc([row('w1.ours.view.64k', 1.50), row('w4.ours.client.frag', 1.40), row('w5.rt.ours-ours', 200, { noisy: true }), row('w6.mem.ours', 1.05)]);
  const { fn, calls } = fakeRemeasure({ 'w1.ours.view.64k': [1.48, 1.52, 1.49] });
  const res = await gate({ baseline, current, remeasure: fn, threshold: 0.10, maxRemeasure: 3 });
  assert.equal(res.ok, false);
  assert.deepEqual(res.failed, ['w1.ours.view.64k']);
  const r = res.rows.find((x) => x.id === 'w1.ours.view.64k');
  assert.equal(r.verdict, 'regressed');
  // 2 of 3 planned re-measurements already agree → the third is skipped
  assert.equal(r.remeasured, 2);
  assert.deepEqual(calls, [['w1.ours.view.64k'], ['w1.ours.view.64k']]);
  assert.equal(r.current, medianOf([1.48, 1.52]));
  assert.match(formatReport(res), /FAIL — w1\.ours\.view\.64k/);
});

test('an improved row passes (and is not re-measured)', async () => {
  const current = doc([row('w1.ours.view.64k', 0.80), row('w4.ours.client.frag', 1.40), row('w5.rt.ours-ours', 190, { noisy: true }), row('w6.mem.ours', 1.05)]);
  const { fn, calls } = fakeRemeasure({});
  const res = await gate({ baseline, current, remeasure: fn });
  assert.equal(res.ok, true);
  assert.equal(calls.length, 0);
  assert.equal(res.rows.find((x) => x.id === 'w1.ours.view.64k').verdict, 'improved');
});

test('a noisy row is re-measured before a verdict, and passes when the spike does not repeat', async () => {
  const current = doc([row('w1.ours.view.64k', 1.21), row('w4.ours.client.frag', 2.10), row('w5.rt.ours-ours', 200, { noisy: true }), row('w6.mem.ours', 1.05)]);
  const { fn, calls } = fakeRemeasure({ 'w4.ours.client.frag': [1.41, 1.39, 1.45] });
  const pre = compareRows(baseline, current);
  assert.equal(pre.find((x) => x.id === 'w4.ours.client.frag').verdict, 'suspect', 'looks regressed on the first pass');
  const res = await gate({ baseline, current, remeasure: fn, maxRemeasure: 3 });
  assert.equal(calls.length, 2, 're-measured before the verdict (2 of 3 agree)');
  const r = res.rows.find((x) => x.id === 'w4.ours.client.frag');
  assert.equal(r.verdict, 'noise');
  assert.deepEqual(r.scores, [2.10, 1.41, 1.39]);
  assert.equal(r.current, medianOf([1.41, 1.39]), 'verdict from the fresh scores only');
  assert.equal(res.ok, true);
});

test('without a re-measure callback a suspect row is a regression', async () => {
  const current = doc([row('w1.ours.view.64k', 1.5), row('w4.ours.client.frag', 1.4), row('w5.rt.ours-ours', 200, { noisy: true }), row('w6.mem.ours', 1.05)]);
  const res = await gate({ baseline, current });
  assert.equal(res.ok, false);
  assert.equal(res.rows.find((x) => x.id === 'w1.ours.view.64k').verdict, 'regressed');
});

test('threshold is honoured: +9% passes at 10%, fails at 5%', async () => {
  const current = doc([row('w1.ours.view.64k', 1.20 * 1.09), row('w4.ours.client.frag', 1.40), row('w5.rt.ours-ours', 200, { noisy: true }), row('w6.mem.ours', 1.05)]);
  assert.equal((await gate({ baseline, current, threshold: 0.10 })).ok, true);
  const { fn } = fakeRemeasure({ 'w1.ours.view.64k': [1.31, 1.30, 1.31] });
  assert.equal((await gate({ baseline, current, threshold: 0.05, remeasure: fn })).ok, false);
});

test('noisy rows (loopback, cold start) use the looser noisy threshold', async () => {
  assert.equal(limitFor({ noisy: true }, { threshold: 0.1, noisyThreshold: 0.25 }), 0.25);
  assert.equal(limitFor({}, { threshold: 0.1, noisyThreshold: 0.25 }), 0.1);
  assert.equal(limitFor({ noisy: true, gateThreshold: 0.5 }, { threshold: 0.1, noisyThreshold: 0.25 }), 0.5, 'a row may carry its own floor');
  const current = doc([row('w1.ours.view.64k', 1.2), row('w4.ours.client.frag', 1.4), row('w5.rt.ours-ours', 240, { noisy: true }), row('w6.mem.ours', 1.05)]);
  const res = await gate({ baseline, current, threshold: 0.10, noisyThreshold: 0.25 });
  assert.equal(res.rows.find((x) => x.id === 'w5.rt.ours-ours').verdict, 'ok');
});

test('a gated row missing from the current run fails; reference rows are ignored; new rows are reported', async () => {
  const current = doc([row('w1.ours.view.64k', 1.2), row('w4.ours.client.frag', 1.4), row('w5.rt.ours-ours', 200, { noisy: true }), row('w9.ours.new', 3.0), row('w1.ws.64k', 99, { gated: false })]);
  const res = await gate({ baseline, current });
  assert.equal(res.ok, false);
  assert.deepEqual(res.failed, ['w6.mem.ours']);
  assert.equal(res.rows.find((x) => x.id === 'w9.ours.new').verdict, 'new');
  assert.equal(res.rows.some((x) => x.id === 'w1.ws.64k'), false, 'ws rows are references, not gated');
});

test('comparing a stub-core run with a real baseline warns', async () => {
  const current = doc(baseline.rows.map((r) => ({ ...r })), { impl: { core: 'stub' } });
  const res = await gate({ baseline, current });
  assert.equal(res.warnings.length, 1);
  assert.match(res.warnings[0], /not comparable/);
});

test('tiny scores: a relative jump below the absolute floor (minDelta) is not a change', async () => {
  const base = doc([row('w4.ours.server.one', 0.0004)]);
  const current = doc([row('w4.ours.server.one', 0.0009)]); // +125%, but 0.0005 × memcpy ≈ 150 ns
  const res = await gate({ baseline: base, current, minDelta: 0.01 });
  assert.equal(res.ok, true);
  assert.equal(res.rows[0].verdict, 'ok');
  const res2 = await gate({ baseline: base, current: doc([row('w4.ours.server.one', 0.05)]), minDelta: 0.01 });
  assert.equal(res2.ok, false);
});

test('a split re-measurement uses all planned rounds and the median of the fresh scores', async () => {
  const current = doc([row('w1.ours.view.64k', 1.6), row('w4.ours.client.frag', 1.4), row('w5.rt.ours-ours', 200, { noisy: true }), row('w6.mem.ours', 1.05)]);
  const { fn, calls } = fakeRemeasure({ 'w1.ours.view.64k': [1.5, 1.2, 1.25] });
  const res = await gate({ baseline, current, remeasure: fn, maxRemeasure: 3 });
  assert.equal(calls.length, 3);
  const r = res.rows.find((x) => x.id === 'w1.ours.view.64k');
  assert.equal(r.current, 1.25);
  assert.equal(r.verdict, 'noise');
  assert.equal(res.ok, true);
});

test('only the suspect rows are re-measured, together', async () => {
  const current = doc([row('w1.ours.view.64k', 1.6), row('w4.ours.client.frag', 2.0), row('w5.rt.ours-ours', 200, { noisy: true }), row('w6.mem.ours', 1.05)]);
  const { fn, calls } = fakeRemeasure({ 'w1.ours.view.64k': [1.6, 1.6], 'w4.ours.client.frag': [1.4, 1.4] });
  const res = await gate({ baseline, current, remeasure: fn, maxRemeasure: 3 });
  assert.deepEqual(calls[0], ['w1.ours.view.64k', 'w4.ours.client.frag']);
  assert.deepEqual(res.failed, ['w1.ours.view.64k']);
});

test('second yardstick: ×memcpy worse but ×ws unchanged is the machine, not the code', async () => {
  const base = doc([row('w3.ours.bin32', 18.0, { score2: 0.12 })]);
  const current = doc([row('w3.ours.bin32', 22.0, { score2: 0.12 })]); // +22% ×memcpy, ×ws flat
  const { fn, calls } = fakeRemeasure({});
  const res = await gate({ baseline: base, current, remeasure: fn });
  assert.equal(res.ok, true);
  assert.equal(calls.length, 0, 'not even re-measured');
  assert.equal(res.rows[0].verdict, 'unconfirmed');
  assert.match(formatReport(res), /machine, not code/);
});

test('second yardstick: both worse is a regression (after re-measuring both)', async () => {
  const base = doc([row('w3.ours.bin32', 18.0, { score2: 0.12 })]);
  const current = doc([row('w3.ours.bin32', 25.0, { score2: 0.17 })]);
  const { fn, calls } = fakeRemeasure({ 'w3.ours.bin32': [{ score: 24.0, score2: 0.16 }, { score: 24.5, score2: 0.165 }] });
  const res = await gate({ baseline: base, current, remeasure: fn });
  assert.equal(calls.length, 2);
  assert.equal(res.rows[0].verdict, 'regressed');
  assert.equal(res.rows[0].current2, medianOf([0.16, 0.165]));
  assert.equal(res.ok, false);
});

test('second yardstick: a re-measurement where only ×memcpy stays high clears the row', async () => {
  const base = doc([row('w1.ours.view.64k', 1.0, { score2: 0.12 })]);
  const current = doc([row('w1.ours.view.64k', 1.3, { score2: 0.15 })]);
  const { fn } = fakeRemeasure({ 'w1.ours.view.64k': [{ score: 1.3, score2: 0.121 }, { score: 1.28, score2: 0.119 }] });
  const res = await gate({ baseline: base, current, remeasure: fn });
  assert.equal(res.rows[0].verdict, 'noise');
  assert.equal(res.ok, true);
});

test('second yardstick: a large ×memcpy regression needs no confirmation (noisy ws cannot mask it)', async () => {
  const base = doc([row('w1.ours.view.64k', 1.0, { score2: 0.12 })]);
  const current = doc([row('w1.ours.view.64k', 1.5, { score2: 0.08 })]); // +50% > 3 × 10%, ws happened to be slow
  const { fn } = fakeRemeasure({ 'w1.ours.view.64k': [{ score: 1.45, score2: 0.07 }, { score: 1.52, score2: 0.09 }] });
  const res = await gate({ baseline: base, current, remeasure: fn });
  assert.equal(res.rows[0].verdict, 'regressed');
  assert.equal(res.ok, false);
});
