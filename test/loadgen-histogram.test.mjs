// wsframe-bench's latency histogram (codec/loadgen/histogram.ts): exact below
// 2048 µs, within 1/1024 above; percentiles never optimistic; merging adds counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram } from '../dist/loadgen/histogram.js';

test('exact below 2048 µs: percentiles of 1..1000 are the ranks', () => {
  const h = new Histogram();
  for (let v = 1000; v >= 1; v--) h.record(v);
  assert.equal(h.count, 1000);
  assert.equal(h.percentile(50), 500);
  assert.equal(h.percentile(90), 900);
  assert.equal(h.percentile(99), 990);
  assert.equal(h.percentile(100), 1000);
  assert.equal(h.min, 1);
  assert.equal(h.max, 1000);
  assert.equal(h.mean(), 500.5);
});

test('log-linear above 2048 µs: each percentile within 0.1 % above the true value, never below', () => {
  const h = new Histogram();
  const values = [];
  for (let i = 0; i < 20_000; i++) values.push(2048 + Math.floor((i * 7919) % 5_000_000));
  for (const v of values) h.record(v);
  values.sort((a, b) => a - b);
  for (const p of [1, 10, 50, 90, 99, 99.9]) {
    const exact = values[Math.ceil((p / 100) * values.length) - 1];
    const got = h.percentile(p);
    assert.ok(got >= exact && got <= exact * (1 + 1 / 1024), `p${p}: ${got} vs ${exact}`);
  }
  assert.equal(h.percentile(100), values.at(-1), 'the top is the exact max');
  assert.equal(h.buckets().reduce((n, [, c]) => n + c, 0), values.length);
  for (const [low] of h.buckets()) assert.ok(low <= values.at(-1) && low >= 2048);
});

test('merging histograms equals recording everything in one; sub-µs and negative values count as 0', () => {
  const a = new Histogram(), b = new Histogram(), all = new Histogram();
  for (let i = 0; i < 5000; i++) {
    const v = (i * 104729) % 3_000_000;
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  a.add(b);
  assert.deepEqual(a.buckets(), all.buckets());
  assert.equal(a.count, all.count);
  assert.equal(a.max, all.max);
  assert.equal(a.min, all.min);
  const z = new Histogram();
  z.record(-5);
  z.record(0.4);
  assert.equal(z.max, 0);
  assert.equal(z.percentile(50), 0);
  assert.equal(new Histogram().percentile(99), 0, 'empty: 0');
});
