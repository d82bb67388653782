// memory.grow() detaches views of the old buffer: the decoder must rebuild its
// views after any growth, and what it hands out must be correct on both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decoder, Encoder } from 'wsframe';

const concat = (chunks) => Buffer.concat(chunks);

test('messages before, during and after a growth in one chunk are all correct', () => {
  const e = new Encoder({ role: 'client' });
  const before = Decoder.memoryBytes();
  const size = before + (1 << 20); // cannot fit in the current memory: certainly forces growth
  const big = Buffer.alloc(size, 'growth pattern 0123456789');
  const wire = concat([...e.message('first'), ...e.message(big, { fragmentSize: 1 << 20 }), ...e.message('last')]);
  const got = [];
  const d = new Decoder({
    role: 'server',
    maxMessageSize: size,
    onMessage: (data) => {
      assert.ok(Decoder.isDecoderMemory(data), 'payloads are views of WebAssembly memory');
      got.push(data.length === size ? Buffer.from(data).equals(Buffer.from(big)) : Buffer.from(data).toString());
    },
  });
  d.push(wire);
  assert.ok(Decoder.memoryBytes() > before, 'memory grew');
  assert.deepEqual(got, ['first', true, 'last']);
  d.destroy();
});

test('a view taken before a growth is detached after it; views taken after it are valid', () => {
  const e = new Encoder({ role: 'client' });
  let early;
  let late;
  const other = new Decoder({ role: 'server', maxMessageSize: 1 << 30, onMessage: () => {} });
  const d = new Decoder({
    role: 'server',
    onMessage: (data) => {
      if (early === undefined) {
        early = data;
        assert.equal(Buffer.from(data).toString(), 'before');
        // A push into another decoder from inside a handler may grow memory.
        const grow = Decoder.memoryBytes() + (1 << 20);
        other.push(concat(e.message(new Uint8Array(grow), { fragmentSize: 1 << 20 })));
      } else {
        late = data;
        assert.equal(Buffer.from(data).toString(), 'after');
      }
    },
  });
  d.push(concat([...e.message('before'), ...e.message('after')]));
  assert.equal(early.byteLength, 0, 'the early view was detached by memory.grow()');
  assert.equal(Buffer.from(late).toString(), 'after', 'a later view is still readable until memory grows again');
  d.destroy();
  other.destroy();
});

test('data.slice() keeps a copy that outlives the handler and any growth', () => {
  const e = new Encoder({ role: 'client' });
  const kept = [];
  const d = new Decoder({ role: 'server', maxMessageSize: 1 << 30, onMessage: (data) => kept.push(data.slice()) });
  d.push(concat(e.message('keep me')));
  const before = Decoder.memoryBytes();
  d.push(concat(e.message(new Uint8Array(before + (1 << 20)), { fragmentSize: 1 << 20 })));
  assert.ok(Decoder.memoryBytes() > before, 'memory grew');
  assert.equal(Buffer.from(kept[0]).toString(), 'keep me');
  assert.equal(Decoder.isDecoderMemory(kept[0]), false);
  d.destroy();
});

test('a handler pushing into its own decoder is queued in wire order', () => {
  const e = new Encoder({ role: 'client' });
  const seen = [];
  const d = new Decoder({
    role: 'server',
    onMessage: (data) => {
      const s = Buffer.from(data).toString();
      seen.push(s);
      if (s === 'a') d.push(concat(e.message('c')));
    },
  });
  d.push(concat([...e.message('a'), ...e.message('b')]));
  assert.deepEqual(seen, ['a', 'b', 'c']);
  d.destroy();
});

test('destroy() from inside a handler stops delivery and frees the decoder', () => {
  const e = new Encoder({ role: 'client' });
  const seen = [];
  const d = new Decoder({ role: 'server', onMessage: (data) => { seen.push(Buffer.from(data).toString()); d.destroy(); } });
  d.push(concat([...e.message('x'), ...e.message('y')]));
  assert.deepEqual(seen, ['x']);
  assert.equal(d.state, 'destroyed');
});
